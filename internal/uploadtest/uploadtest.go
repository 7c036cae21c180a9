// Package uploadtest holds what the upload tests of the customer and agent
// APIs share: the reading of a multipart body that their fuzz targets
// compare the stored file with.
package uploadtest

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
)

// FirstFilePart returns the content of the first part with a file name, as
// a request's own multipart reader finds it (which takes multipart/mixed
// too).
func FirstFilePart(contentType string, body []byte) ([]byte, bool) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != "multipart/form-data" && mt != "multipart/mixed") || params["boundary"] == "" {
		return nil, false
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, false
		}
		if p.FileName() != "" {
			data, err := io.ReadAll(p)
			return data, err == nil
		}
	}
}
