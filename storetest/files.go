package storetest

import (
	"testing"

	"github.com/parley-chat/parley/chat"
)

var fileTests = []test{
	{"a file reads back with every field", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		for _, want := range []chat.File{
			{ID: "file-1", ClientKey: key("client-1"), Name: "Quittung März (1).pdf",
				ContentType: "application/pdf", Size: 123456, Created: at(5)},
			{ID: "file-2", ClientKey: key("client-1"), ChatID: s.ID, Name: "photo.jpg",
				ContentType: "image/jpeg", Size: 25 << 20, Created: at(6)},
		} {
			t.Run(want.ID, func(t *testing.T) {
				putFile(t, st, want)
				wantFile(t, st, want)
			})
		}
	}},
	{"an unknown file is not found", func(t *testing.T, st chat.Store) {
		putFile(t, st, chat.File{ID: "file-1", ClientKey: key("client-1"), Name: "a.txt", ContentType: "text/plain", Size: 1, Created: t0})
		_, err := st.File(t.Context(), "file-2")
		wantErr(t, "File(unknown)", err, chat.ErrNotFound)
	}},
	{"attaching a file ties it to the chat", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		want := chat.File{ID: "file-1", ClientKey: key("client-1"), Name: "a.png", ContentType: "image/png", Size: 42, Created: t0}
		other := chat.File{ID: "file-2", ClientKey: key("client-1"), Name: "b.png", ContentType: "image/png", Size: 43, Created: t0}
		putFile(t, st, want)
		putFile(t, st, other)
		if err := st.AttachFile(t.Context(), want.ID, s.ID); err != nil {
			t.Fatalf("AttachFile: %v", err)
		}
		want.ChatID = s.ID
		wantFile(t, st, want)
		wantFile(t, st, other)
	}},
	{"attaching an unknown file is not found", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		wantErr(t, "AttachFile(unknown file)", st.AttachFile(t.Context(), "file-x", s.ID), chat.ErrNotFound)
	}},
}

func putFile(t *testing.T, st chat.Store, f chat.File) {
	t.Helper()
	if err := st.PutFile(t.Context(), f); err != nil {
		t.Fatalf("PutFile(%q): %v", f.ID, err)
	}
}

func wantFile(t *testing.T, st chat.Store, want chat.File) {
	t.Helper()
	got, err := st.File(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("File(%q): %v", want.ID, err)
	}
	var d diff
	d.time("Created", got.Created, want.Created)
	got.Created, want.Created = t0, t0
	d.fields(got, want)
	if len(d) > 0 {
		t.Errorf("File(%q) differs:%s", want.ID, d)
	}
}
