package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Fixtures. Times are whole seconds because stores keep them to the second.
const (
	host  = "demo.parley.local"
	appID = "support"
)

var t0 = time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC)

// at returns the fixture time n seconds after t0.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// key returns the client's key on the default tenant and entry.
func key(clientID string) chat.ClientKey {
	return chat.ClientKey{Tenant: host, AppID: appID, ClientID: clientID}
}

// newSession returns a queued session as Request Chat creates it.
func newSession(id string, k chat.ClientKey, created time.Time) chat.Session {
	return chat.Session{ID: id, ClientKey: k, State: chat.StateQueued, Created: created}
}

// status returns the chat_session_status event that opens every chat.
func status(chatID, state string, ewt int) chat.Event {
	return chat.Event{ChatID: chatID, Type: chat.TypeStatus, Time: t0,
		Payload: chat.Payload{State: state, EWT: ewt}}
}

// message returns a customer's message; text tells events apart in tests.
func message(chatID, msgID, text string) chat.Event {
	return chat.Event{ChatID: chatID, Type: chat.TypeMessage, PartyID: chatID, MsgID: msgID,
		Time: t0, Payload: chat.Payload{Msg: text, MsgText: text}}
}

// fromParty returns ev as sent by another party than the customer.
func fromParty(ev chat.Event, partyID string) chat.Event {
	ev.PartyID = partyID
	return ev
}

// event returns an event of any type whose Msg tells it apart in tests.
func event(chatID string, typ chat.Type, msgID, text string) chat.Event {
	ev := message(chatID, msgID, text)
	ev.Type = typ
	return ev
}

// create stores a session with one status event and returns it.
func create(t *testing.T, st chat.Store, s chat.Session) chat.Session {
	t.Helper()
	if _, err := st.CreateSession(t.Context(), s, []chat.Event{status(s.ID, s.State, s.EWT)}); err != nil {
		t.Fatalf("CreateSession(%q): %v", s.ID, err)
	}
	return s
}

// appendEvents appends evs to the chat and returns what the store stored.
func appendEvents(t *testing.T, st chat.Store, chatID string, evs []chat.Event, u chat.SessionUpdate) []chat.Event {
	t.Helper()
	stored, err := st.Append(t.Context(), chatID, evs, u)
	if err != nil {
		t.Fatalf("Append(%q, %d events): %v", chatID, len(evs), err)
	}
	return stored
}

// end ends a live chat the way a customer's chat_session_end does.
func end(t *testing.T, st chat.Store, chatID string, when time.Time) {
	t.Helper()
	ended := chat.Event{ChatID: chatID, Type: chat.TypeEnded, Time: when}
	appendEvents(t, st, chatID, []chat.Event{ended}, chat.SessionUpdate{State: chat.StateCompleted, End: when})
}

// session reads a session that must exist.
func session(t *testing.T, st chat.Store, id string) chat.Session {
	t.Helper()
	s, err := st.Session(t.Context(), id)
	if err != nil {
		t.Fatalf("Session(%q): %v", id, err)
	}
	return s
}

// allEvents reads a chat's whole log, page by page.
func allEvents(t *testing.T, st chat.Store, chatID string) []chat.Event {
	t.Helper()
	var out []chat.Event
	for after := int64(0); ; {
		evs, err := st.Events(t.Context(), chatID, after, 100)
		if err != nil {
			t.Fatalf("Events(%q, %d, 100): %v", chatID, after, err)
		}
		out = append(out, evs...)
		if len(evs) < 100 {
			return out
		}
		after = evs[len(evs)-1].Seq
	}
}

// wantErr fails the test unless err is target (errors.Is).
func wantErr(t *testing.T, op string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want %v", op, err, target)
	}
}

// wantGapFree fails the test unless the seqs of evs are from, from+1, ….
func wantGapFree(t *testing.T, what string, evs []chat.Event, from int64) {
	t.Helper()
	for i, ev := range evs {
		if want := from + int64(i); ev.Seq != want {
			t.Fatalf("%s: event %d has seq %d, want %d (seqs %v)", what, i, ev.Seq, want, seqs(evs))
		}
	}
}

func seqs(evs []chat.Event) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

// texts returns the Msg of each event: the tag tests tell events apart by.
func texts(evs []chat.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Msg
	}
	return out
}

// sameJSON reports whether two JSON documents hold the same value: stores
// may keep them as text or as a parsed document (jsonb), so spacing and key
// order are not part of the contract. Empty and null both mean "none".
func sameJSON(a, b json.RawMessage) bool {
	if none(a) || none(b) {
		return none(a) && none(b)
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

func isEmptyObject(j json.RawMessage) bool {
	var m map[string]any
	return json.Unmarshal(j, &m) == nil && m != nil && len(m) == 0
}

func none(j json.RawMessage) bool {
	return len(bytes.TrimSpace(j)) == 0 || string(bytes.TrimSpace(j)) == "null"
}

// sameTime reports whether two times are the same second; zero is only
// the same as zero.
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() && b.IsZero()
	}
	return a.Unix() == b.Unix()
}

// diffEvent describes how got differs from want, "" when it does not.
func diffEvent(got, want chat.Event) string {
	var d diff
	d.check("ChatID", got.ChatID, want.ChatID)
	d.check("Seq", got.Seq, want.Seq)
	d.check("Type", got.Type, want.Type)
	d.check("PartyID", got.PartyID, want.PartyID)
	d.check("MsgID", got.MsgID, want.MsgID)
	d.time("Time", got.Time, want.Time)
	d.json("FormData", got.FormData, want.FormData)
	gp, wp := got.Payload, want.Payload
	gp.FormData, wp.FormData = nil, nil
	d.check("Payload", gp, wp)
	return d.String()
}

// diffSession describes how got differs from want, "" when it does not.
func diffSession(got, want chat.Session) string {
	var d diff
	d.check("ID", got.ID, want.ID)
	d.check("ClientKey", got.ClientKey, want.ClientKey)
	d.check("State", got.State, want.State)
	d.check("EWT", got.EWT, want.EWT)
	d.check("PhoneNumber", got.PhoneNumber, want.PhoneNumber)
	d.check("From", got.From, want.From)
	if none(want.Parameters) && isEmptyObject(got.Parameters) {
		got.Parameters = nil // no parameters may be kept as the empty object
	}
	d.json("Parameters", got.Parameters, want.Parameters)
	d.check("CaseID", got.CaseID, want.CaseID)
	d.check("AgentID", got.AgentID, want.AgentID)
	d.time("Created", got.Created, want.Created)
	d.time("Ended", got.Ended, want.Ended)
	d.check("LastSeq", got.LastSeq, want.LastSeq)
	d.check("Cursor", got.Cursor, want.Cursor)
	d.check("Push", got.Push, want.Push)
	return d.String()
}

// diffEntry describes how got differs from want, "" when it does not.
func diffEntry(got, want chat.Entry) string {
	got, want = normEntry(got), normEntry(want)
	var d diff
	d.json("Widgets", got.Widgets, want.Widgets)
	got.Widgets, want.Widgets = nil, nil
	gFCM, wFCM := got.Push.FCM, want.Push.FCM
	if (gFCM == nil) != (wFCM == nil) {
		d.add("Push.FCM set = %v, want %v", gFCM != nil, wFCM != nil)
	} else if gFCM != nil {
		d.json("Push.FCM.ServiceAccount", gFCM.ServiceAccount, wFCM.ServiceAccount)
		d.check("Push.FCM.ProjectID", gFCM.ProjectID, wFCM.ProjectID)
	}
	if !reflect.DeepEqual(got.Push.APNs, want.Push.APNs) {
		d.add("Push.APNs = %s, want %s", show(reflect.ValueOf(got.Push.APNs)), show(reflect.ValueOf(want.Push.APNs)))
	}
	got.Push, want.Push = chat.PushConfig{}, chat.PushConfig{}
	d.fields(got, want)
	return d.String()
}

// diff collects the differences of one comparison.
type diff []string

func (d *diff) add(format string, args ...any) { *d = append(*d, fmt.Sprintf(format, args...)) }

func (d *diff) check(field string, got, want any) {
	if !reflect.DeepEqual(got, want) {
		d.add("%s = %+v, want %+v", field, got, want)
	}
}

// fields checks two structs of one type field by field, showing what
// pointers point to.
func (d *diff) fields(got, want any) {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		gf, wf := g.Field(i), w.Field(i)
		if !reflect.DeepEqual(gf.Interface(), wf.Interface()) {
			d.add("%s = %s, want %s", g.Type().Field(i).Name, show(gf), show(wf))
		}
	}
}

func show(v reflect.Value) string {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		return fmt.Sprintf("&%+v", v.Elem().Interface())
	}
	return fmt.Sprintf("%+v", v.Interface())
}

func (d *diff) time(field string, got, want time.Time) {
	if !sameTime(got, want) {
		d.add("%s = %v, want %v (to the second)", field, got, want)
	}
}

func (d *diff) json(field string, got, want json.RawMessage) {
	if !sameJSON(got, want) {
		d.add("%s = %s, want %s", field, got, want)
	}
}

func (d diff) String() string {
	s := ""
	for _, l := range d {
		s += "\n\t" + l
	}
	return s
}

// normEntry turns empty lists into nil ones: a store may return either for
// a list that was put empty.
func normEntry(e chat.Entry) chat.Entry {
	if len(e.Parameters) == 0 {
		e.Parameters = nil
	}
	if len(e.ICEServers) == 0 {
		e.ICEServers = nil
	}
	if len(e.CORSOrigins) == 0 {
		e.CORSOrigins = nil
	}
	if len(e.Skills) == 0 {
		e.Skills = nil
	}
	if len(e.Files.AllowedTypes) == 0 {
		e.Files.AllowedTypes = nil
	}
	return e
}
