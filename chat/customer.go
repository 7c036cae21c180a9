package chat

import (
	"context"
	"errors"
	"fmt"
)

// Send stores events a customer sent in a live chat (Send Events). The batch
// is accepted or refused whole. chat_session_end ends the chat: events after
// it in the same batch are dropped and chat_session_ended closes the log.
func (s *Service) Send(ctx context.Context, sess *Session, evs []Event) error {
	var u SessionUpdate
	var attach []string // uploads to tie to the chat once the batch is stored
	for i := range evs {
		tie, err := s.checkFile(ctx, sess, &evs[i])
		if err != nil {
			return Errorf(CodeInvalid, "events[%d]: %v", i, err)
		}
		if tie {
			attach = append(attach, evs[i].FileID)
		}
		if evs[i].Type == TypeEnd {
			evs = evs[:i+1]
			break
		}
	}
	s.stamp(sess.ID, sess.ID, evs)
	if n := len(evs); n > 0 && evs[n-1].Type == TypeEnd {
		closing := []Event{
			{Type: TypePartyLeft},
			{Type: TypeStatus, Payload: Payload{State: StateCompleted}},
			{Type: TypeEnded},
		}
		s.stamp(sess.ID, "", closing)
		closing[0].PartyID = sess.ID
		evs = append(evs, closing...)
		u = SessionUpdate{State: StateCompleted, End: s.Now()}
	}
	if len(evs) == 0 {
		return nil
	}
	if _, err := s.Append(ctx, sess.ID, evs, u); err != nil {
		return err
	}
	for _, id := range attach {
		// The events are stored: a file left untied is still its client's
		// to send, so a failure is logged rather than answered.
		if err := s.Store.AttachFile(ctx, id, sess.ID); err != nil {
			s.Log.Warn("attach file", "chat_id", sess.ID, "file_id", id, "err", err)
		}
	}
	if !u.End.IsZero() {
		s.Log.Info("chat ended by customer", "chat_id", sess.ID)
	}
	return nil
}

// checkFile makes sure a chat_session_file names a file this client uploaded
// and fills in what the client left out. It reports whether the file is not
// yet tied to the chat; Send ties it only once the whole batch is stored, so
// that a refused batch changes nothing.
func (s *Service) checkFile(ctx context.Context, sess *Session, ev *Event) (bool, error) {
	if ev.Type != TypeFile {
		return false, nil
	}
	f, err := s.Store.File(ctx, ev.FileID)
	if errors.Is(err, ErrNotFound) || (err == nil && (f.ClientKey != sess.ClientKey || (f.ChatID != "" && f.ChatID != sess.ID))) {
		return false, fmt.Errorf("file_id: unknown file %q", ev.FileID)
	}
	if err != nil {
		return false, fmt.Errorf("find file: %w", err)
	}
	if ev.FileName == "" {
		ev.FileName = f.Name
	}
	if ev.FileType == "" {
		ev.FileType = NormalizeFileType(f.ContentType)
	}
	return f.ChatID == "", nil
}

// PollBatch is the largest number of events one poll answer carries; a
// client with more waiting gets them on its next poll, at once.
const PollBatch = 500

// Pending returns the events after the cursor that the customer has not sent
// itself and may be given on this entry, and the sequence the cursor may move
// to (past the customer's own events too).
func (s *Service) Pending(ctx context.Context, sess *Session, e *Entry, after int64) ([]Event, int64, error) {
	evs, err := s.Store.Events(ctx, sess.ID, after, PollBatch)
	if err != nil {
		return nil, after, fmt.Errorf("pending events: %w", err)
	}
	if len(evs) == 0 {
		return nil, after, nil
	}
	next := evs[len(evs)-1].Seq
	out := evs[:0]
	for _, ev := range evs {
		if !ev.Own() && e.deliverable(&ev, sess.ID) {
			out = append(out, ev)
		}
	}
	return out, next, nil
}

// deliverable reports whether a customer of this entry may be given ev
// (§4.3): only §4.2 types, signaling only where calls are on and addressed to
// the customer, forms only where forms are on.
func (e *Entry) deliverable(ev *Event, chatID string) bool {
	switch {
	case !ev.Type.CustomerVisible():
		return false
	case ev.Type == TypeSignaling:
		return e.Calls && (ev.Destination == "" || ev.Destination == chatID)
	case ev.Type == TypeFormShow:
		return e.Forms
	}
	return true
}

// History returns every event of the chat a customer may see, its own
// included; signaling is not kept in history.
func (s *Service) History(ctx context.Context, sess *Session, e *Entry) ([]Event, error) {
	var out []Event
	for after := int64(0); ; {
		evs, err := s.Store.Events(ctx, sess.ID, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		for _, ev := range evs {
			if ev.Type != TypeSignaling && e.deliverable(&ev, sess.ID) {
				out = append(out, ev)
			}
		}
		if len(evs) < 1000 {
			return out, nil
		}
		after = evs[len(evs)-1].Seq
	}
}

// CaseSession is one chat of a case's history.
type CaseSession struct {
	Session Session
	Events  []Event
}

// CaseHistory returns every chat linked to the chat's case, oldest first.
func (s *Service) CaseHistory(ctx context.Context, sess *Session, e *Entry) ([]CaseSession, error) {
	if sess.CaseID == "" {
		return nil, Errorf(CodeNoCase, "this chat has no case")
	}
	linked, err := s.Store.CaseSessions(ctx, sess.CaseID)
	if err != nil {
		return nil, fmt.Errorf("case history: %w", err)
	}
	out := make([]CaseSession, 0, len(linked))
	for _, l := range linked {
		evs, err := s.History(ctx, &l, e)
		if err != nil {
			return nil, err
		}
		out = append(out, CaseSession{Session: l, Events: evs})
	}
	return out, nil
}

// CloseCase closes the chat's case. It does not end the chat.
func (s *Service) CloseCase(ctx context.Context, sess *Session) error {
	if sess.CaseID == "" {
		return Errorf(CodeNoCase, "this chat has no case")
	}
	if err := s.Store.CloseCase(ctx, sess.CaseID); err != nil {
		return fmt.Errorf("close case: %w", err)
	}
	return nil
}

// Subscribe stores (or, with a zero token, cancels) the chat's push
// subscription after checking the entry can deliver that kind.
func (s *Service) Subscribe(ctx context.Context, sess *Session, e *Entry, p PushToken) error {
	switch p.Kind {
	case PushAPNs:
		if e.Push.APNs == nil {
			return Errorf(CodePushUnsupported, "APNs is not configured for this app")
		}
	case PushIOSFirebase, PushAndroidFirebase:
		if e.Push.FCM == nil {
			return Errorf(CodePushUnsupported, "Firebase is not configured for this app")
		}
	}
	if err := s.Store.SetPush(ctx, sess.ID, p); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	return nil
}

// ProfilePhoto returns the picture file of a party that joined the chat.
func (s *Service) ProfilePhoto(ctx context.Context, chatID, partyID string) (File, error) {
	for after := int64(0); ; {
		evs, err := s.Store.Events(ctx, chatID, after, 1000)
		if err != nil {
			return File{}, fmt.Errorf("profile photo: %w", err)
		}
		for _, ev := range evs {
			if ev.Type == TypePartyJoined && ev.PartyID == partyID && ev.PhotoID != "" {
				return s.Store.File(ctx, ev.PhotoID)
			}
		}
		if len(evs) < 1000 {
			return File{}, ErrNotFound
		}
		after = evs[len(evs)-1].Seq
	}
}
