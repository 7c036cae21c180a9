package agentapi_test

import (
	"bytes"
	"io/fs"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/agentapi"
	"github.com/parley-chat/parley/internal/uploadtest"
)

// FuzzAgentUpload posts a body with its Content-Type as alice's upload of a
// file for a chat (POST files) or of her profile photo (PUT me/photo). An
// upload either fails with a 4xx, leaving nothing on disk and her photo as
// it was, or stores the bytes of the first file part, which she can
// download again. Seeds are in testdata/fuzz/FuzzAgentUpload.
func FuzzAgentUpload(f *testing.F) {
	base := startEnv(f)
	var alice1 *agent
	f.Fuzz(func(t *testing.T, contentType string, body []byte, photo bool) {
		e := base.in(t)
		if alice1 == nil {
			alice1 = e.login(alice)
		}
		a := alice1.in(t)
		method, path := "POST", "files"
		if photo {
			method, path = "PUT", "me/photo"
		}
		before := e.agentNamed(alice)
		header := http.Header{"Authorization": {"Bearer " + a.token}, "Content-Type": {contentType}}
		rep := e.serve(method, agentapi.Prefix+path, header, body)
		after := e.agentNamed(alice)
		if rep.status != http.StatusOK {
			checkErrorReply(t, rep)
			if n := e.storedFiles(); n != 0 {
				t.Fatalf("%s: refused with %s, but left %d files on disk", rep.what, rep.body, n)
			}
			if after.PhotoID != before.PhotoID {
				t.Fatalf("%s: refused with %s, but the photo changed from %q to %q", rep.what, rep.body, before.PhotoID, after.PhotoID)
			}
			return
		}
		var got struct {
			FileID   string    `json:"file_id"`
			FileName string    `json:"file_name"`
			Agent    agentJSON `json:"agent"`
		}
		rep.decode(t, &got)
		id := got.FileID
		if photo {
			id = got.Agent.PhotoID
			if id == "" || id != after.PhotoID {
				t.Fatalf("%s: answered photo %q, stored %q", rep.what, id, after.PhotoID)
			}
		} else if id == "" || got.FileName == "" {
			t.Fatalf("%s: answer %s, want a file_id and a file_name", rep.what, rep.body)
		}
		defer e.blobs.Delete(t.Context(), id)
		stored, err := e.store.File(t.Context(), id)
		if err != nil {
			t.Fatalf("%s: answered file %s, which the store lacks: %v", rep.what, id, err)
		}
		if !photo && stored.Name != got.FileName {
			t.Fatalf("%s: answered the name %q, stored %q", rep.what, got.FileName, stored.Name)
		}
		want, ok := uploadtest.FirstFilePart(contentType, body)
		if !ok {
			t.Fatalf("%s: accepted a body with no readable file part", rep.what)
		}
		dl := e.serve("GET", agentapi.Prefix+"files/"+id, http.Header{"Authorization": {"Bearer " + a.token}}, nil)
		if dl.status != http.StatusOK || !bytes.Equal(dl.body, want) || dl.header.Get("Content-Type") != stored.ContentType {
			t.Fatalf("GET files/%s: %d %s, %d bytes; want the %d bytes of the file part", id, dl.status, dl.header.Get("Content-Type"), len(dl.body), len(want))
		}
	})
}

// storedFiles counts the files (complete or partial) on the env's disk.
func (e *env) storedFiles() int {
	e.t.Helper()
	n := 0
	err := filepath.WalkDir(e.blobDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		e.t.Fatalf("walk files: %v", err)
	}
	return n
}
