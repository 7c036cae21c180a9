package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"
)

// FileInfo is the answer of an upload: the id to name in a
// chat_session_file event, and the name the server kept.
type FileInfo struct {
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
}

// Upload is one file to upload, with the multipart details a test may want
// to vary the way the SDKs do.
type Upload struct {
	// FieldName is the form field of the part: "file" (docs) when empty;
	// the SDKs use "file-upload-input".
	FieldName string
	// FileName is the part's filename.
	FileName string
	// ContentType is the part's type; when empty it is guessed from the
	// file name's extension, else application/octet-stream.
	ContentType string
	// Body is the content. It is read whole before the request is sent.
	Body io.Reader
}

// UploadFile uploads the content of r as a file named name, in a part named
// "file". The file belongs to no chat until a File event names it.
func (c *Client) UploadFile(ctx context.Context, name string, r io.Reader) (FileInfo, error) {
	return c.Upload(ctx, Upload{FileName: name, Body: r})
}

// Upload uploads one file as multipart/form-data. A 400 *APIError carries
// 5501 when the file is over the entry's limit and 5558 when its type is
// refused.
func (c *Client) Upload(ctx context.Context, u Upload) (FileInfo, error) {
	body, contentType, err := multipartBody(u)
	if err != nil {
		return FileInfo{}, fmt.Errorf("upload file: %w", err)
	}
	resp, err := c.send(ctx, http.MethodPost, c.apiURL("files", nil), body, contentType, true)
	if err != nil {
		return FileInfo{}, fmt.Errorf("upload file: %w", err)
	}
	defer resp.Body.Close()
	var out FileInfo
	if err := decodeObject(resp, &out); err != nil {
		return FileInfo{}, fmt.Errorf("upload file: %w", err)
	}
	return out, nil
}

// quoteEscaper escapes a form-data parameter value as mime/multipart does.
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// multipartBody renders the request body of an upload and its content type.
func multipartBody(u Upload) (io.Reader, string, error) {
	field := u.FieldName
	if field == "" {
		field = "file"
	}
	partType := u.ContentType
	if partType == "" {
		partType = mime.TypeByExtension(path.Ext(u.FileName))
	}
	if partType == "" {
		partType = "application/octet-stream"
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`,
		quoteEscaper.Replace(field), quoteEscaper.Replace(u.FileName)))
	h.Set("Content-Type", partType)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", fmt.Errorf("write part: %w", err)
	}
	if u.Body != nil {
		if _, err := io.Copy(part, u.Body); err != nil {
			return nil, "", fmt.Errorf("read file content: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", fmt.Errorf("close multipart body: %w", err)
	}
	return &buf, w.FormDataContentType(), nil
}

// Download is a file as the server served it.
type Download struct {
	Data        []byte
	ContentType string
	// Header holds every header of the answer (Cache-Control,
	// Content-Disposition, …).
	Header http.Header
}

// DownloadFile fetches a file by the absolute /clientweb/file/{fileId} path,
// as the SDKs' image views do: with no Authorization header and no query,
// the id being the key. Unknown files are a 404 *APIError.
func (c *Client) DownloadFile(ctx context.Context, fileID string) (Download, error) {
	p, err := segments(fileID)
	if err != nil {
		return Download{}, fmt.Errorf("download file: %w", err)
	}
	d, err := c.download(ctx, c.base+filePrefix+p, false)
	if err != nil {
		return Download{}, fmt.Errorf("download file: %w", err)
	}
	return d, nil
}

// DownloadChatFile fetches a file of the chat by the API path
// chats/{chatId}/files/{fileId}. Unknown files are a 404 *APIError (5502).
func (c *Client) DownloadChatFile(ctx context.Context, chatID, fileID string) (Download, error) {
	d, err := c.chatDownload(ctx, chatID, "files", fileID)
	if err != nil {
		return Download{}, fmt.Errorf("download chat file: %w", err)
	}
	return d, nil
}

// ProfilePhoto fetches the photo of a party of the chat; a 404 *APIError
// when the party has none.
func (c *Client) ProfilePhoto(ctx context.Context, chatID, partyID string) (Download, error) {
	d, err := c.chatDownload(ctx, chatID, "profilephotos", partyID)
	if err != nil {
		return Download{}, fmt.Errorf("get profile photo: %w", err)
	}
	return d, nil
}

// chatDownload fetches bytes from an API path under chats/{chatID}/.
func (c *Client) chatDownload(ctx context.Context, chatID, kind, id string) (Download, error) {
	p, err := segments("chats", chatID, kind, id)
	if err != nil {
		return Download{}, err
	}
	return c.download(ctx, c.apiURL(p, nil), true)
}

// download fetches the bytes at u; anything but a 200 is an *APIError.
func (c *Client) download(ctx context.Context, u string, auth bool) (Download, error) {
	resp, err := c.send(ctx, http.MethodGet, u, nil, "", auth)
	if err != nil {
		return Download{}, err
	}
	return readDownload(resp)
}

// readDownload reads a file answer; anything but a 200 is an *APIError.
func readDownload(resp *http.Response) (Download, error) {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Download{}, readAPIError(resp)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Download{}, fmt.Errorf("read file: %w", err)
	}
	return Download{Data: data, ContentType: resp.Header.Get("Content-Type"), Header: resp.Header}, nil
}
