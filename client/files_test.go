package client_test

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-chat/parley/client"
)

// filePart is the single part of a multipart upload body.
type filePart struct {
	FieldName, FileName, ContentType, Content string
}

// onlyPart parses an upload request and returns its single part.
func onlyPart(t *testing.T, ex exchange) filePart {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(ex.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		t.Fatalf("Content-Type = %q, want multipart/form-data (%v)", ex.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(bytes.NewReader(ex.Body), params["boundary"])
	p, err := r.NextPart()
	if err != nil {
		t.Fatalf("first part: %v", err)
	}
	content, err := io.ReadAll(p)
	if err != nil {
		t.Fatalf("read part: %v", err)
	}
	got := filePart{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(content)}
	if _, err := r.NextPart(); err != io.EOF {
		t.Fatalf("second part: err = %v, want io.EOF", err)
	}
	return got
}

func TestUploadSendsOneFilePart(t *testing.T) {
	tests := []struct {
		name   string
		upload func(*testing.T, *client.Client) (client.FileInfo, error)
		want   filePart
	}{
		{
			name: "UploadFile names the part file and guesses the type from the name",
			upload: func(t *testing.T, c *client.Client) (client.FileInfo, error) {
				return c.UploadFile(t.Context(), "photo.png", strings.NewReader("\x89PNG..."))
			},
			want: filePart{"file", "photo.png", "image/png", "\x89PNG..."},
		},
		{
			name: "UploadFile falls back to octet-stream for an unknown extension",
			upload: func(t *testing.T, c *client.Client) (client.FileInfo, error) {
				return c.UploadFile(t.Context(), "notes.parley-unknown", strings.NewReader("abc"))
			},
			want: filePart{"file", "notes.parley-unknown", "application/octet-stream", "abc"},
		},
		{
			name: "Upload uses the SDKs' field name and the given type",
			upload: func(t *testing.T, c *client.Client) (client.FileInfo, error) {
				return c.Upload(t.Context(), client.Upload{
					FieldName: "file-upload-input", FileName: `we"ird.pdf`,
					ContentType: "application/pdf", Body: strings.NewReader("%PDF"),
				})
			},
			want: filePart{"file-upload-input", `we"ird.pdf`, "application/pdf", "%PDF"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := stubClient(t, answer{Body: `{"file_id":"f1","file_name":"photo.png"}`})
			info, err := tt.upload(t, c)
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			if want := (client.FileInfo{FileID: "f1", FileName: "photo.png"}); info != want {
				t.Errorf("FileInfo = %+v, want %+v", info, want)
			}
			if got := onlyPart(t, s.only(t)); got != tt.want {
				t.Errorf("part = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestUploadOverTheLimitReportsTheCode(t *testing.T) {
	c, _ := stubClient(t, answer{Status: 400, Body: `{"error_code":"5501","error_message":"too large"}`})
	_, err := c.UploadFile(t.Context(), "big.bin", strings.NewReader("x"))
	if !client.HasStatus(err, 400) || !client.HasCode(err, client.CodeTooLarge) {
		t.Errorf("err = %v, want 400/5501", err)
	}
}

// errReader fails every read.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestUploadOfAnUnreadableFileSendsNothing(t *testing.T) {
	c, s := stubClient(t, answer{Body: "{}"})
	if _, err := c.UploadFile(t.Context(), "a.txt", errReader{}); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("err = %v, want the read error", err)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("server received %d requests, want 0", n)
	}
}

func TestDownloadsReturnTheBytesAndHeaders(t *testing.T) {
	tests := []struct {
		name      string
		download  func(*testing.T, *client.Client) (client.Download, error)
		wantPath  string
		wantAuth  bool
		wantQuery bool
	}{
		{"DownloadFile uses the absolute path without auth or query", func(t *testing.T, c *client.Client) (client.Download, error) {
			return c.DownloadFile(t.Context(), "f1")
		}, "/clientweb/file/f1", false, false},
		{"DownloadChatFile uses the API path with auth and tenant", func(t *testing.T, c *client.Client) (client.Download, error) {
			return c.DownloadChatFile(t.Context(), "c1", "f1")
		}, "/clientweb/api/v2/chats/c1/files/f1", true, true},
		{"ProfilePhoto uses the API path with auth and tenant", func(t *testing.T, c *client.Client) (client.Download, error) {
			return c.ProfilePhoto(t.Context(), "c1", "p1")
		}, "/clientweb/api/v2/chats/c1/profilephotos/p1", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := stubClient(t, answer{
				Body:   "\x89PNG\r\n\x1a\n",
				Header: http.Header{"Content-Type": {"image/png"}, "Cache-Control": {"private, max-age=3600"}},
			})
			got, err := tt.download(t, c)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			if !reflect.DeepEqual(got.Data, []byte("\x89PNG\r\n\x1a\n")) || got.ContentType != "image/png" {
				t.Errorf("download = %q (%s), want the PNG bytes (image/png)", got.Data, got.ContentType)
			}
			if cc := got.Header.Get("Cache-Control"); cc != "private, max-age=3600" {
				t.Errorf("Cache-Control = %q, want the server's", cc)
			}
			ex := s.only(t)
			if ex.Method != http.MethodGet || ex.Path != tt.wantPath {
				t.Errorf("request = %s %s, want GET %s", ex.Method, ex.Path, tt.wantPath)
			}
			if hasAuth := ex.Header.Get("Authorization") != ""; hasAuth != tt.wantAuth {
				t.Errorf("Authorization sent = %v, want %v", hasAuth, tt.wantAuth)
			}
			if hasQuery := len(ex.Query) > 0; hasQuery != tt.wantQuery {
				t.Errorf("query = %v, want one: %v", ex.Query, tt.wantQuery)
			}
		})
	}
}

func TestDownloadOfAnUnknownFileIsNotFound(t *testing.T) {
	tests := []struct {
		name     string
		ans      answer
		wantCode string
	}{
		{"a plain 404 on the absolute path", answer{Status: 404, Body: "404 page not found\n"}, ""},
		{"a 404 with 5502 on the API path", answer{Status: 404, Body: `{"error_code":"5502","error_message":"file not found"}`}, client.CodeFileNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is not found", func(t *testing.T) {
			c, _ := stubClient(t, tt.ans)
			_, err := c.DownloadFile(t.Context(), "nope")
			e, ok := client.AsAPIError(err)
			if !ok || !client.IsNotFound(err) || e.Code != tt.wantCode {
				t.Errorf("err = %v, want a 404 with code %q", err, tt.wantCode)
			}
		})
	}
}
