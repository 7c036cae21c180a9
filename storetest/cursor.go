package storetest

import (
	"testing"

	"github.com/parley-chat/parley/chat"
)

var cursorTests = []test{
	{"the cursor moves forward and never back", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		var evs []chat.Event
		for range 9 {
			evs = append(evs, message(s.ID, "", "m"))
		}
		appendEvents(t, st, s.ID, evs, chat.SessionUpdate{})
		for _, step := range []struct {
			name string
			set  int64
			want int64
		}{
			{"a new chat's cursor moves to its first events", 3, 3},
			{"an older cursor does not move it back", 2, 3},
			{"the same cursor keeps it", 3, 3},
			{"a newer cursor moves it", 7, 7},
			{"a cursor of zero does not reset it", 0, 7},
			{"the newest sequence moves it to the end", 10, 10},
		} {
			t.Run(step.name, func(t *testing.T) {
				if err := st.SetCursor(t.Context(), s.ID, step.set); err != nil {
					t.Fatalf("SetCursor(%d): %v", step.set, err)
				}
				if got := session(t, st, s.ID).Cursor; got != step.want {
					t.Errorf("after SetCursor(%d): Cursor = %d, want %d", step.set, got, step.want)
				}
			})
		}
	}},
	{"a new session's cursor is zero", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		if got := session(t, st, s.ID).Cursor; got != 0 {
			t.Errorf("Cursor = %d, want 0", got)
		}
	}},
	{"cursors of chats are kept apart", func(t *testing.T, st chat.Store) {
		a := create(t, st, newSession("chat-a", key("client-1"), t0))
		b := create(t, st, newSession("chat-b", key("client-2"), t0))
		if err := st.SetCursor(t.Context(), a.ID, 1); err != nil {
			t.Fatalf("SetCursor: %v", err)
		}
		if got := session(t, st, b.ID).Cursor; got != 0 {
			t.Errorf("Cursor of the other chat = %d, want 0", got)
		}
	}},
	{"the cursor of an ended chat still moves", func(t *testing.T, st chat.Store) {
		// The last events of a chat are delivered after it has ended.
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		end(t, st, s.ID, at(1))
		if err := st.SetCursor(t.Context(), s.ID, 2); err != nil {
			t.Fatalf("SetCursor(ended chat): %v", err)
		}
		if got := session(t, st, s.ID).Cursor; got != 2 {
			t.Errorf("Cursor = %d, want 2", got)
		}
	}},
	{"setting the cursor of an unknown chat is not found", func(t *testing.T, st chat.Store) {
		wantErr(t, "SetCursor(unknown chat)", st.SetCursor(t.Context(), "chat-x", 1), chat.ErrNotFound)
	}},
	{"a push subscription reads back and is replaced", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		other := create(t, st, newSession("chat-2", key("client-2"), t0))
		for _, p := range []chat.PushToken{
			{Kind: chat.PushAPNs, Token: "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", Topic: "com.example.app"},
			{Kind: chat.PushAndroidFirebase, Token: "fcm:APA91bH-long_token.with/odd+chars="},
			{Kind: chat.PushIOSFirebase, Token: "ios-fcm-token", Topic: "com.example.ios"},
		} {
			t.Run(p.Kind, func(t *testing.T) {
				if err := st.SetPush(t.Context(), s.ID, p); err != nil {
					t.Fatalf("SetPush: %v", err)
				}
				if got := session(t, st, s.ID).Push; got != p {
					t.Errorf("Push = %+v, want %+v", got, p)
				}
			})
		}
		if got := session(t, st, other.ID).Push; got != (chat.PushToken{}) {
			t.Errorf("Push of the other chat = %+v, want none", got)
		}
	}},
	{"a zero push token ends the subscription", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		if err := st.SetPush(t.Context(), s.ID, chat.PushToken{Kind: chat.PushAPNs, Token: "tok", Topic: "com.example.app"}); err != nil {
			t.Fatalf("SetPush: %v", err)
		}
		if err := st.SetPush(t.Context(), s.ID, chat.PushToken{}); err != nil {
			t.Fatalf("SetPush(zero): %v", err)
		}
		if got := session(t, st, s.ID).Push; got != (chat.PushToken{}) {
			t.Errorf("Push = %+v, want none", got)
		}
	}},
	{"subscribing an unknown chat is not found", func(t *testing.T, st chat.Store) {
		err := st.SetPush(t.Context(), "chat-x", chat.PushToken{Kind: chat.PushAPNs, Token: "tok"})
		wantErr(t, "SetPush(unknown chat)", err, chat.ErrNotFound)
	}},
}
