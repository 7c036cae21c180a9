package clientweb_test

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/internal/uploadtest"
)

// FuzzUploadFile posts a body with its Content-Type to Upload File, on the
// demo entry's default rules or (small) on an entry taking PNGs of 1 KiB at
// most. An upload either fails with a 4xx and leaves nothing on disk, or
// stores the bytes of the first file part under a name that is safe to show
// and is served back with that name. Seeds are in
// testdata/fuzz/FuzzUploadFile: the SDKs' and the web script's bodies,
// broken framing, refused types, sizes over the limit.
func FuzzUploadFile(f *testing.F) {
	base := startEnv(f, func(h *clientweb.Handler) { h.Limits = clientweb.Limits{} })
	f.Fuzz(func(t *testing.T, contentType string, body []byte, small bool) {
		e := base.in(t)
		app := demoApp
		if small {
			app = smallFilesApp
		}
		c := e.customer(app, "fuzz-uploader")
		r := c.request("POST", "files", body)
		r.Header.Set("Content-Type", contentType)
		rep := e.serve(r)
		if rep.status != http.StatusOK {
			checkErrorReply(t, rep)
			if n := e.storedFiles(); n != 0 {
				t.Fatalf("%s: refused with %s, but left %d files on disk", rep.what, rep.body, n)
			}
			return
		}
		obj := rep.ok(t)
		id, _ := obj["file_id"].(string)
		name, _ := obj["file_name"].(string)
		if id == "" || name == "" || len(obj) != 2 {
			t.Fatalf("%s: answer %s, want a file_id and a file_name", rep.what, rep.body)
		}
		// Done with once checked: the disk holds only what the next input
		// leaves.
		defer e.h.Blobs.Delete(t.Context(), id)
		if problem := unsafeFileName(name); problem != "" {
			t.Fatalf("%s: file_name %q %s", rep.what, name, problem)
		}
		stored, err := e.store.File(t.Context(), id)
		if err != nil {
			t.Fatalf("%s: answered file %s, which the store lacks: %v", rep.what, id, err)
		}
		entry, err := e.store.Entry(t.Context(), demoTenant, app)
		if err != nil {
			t.Fatal(err)
		}
		wantKey := chat.ClientKey{Tenant: demoTenant, AppID: app, ClientID: c.clientID}
		if stored.Name != name || stored.ClientKey != wantKey || stored.ChatID != "" || !entry.Files.Allows(stored.ContentType) {
			t.Fatalf("%s: stored %+v for %s (%s)", rep.what, stored, name, wantKey)
		}
		want, ok := uploadtest.FirstFilePart(contentType, body)
		if !ok {
			t.Fatalf("%s: accepted a body with no readable file part", rep.what)
		}
		got := e.serve(e.newRequest("GET", "/clientweb/file/"+id, nil))
		if got.status != http.StatusOK || !bytes.Equal(got.body, want) || got.header.Get("Content-Type") != stored.ContentType {
			t.Fatalf("GET %s: %d %s, %d bytes; want the %d bytes of the file part", id, got.status, got.header.Get("Content-Type"), len(got.body), len(want))
		}
		_, params, err := mime.ParseMediaType(got.header.Get("Content-Disposition"))
		if err != nil || params["filename"] != name {
			t.Fatalf("GET %s: Content-Disposition %q names %q (%v), want %q", id, got.header.Get("Content-Disposition"), params["filename"], err, name)
		}
	})
}

// unsafeFileName says what makes a stored file name unsafe to show to
// agents and customers or to put in a header, or returns "".
func unsafeFileName(name string) string {
	switch {
	case !utf8.ValidString(name):
		return "is not UTF-8"
	case len(name) > 255:
		return "is longer than 255 bytes"
	case strings.ContainsAny(name, `/\"`):
		return "holds a slash, a backslash or a quote"
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "holds a control character"
	case name == "." || name == "..":
		return "names a directory"
	}
	return ""
}
