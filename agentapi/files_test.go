package agentapi_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/agentapi"
	"github.com/parley-chat/parley/clientweb"
)

var (
	pngFile = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 600)...)
	pdfFile = []byte("%PDF-1.7\n" + strings.Repeat("0 0 obj\n", 100))
)

// uploaded is the answer of an upload.
type uploaded struct {
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
}

func (a *agent) uploadFile(name string, data []byte) string {
	a.e.t.Helper()
	var got uploaded
	a.upload("POST", "files", name, data).ok(a.e.t, &got)
	if got.FileID == "" || got.FileName != name {
		a.e.t.Fatalf("upload of %s answered %+v", name, got)
	}
	return got.FileID
}

func TestAgentFilesReachTheCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	id := a.uploadFile("manual.pdf", pdfFile)

	t.Run("the agent downloads it", func(t *testing.T) {
		a := a.in(t)
		r := a.call("GET", "files/"+id, "")
		if r.status != http.StatusOK || !bytes.Equal(r.body, pdfFile) {
			t.Fatalf("download: status %d, %d bytes, want 200 and the file", r.status, len(r.body))
		}
		if got := r.header.Get("Content-Type"); got != "application/pdf" {
			t.Errorf("Content-Type %q, want application/pdf", got)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options %q, want nosniff", got)
		}
	})

	sent := a.send(v.ChatID, `{"event":"chat_session_file","file_id":"`+id+`"}`)[0]
	if sent.str("file_name") != "manual.pdf" || sent.str("file_type") != "attachment" || sent.str("msg_id") == "" {
		t.Errorf("stored %v, want the file's name, type attachment and a msg_id", sent)
	}
	if got := c.sees(v.ChatID, "chat_session_file"); got.str("file_id") != id || got.str("party_id") != v.PartyID {
		t.Errorf("customer sees %v, want file %s from alice", got, id)
	}
	for _, path := range []string{"/clientweb/file/" + id, clientweb.Prefix + "chats/" + v.ChatID + "/files/" + id} {
		t.Run("the customer downloads it from "+strings.Split(path, id)[0], func(t *testing.T) {
			r := e.in(t).do("GET", path, nil, nil)
			if r.status != http.StatusOK || !bytes.Equal(r.body, pdfFile) {
				t.Errorf("GET %s: status %d, %d bytes, want the file", path, r.status, len(r.body))
			}
		})
	}

	t.Run("the agent downloads what the customer uploaded", func(t *testing.T) {
		e, a := e.in(t), a.in(t)
		body, ctype := multipartFile("photo.png", pngFile)
		h := http.Header{"Content-Type": {ctype}, "Authorization": {clientweb.Scheme + " appId=" + webApp + ", clientId=" + c.clientID}}
		var up uploaded
		e.do("POST", clientweb.Prefix+"files?tenantUrl="+tenant, h, body).decode(t, &up)
		r := a.call("GET", "files/"+up.FileID, "")
		if r.status != http.StatusOK || !bytes.Equal(r.body, pngFile) || r.header.Get("Content-Type") != "image/png" {
			t.Errorf("download: status %d, %d bytes, %q", r.status, len(r.body), r.header.Get("Content-Type"))
		}
	})

	t.Run("no one else downloads it", func(t *testing.T) {
		e, a := e.in(t), a.in(t)
		e.loginAt(otherTenant, olga).call("GET", "files/"+id, "").fails(t, http.StatusNotFound, "5502")
		a.call("GET", "files/no-such-file", "").fails(t, http.StatusNotFound, "5502")
	})

	t.Run("another tenant's agent cannot send it", func(t *testing.T) {
		e := e.in(t)
		o := e.loginAt(otherTenant, olga)
		o.ready()
		theirs := o.take(e.customerAt(otherTenant, webApp).requestChat())
		o.call("POST", "chats/"+theirs.ChatID+"/events", `{"events":[{"event":"chat_session_file","file_id":"`+id+`"}]}`).
			fails(t, http.StatusBadRequest, "5003")
	})
}

func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	onlyField := func() ([]byte, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("name", "value")
		w.Close()
		return buf.Bytes(), w.FormDataContentType()
	}
	truncated := func() ([]byte, string) {
		body, ctype := multipartFile("cut.pdf", pdfFile)
		return body[:len(body)-200], ctype
	}
	emptyFile := func() ([]byte, string) { return multipartFile("empty.txt", nil) }
	tests := []struct {
		name   string
		body   func() ([]byte, string)
		status int
		code   string
	}{
		{"a JSON body", func() ([]byte, string) { return []byte(`{"file":"x"}`), "application/json" }, 400, "5003"},
		{"multipart without a boundary", func() ([]byte, string) { return []byte("x"), "multipart/form-data" }, 400, "5003"},
		{"multipart without a file", onlyField, 400, "5003"},
		{"multipart that is garbage", func() ([]byte, string) { return []byte("garbage"), "multipart/form-data; boundary=xyz" }, 400, "5003"},
		{"an empty file", emptyFile, 400, "5558"},
		{"a file cut short", truncated, 400, "5558"},
	}
	for _, path := range []string{"files", "me/photo"} {
		method := map[string]string{"files": "POST", "me/photo": "PUT"}[path]
		for _, tt := range tests {
			t.Run(method+" "+path+" refuses "+tt.name, func(t *testing.T) {
				body, ctype := tt.body()
				h := http.Header{"Content-Type": {ctype}, "Authorization": {"Bearer " + a.token}}
				e.do(method, agentapi.Prefix+path, h, body).fails(t, tt.status, tt.code)
			})
		}
	}
}

func TestAgentPhotoIsShownToCustomers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	tests := []struct {
		name string
		file string
		data []byte
	}{
		{"a text file", "me.txt", []byte("just text, not a picture")},
		{"a PDF", "me.pdf", pdfFile},
		{"HTML named like a picture", "me.png", []byte("<html><script>alert(1)</script></html>")},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			a.upload("PUT", "me/photo", tt.file, tt.data).fails(t, http.StatusBadRequest, "5558")
		})
	}
	if got := a.me().Agent.PhotoID; got != "" {
		t.Fatalf("photo_id %q after refused uploads", got)
	}

	var set struct {
		Agent agentJSON `json:"agent"`
	}
	a.upload("PUT", "me/photo", "me.png", pngFile).ok(t, &set)
	if set.Agent.PhotoID == "" || set.Agent.Username != alice {
		t.Fatalf("photo answer %+v, want alice with a photo_id", set.Agent)
	}
	if got := a.me().Agent.PhotoID; got != set.Agent.PhotoID {
		t.Errorf("me: photo_id %q, want %q", got, set.Agent.PhotoID)
	}

	a.ready()
	c, v := a.chatWith(webApp)
	r := c.call("GET", "chats/"+v.ChatID+"/profilephotos/"+v.PartyID, "")
	if r.status != http.StatusOK || !bytes.Equal(r.body, pngFile) || r.header.Get("Content-Type") != "image/png" {
		t.Errorf("customer's profile photo: status %d, %d bytes, %q, want the PNG", r.status, len(r.body), r.header.Get("Content-Type"))
	}
	c.call("GET", "chats/"+v.ChatID+"/profilephotos/"+v.ChatID, "").fails(t, http.StatusNotFound, "5502")
}
