package clientweb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
)

// pngBytes returns a PNG signature padded to n bytes: enough for sniffing.
func pngBytes(n int) []byte {
	b := make([]byte, n)
	copy(b, pngSignature+"\x00\x00\x00\x0dIHDR")
	for i := len(pngSignature) + 8; i < n; i++ {
		b[i] = byte(i)
	}
	return b
}

// pdfBytes returns a small PDF-looking file.
func pdfBytes() []byte {
	return []byte(pdfSignature + "1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

// putFile stores a file as if an agent had uploaded it and returns its id.
func (e *env) putFile(name string, data []byte) string {
	e.t.Helper()
	f := chat.File{ID: chat.NewID(), ClientKey: chat.ClientKey{Tenant: demoTenant, AppID: demoApp, ClientID: "agent"},
		Name: name, ContentType: http.DetectContentType(data), Size: int64(len(data)), Created: time.Now()}
	if _, err := e.h.Blobs.Put(e.t.Context(), f.ID, bytes.NewReader(data), int64(len(data))); err != nil {
		e.t.Fatalf("put blob: %v", err)
	}
	if err := e.store.PutFile(e.t.Context(), f); err != nil {
		e.t.Fatalf("put file: %v", err)
	}
	return f.ID
}

// multipartBody renders an upload as the SDKs write it: disposition is the
// whole Content-Disposition header of the file part.
func multipartBody(disposition, partType string, data []byte, fields map[string]string) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	hdr := map[string][]string{"Content-Disposition": {disposition}}
	if partType != "" {
		hdr["Content-Type"] = []string{partType}
	}
	part, _ := w.CreatePart(hdr)
	part.Write(data)
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// upload posts a multipart body to Upload File.
func (c *customer) upload(body []byte, contentType string) *reply {
	c.e.t.Helper()
	r := c.request("POST", "files", body)
	r.Header.Set("Content-Type", contentType)
	return c.e.do(r)
}

// uploadFile uploads data under the docs' field name and returns its id.
func (c *customer) uploadFile(name string, data []byte) string {
	c.e.t.Helper()
	body, ct := multipartBody(fmt.Sprintf(`form-data; name="file"; filename="%s"`, name), "application/octet-stream", data, nil)
	obj := c.upload(body, ct).ok(c.e.t)
	id, _ := obj["file_id"].(string)
	if id == "" || obj["file_name"] != name {
		c.e.t.Fatalf("upload answered %v", obj)
	}
	return id
}

func TestUploadFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		disposition string
		partType    string
		fields      map[string]string
		wantName    string
	}{
		{"an upload under the docs' field name file is accepted", `form-data; name="file"; filename="photo.png"`, "image/png", nil, "photo.png"},
		{"an upload under the SDKs' field name file-upload-input is accepted", `form-data; name="file-upload-input"; filename="photo.png"`, "image/png", nil, "photo.png"},
		{"Android's part header without a space after form-data; is accepted", `form-data;name="file-upload-input";filename="IMG_0001.png"`, "application/octet-stream", nil, "IMG_0001.png"},
		{"a file part without a content type is accepted", `form-data; name="upload"; filename="p.png"`, "", nil, "p.png"},
		{"the first file part after plain fields is taken", `form-data; name="file"; filename="after-fields.png"`, "image/png", map[string]string{"chat_id": "x", "note": "n"}, "after-fields.png"},
		{"a path in the file name is dropped", `form-data; name="file"; filename="C:\\Users\\ada\\secret\\photo.png"`, "image/png", nil, "photo.png"},
		{"a name that is a parent directory becomes file", `form-data; name="file"; filename="notes/.."`, "image/png", nil, "file"},
		{"a long non-ASCII name is cut at a character boundary", `form-data; name="file"; filename="` + strings.Repeat("é", 200) + `.png"`, "image/png", nil, strings.Repeat("é", 127)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.customer(demoApp, androidClient)
			body, ct := multipartBody(tt.disposition, tt.partType, pngBytes(300), tt.fields)
			obj := c.upload(body, ct).ok(t)
			id, _ := obj["file_id"].(string)
			if len(id) < 22 || obj["file_name"] != tt.wantName || len(obj) != 2 {
				t.Fatalf("upload answered %v, want file_id and file_name %q", obj, tt.wantName)
			}
			d := e.do(e.newRequest("GET", "/clientweb/file/"+id, nil))
			if d.status != http.StatusOK || !bytes.Equal(d.body, pngBytes(300)) {
				t.Errorf("download: status %d, %d bytes", d.status, len(d.body))
			}
		})
	}
}

func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	tests := []struct {
		name   string
		appID  string
		body   func() ([]byte, string)
		status int
		code   chat.Code
	}{
		{"a file over the entry's limit is 400/5501", smallFilesApp, func() ([]byte, string) {
			return multipartBody(`form-data; name="file"; filename="big.png"`, "image/png", pngBytes(1025), nil)
		}, 400, chat.CodeTooLarge},
		{"a body far over the limit is 400/5501", smallFilesApp, func() ([]byte, string) {
			return multipartBody(`form-data; name="file"; filename="huge.png"`, "image/png", pngBytes(200<<10), nil)
		}, 400, chat.CodeTooLarge},
		{"a type the entry does not allow is 400/5558", smallFilesApp, func() ([]byte, string) {
			return multipartBody(`form-data; name="file"; filename="doc.pdf"`, "application/pdf", pdfBytes(), nil)
		}, 400, chat.CodeFileRefused},
		{"HTML is refused by default as 400/5558", demoApp, func() ([]byte, string) {
			return multipartBody(`form-data; name="file"; filename="page.png"`, "image/png", html, nil)
		}, 400, chat.CodeFileRefused},
		{"an empty file is 400/5558", demoApp, func() ([]byte, string) {
			return multipartBody(`form-data; name="file"; filename="empty.png"`, "image/png", nil, nil)
		}, 400, chat.CodeFileRefused},
		{"an entry with uploads disabled answers 400/5558", noFilesApp, func() ([]byte, string) {
			return multipartBody(`form-data; name="file"; filename="p.png"`, "image/png", pngBytes(100), nil)
		}, 400, chat.CodeFileRefused},
		{"a body without a file part is 400/5003", demoApp, func() ([]byte, string) {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			w.WriteField("note", "no file here")
			w.Close()
			return buf.Bytes(), w.FormDataContentType()
		}, 400, chat.CodeInvalid},
		{"a truncated multipart body is refused", demoApp, func() ([]byte, string) {
			body, ct := multipartBody(`form-data; name="file"; filename="p.png"`, "image/png", pngBytes(2000), nil)
			return body[:len(body)/2], ct
		}, 400, chat.CodeFileRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			body, ct := tt.body()
			e.customer(tt.appID, androidClient).upload(body, ct).fails(t, tt.status, tt.code)
			if n := e.storedFiles(); n != 0 {
				t.Errorf("a refused upload left %d files on disk", n)
			}
		})
	}
}

func TestDownloads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	png := c.uploadFile("notes.txt", pngBytes(200)) // sniffed, not trusted
	pdf := c.uploadFile("report.pdf", pdfBytes())
	text := c.uploadFile("readme.txt", []byte("just some text\n"))
	c.send(id, `{"event":"chat_session_file","msg_id":"f1","file_id":"`+png+`","file_name":"notes.txt","file_type":"image/png"}`,
		`{"event":"chat_session_file","msg_id":"f2","file_id":"`+pdf+`"}`)

	tests := []struct {
		name        string
		path        string
		data        []byte
		ctype       string
		disposition string
	}{
		{"a PNG named .txt is served as an inline image", "/clientweb/file/" + png, pngBytes(200), "image/png", `inline; filename=notes.txt`},
		{"a PDF is served as an attachment", "/clientweb/file/" + pdf, pdfBytes(), "application/pdf", `attachment; filename=report.pdf`},
		{"text is served as an attachment", "/clientweb/file/" + text, []byte("just some text\n"), "text/plain; charset=utf-8", `attachment; filename=readme.txt`},
		{"a chat's file is served on the API path", "/clientweb/api/v2/chats/" + id + "/files/" + png, pngBytes(200), "image/png", `inline; filename=notes.txt`},
		{"a file not yet sent is served on its client's chat path", "/clientweb/api/v2/chats/" + id + "/files/" + text, []byte("just some text\n"), "text/plain; charset=utf-8", `attachment; filename=readme.txt`},
		{"duplicate slashes are collapsed", "//clientweb//file/" + pdf, pdfBytes(), "application/pdf", `attachment; filename=report.pdf`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(e.newRequest("GET", tt.path, nil)) // no Authorization, no query
			if r.status != http.StatusOK {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			if !bytes.Equal(r.body, tt.data) {
				t.Errorf("body %q, want %q", r.body, tt.data)
			}
			for k, want := range map[string]string{
				"Content-Type": tt.ctype, "Content-Disposition": tt.disposition, "X-Content-Type-Options": "nosniff",
			} {
				if got := r.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
				t.Errorf("Content-Security-Policy %q, want a sandbox", csp)
			}
		})
	}
	t.Run("the file event names the sniffed type and the file is tied to the chat", func(t *testing.T) {
		h := c.history(id)
		var files []map[string]any
		for _, ev := range h {
			if ev["event"] == string(chat.TypeFile) {
				files = append(files, ev)
			}
		}
		if len(files) != 2 {
			t.Fatalf("history files = %v", files)
		}
		if files[0]["file_type"] != "image" || files[0]["party_id"] != id || files[0]["file_id"] != png {
			t.Errorf("image event = %v", files[0])
		}
		if files[1]["file_type"] != "attachment" || files[1]["file_name"] != "report.pdf" {
			t.Errorf("pdf event = %v, want the uploaded name and type filled in", files[1])
		}
		if f, err := e.store.File(t.Context(), png); err != nil || f.ChatID != id {
			t.Errorf("file chat = %q (err %v), want %s", f.ChatID, err, id)
		}
	})

	other := e.customer(demoApp, anotherClient)
	otherChat := other.startChat()
	notFound := []struct{ name, path string }{
		{"an unknown file id is 404/5502 on the API path", "/clientweb/api/v2/chats/" + id + "/files/" + chat.NewID()},
		{"a file of another chat is 404/5502 on the API path", "/clientweb/api/v2/chats/" + otherChat + "/files/" + png},
		{"an unsent file of another client is 404/5502 on the API path", "/clientweb/api/v2/chats/" + otherChat + "/files/" + text},
		{"a file under an unknown chat is 404/5502", "/clientweb/api/v2/chats/" + chat.NewID() + "/files/" + text},
		{"an unknown file id is 404 on the absolute path", "/clientweb/file/" + chat.NewID()},
		{"a short file id is 404 on the absolute path", "/clientweb/file/ab"},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) {
			e.do(e.newRequest("GET", tt.path, nil)).fails(t, http.StatusNotFound, chat.CodeFileNotFound)
		})
	}
	t.Run("another client cannot send someone else's file", func(t *testing.T) {
		other.call("POST", "chats/"+otherChat+"/events", `{"events":[{"event":"chat_session_file","msg_id":"steal","file_id":"`+text+`"}]}`).
			fails(t, http.StatusBadRequest, chat.CodeInvalid)
		if f, _ := e.store.File(t.Context(), text); f.ChatID != "" {
			t.Errorf("the refused file event tied the file to chat %q", f.ChatID)
		}
	})
	t.Run("a file sent in one chat cannot be sent in another", func(t *testing.T) {
		c.send(id, `{"event":"chat_session_end"}`)
		next := c.startChat()
		c.call("POST", "chats/"+next+"/events", `{"events":[{"event":"chat_session_file","msg_id":"again","file_id":"`+png+`"}]}`).
			fails(t, http.StatusBadRequest, chat.CodeInvalid)
	})
}

func TestUploadsAreOwnedByTheirClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	file := c.uploadFile("a.png", pngBytes(100))
	// A batch whose later event is refused must not tie the earlier file.
	c.call("POST", "chats/"+id+"/events", `{"events":[{"event":"chat_session_file","msg_id":"ok","file_id":"`+file+`"},{"event":"chat_session_file","msg_id":"bad","file_id":"nope"}]}`).
		fails(t, http.StatusBadRequest, chat.CodeInvalid)
	if f, _ := e.store.File(t.Context(), file); f.ChatID != "" {
		t.Errorf("a refused batch tied the file to chat %q", f.ChatID)
	}
	for _, ev := range c.history(id) {
		if ev["event"] == string(chat.TypeFile) {
			t.Errorf("a refused batch stored %v", ev)
		}
	}
}

// failingBlobs is a file storage that is down.
type failingBlobs struct{ chat.Blobs }

func (failingBlobs) Put(context.Context, string, io.Reader, int64) (int64, error) {
	return 0, errors.New("objstore 10.0.0.7: bucket parley_files: timeout")
}

func TestUploadStorageFailureIsInternal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(h *clientweb.Handler) { h.Blobs = failingBlobs{h.Blobs} })
	c := e.customer(demoApp, androidClient)
	c.startChat()
	body, ct := multipartBody(`form-data; name="file"; filename="a.png"`, "image/png", pngBytes(200), nil)
	r := c.upload(body, ct)
	r.fails(t, http.StatusInternalServerError, chat.CodeInternal)
	if bytes.Contains(r.body, []byte("10.0.0.7")) || bytes.Contains(r.body, []byte("parley_files")) {
		t.Errorf("the answer tells the client about the storage: %s", r.body)
	}
}
