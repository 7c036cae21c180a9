package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/chat"
)

var appendTests = []test{
	{"appended events continue the sequence without gaps", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		next := int64(2)
		for _, n := range []int{1, 3, 1, 5} {
			evs := make([]chat.Event, n)
			for i := range evs {
				evs[i] = message(s.ID, "", fmt.Sprintf("m%d", next+int64(i)))
			}
			got := appendEvents(t, st, s.ID, evs, chat.SessionUpdate{})
			wantEvents(t, "Append", got, evs, next)
			next += int64(n)
		}
		log := allEvents(t, st, s.ID)
		wantGapFree(t, "Events", log, 1)
		if len(log) != 11 {
			t.Errorf("Events = %d events, want 11", len(log))
		}
	}},
	{"an event reads back with every field", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		want := fullEvent(s.ID)
		wantEvents(t, "Append", appendEvents(t, st, s.ID, []chat.Event{want}, chat.SessionUpdate{}), []chat.Event{want}, 2)
		wantEvents(t, "Events", allEvents(t, st, s.ID)[1:], []chat.Event{want}, 2)
	}},
	{"events of every type read back", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		evs := typicalEvents(s.ID)
		for _, ev := range evs {
			t.Run(string(ev.Type), func(t *testing.T) {
				got := appendEvents(t, st, s.ID, []chat.Event{ev}, chat.SessionUpdate{})
				if len(got) != 1 {
					t.Fatalf("Append = %d events, want 1", len(got))
				}
				ev.Seq = got[0].Seq
				if d := diffEvent(got[0], ev); d != "" {
					t.Errorf("Append: event differs:%s", d)
				}
				read, err := st.Events(t.Context(), s.ID, ev.Seq-1, 1)
				if err != nil || len(read) != 1 {
					t.Fatalf("Events(after %d, 1) = %d events, %v; want 1", ev.Seq-1, len(read), err)
				}
				if d := diffEvent(read[0], ev); d != "" {
					t.Errorf("Events: event differs:%s", d)
				}
			})
		}
	}},
	{"a session update is applied with the events", func(t *testing.T, st chat.Store) {
		k := key("client-1")
		putCase(t, st, chat.Case{ID: "case-1", ClientKey: k, Created: t0})
		s := create(t, st, newSession("chat-1", k, t0))
		ewt, caseID := 0, "case-1"
		steps := []struct {
			name string
			u    chat.SessionUpdate
			want func(s *chat.Session)
		}{
			{"a state and a wait are set", chat.SessionUpdate{State: chat.StateQueued, EWT: ptr(90)},
				func(s *chat.Session) { s.State, s.EWT = chat.StateQueued, 90 }},
			{"an empty update keeps everything", chat.SessionUpdate{},
				func(s *chat.Session) {}},
			{"a case is set", chat.SessionUpdate{CaseID: &caseID},
				func(s *chat.Session) { s.CaseID = caseID }},
			{"a new state keeps the wait and the case", chat.SessionUpdate{State: chat.StateConnected},
				func(s *chat.Session) { s.State = chat.StateConnected }},
			{"a zero wait is set", chat.SessionUpdate{EWT: &ewt},
				func(s *chat.Session) { s.EWT = 0 }},
			{"an empty case id clears the case", chat.SessionUpdate{CaseID: ptr("")},
				func(s *chat.Session) { s.CaseID = "" }},
			{"an agent is assigned", chat.SessionUpdate{AgentID: ptr("agent-7")},
				func(s *chat.Session) { s.AgentID = "agent-7" }},
			{"a new state keeps the agent", chat.SessionUpdate{State: chat.StateConnected},
				func(s *chat.Session) { s.State = chat.StateConnected }},
			{"an empty agent id unassigns the chat", chat.SessionUpdate{AgentID: ptr("")},
				func(s *chat.Session) { s.AgentID = "" }},
			{"everything at once", chat.SessionUpdate{State: chat.StateIVR, EWT: ptr(15), CaseID: &caseID, AgentID: ptr("agent-8")},
				func(s *chat.Session) { s.State, s.EWT, s.CaseID, s.AgentID = chat.StateIVR, 15, caseID, "agent-8" }},
		}
		want := s
		for i, step := range steps {
			t.Run(step.name, func(t *testing.T) {
				ev := status(s.ID, step.u.State, i)
				appendEvents(t, st, s.ID, []chat.Event{ev}, step.u)
				step.want(&want)
				want.LastSeq = int64(i) + 2
				if d := diffSession(session(t, st, s.ID), want); d != "" {
					t.Errorf("Session differs:%s", d)
				}
			})
		}
	}},
	{"the last sequence is that of the newest event", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		for i := range 3 {
			got := appendEvents(t, st, s.ID, []chat.Event{message(s.ID, "", "a"), message(s.ID, "", "b")}, chat.SessionUpdate{})
			if last := session(t, st, s.ID).LastSeq; last != got[len(got)-1].Seq || last != int64(3+2*i) {
				t.Errorf("after append %d: LastSeq = %d, newest appended seq %d, want %d", i, last, got[len(got)-1].Seq, 3+2*i)
			}
		}
	}},
	{"appending to an unknown chat is not found and stores nothing", func(t *testing.T, st chat.Store) {
		_, err := st.Append(t.Context(), "chat-x", []chat.Event{message("chat-x", "m1", "lost")}, chat.SessionUpdate{State: chat.StateConnected})
		wantErr(t, "Append(unknown chat)", err, chat.ErrNotFound)
		if evs, err := st.Events(t.Context(), "chat-x", 0, 10); err == nil && len(evs) > 0 {
			t.Errorf("Events(unknown chat) = %d events, want none", len(evs))
		}
		_, err = st.Session(t.Context(), "chat-x")
		wantErr(t, "Session(unknown chat)", err, chat.ErrNotFound)
	}},
	{"appending to an ended chat is not found and changes nothing", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		end(t, st, s.ID, at(10))
		before := session(t, st, s.ID)
		_, err := st.Append(t.Context(), s.ID, []chat.Event{message(s.ID, "m1", "too late")},
			chat.SessionUpdate{State: chat.StateConnected, EWT: ptr(5), CaseID: ptr("case-1"), AgentID: ptr("agent-7"), End: at(20)})
		wantErr(t, "Append(ended chat)", err, chat.ErrNotFound)
		if d := diffSession(session(t, st, s.ID), before); d != "" {
			t.Errorf("Session changed:%s", d)
		}
		if evs := allEvents(t, st, s.ID); len(evs) != 2 {
			t.Errorf("Events = %d events %q, want 2", len(evs), texts(evs))
		}
	}},
	{"a write with a cancelled context stores all of it or nothing", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		evs := []chat.Event{message(s.ID, "m1", "a"), message(s.ID, "m2", "b")}
		stored, err := st.Append(ctx, s.ID, evs, chat.SessionUpdate{State: chat.StateConnected})
		want, state := 1, chat.StateQueued
		if err == nil {
			want, state = 3, chat.StateConnected
			wantEvents(t, "Append", stored, evs, 2)
		}
		if log := allEvents(t, st, s.ID); len(log) != want {
			t.Errorf("Append = %v; Events = %d events, want %d", err, len(log), want)
		}
		if got := session(t, st, s.ID); got.State != state || got.LastSeq != int64(want) {
			t.Errorf("Append = %v; Session = state %q, last seq %d; want %q, %d", err, got.State, got.LastSeq, state, want)
		}
		_, err = st.CreateSession(ctx, newSession("chat-2", key("client-2"), t0), []chat.Event{status("chat-2", chat.StateQueued, 0)})
		if _, readErr := st.Session(t.Context(), "chat-2"); (err == nil) != (readErr == nil) {
			t.Errorf("CreateSession = %v, but Session = %v", err, readErr)
		}
	}},
}

// fullEvent returns an event with every field set, the payload included,
// whatever its type would carry on the wire: the payload is a storage format.
func fullEvent(chatID string) chat.Event {
	return chat.Event{
		ChatID: chatID, Type: chat.TypeSignaling, PartyID: "agent-7", MsgID: "3F2504E0-4F89:12", Time: at(42),
		Payload: chat.Payload{
			Msg: "<b>Hello</b> & ünïcode \u2028 \"quoted\"\nnext line", MsgText: "Hello & ünïcode",
			RefMsgID: "ref-1", State: chat.StateConnected, EWT: 120,
			FirstName: "Grace", LastName: "Hopper", DisplayName: "Grace H.", PartyType: chat.PartyInternal,
			PhotoID: "file-photo-1", AgentID: "agent-7", FileID: "file-1", FileName: "report.pdf", FileType: "attachment",
			Latitude: "52.5200", Longitude: "-13.4050", URL: "https://maps.example.com/?q=52.52,13.405",
			CaseID: "case-1", Destination: chatID,
			Signal: chat.Signal{Type: "OFFER_CALL", SDP: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n",
				Candidate: "candidate:842163049 1 udp 1677729535 1.2.3.4 46154 typ srflx", SDPMid: "0",
				SDPMLineIndex: "0", OfferVideo: "true", ReasonCode: "486", Reason: "busy"},
			Channel: "chat", FormName: "survey", FormRequest: "form-9", FormTimeout: 300,
			FormData: json.RawMessage(`{"rating": 5, "comment": "great <3", "tags": ["a", "b"], "nested": {"x": null}}`),
		},
	}
}

// typicalEvents returns one event of each type as the service stores them.
func typicalEvents(chatID string) []chat.Event {
	agent := "agent-7"
	return []chat.Event{
		{ChatID: chatID, Type: chat.TypeStatus, Time: at(1), Payload: chat.Payload{State: chat.StateConnected, EWT: 0}},
		{ChatID: chatID, Type: chat.TypePartyJoined, PartyID: agent, Time: at(2),
			Payload: chat.Payload{FirstName: "Grace", LastName: "Hopper", DisplayName: "Grace H.", PartyType: chat.PartyInternal,
				PhotoID: "file-photo-1", AgentID: "agent-7"}},
		{ChatID: chatID, Type: chat.TypeMessage, PartyID: chatID, MsgID: "android-uuid-1", Time: at(3),
			Payload: chat.Payload{Msg: "Hi<br>there", MsgText: "Hi\nthere"}},
		{ChatID: chatID, Type: chat.TypeDelivered, PartyID: agent, Time: at(4), Payload: chat.Payload{RefMsgID: "android-uuid-1"}},
		{ChatID: chatID, Type: chat.TypeRead, PartyID: agent, Time: at(5), Payload: chat.Payload{RefMsgID: "android-uuid-1"}},
		{ChatID: chatID, Type: chat.TypeTyping, PartyID: chatID, Time: at(6), Payload: chat.Payload{Msg: "draft"}},
		{ChatID: chatID, Type: chat.TypeNotTyping, PartyID: chatID, Time: at(7)},
		{ChatID: chatID, Type: chat.TypeLocation, PartyID: chatID, MsgID: "loc-1", Time: at(8),
			Payload: chat.Payload{Latitude: "48.8584", Longitude: "2.2945", URL: "https://maps.example.com/?q=48.8584,2.2945"}},
		{ChatID: chatID, Type: chat.TypeFile, PartyID: chatID, MsgID: "file-msg-1", Time: at(9),
			Payload: chat.Payload{FileID: "file-1", FileName: "photo.jpg", FileType: "image"}},
		{ChatID: chatID, Type: chat.TypeCaseSet, Time: at(10), Payload: chat.Payload{CaseID: "case-1"}},
		{ChatID: chatID, Type: chat.TypeTimeoutWarning, Time: at(11), Payload: chat.Payload{Msg: "Are you still there?"}},
		{ChatID: chatID, Type: chat.TypeInactivityTimeout, Time: at(12), Payload: chat.Payload{Msg: "Chat closed"}},
		{ChatID: chatID, Type: chat.TypeSignaling, PartyID: agent, MsgID: "sig-1", Time: at(13),
			Payload: chat.Payload{Destination: chatID, Signal: chat.Signal{Type: "ICE_CANDIDATE",
				Candidate: "candidate:1 1 udp 2122260223 10.0.0.2 54321 typ host", SDPMid: "audio", SDPMLineIndex: "1"}}},
		{ChatID: chatID, Type: chat.TypeFormShow, PartyID: agent, Time: at(14),
			Payload: chat.Payload{Channel: "chat", FormName: "survey", FormRequest: "form-9", FormTimeout: 60}},
		{ChatID: chatID, Type: chat.TypeFormData, PartyID: chatID, Time: at(15),
			Payload: chat.Payload{FormName: "survey", FormRequest: "form-9", FormData: json.RawMessage(`{"rating":"5"}`)}},
		{ChatID: chatID, Type: chat.TypeDisconnect, PartyID: chatID, Time: at(16)},
		{ChatID: chatID, Type: chat.TypePartyLeft, PartyID: agent, Time: at(17)},
		{ChatID: chatID, Type: chat.TypeEnd, PartyID: chatID, Time: at(18)},
	}
}

func ptr[T any](v T) *T { return &v }
