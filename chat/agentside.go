package chat

import (
	"context"
	"errors"
	"fmt"
)

// Join puts an agent into a chat as an internal party: the customer sees
// chat_session_party_joined with the agent's names, then status connected.
func (s *Service) Join(ctx context.Context, chatID, partyID string, a *Agent) error {
	evs := []Event{
		{Type: TypePartyJoined, PartyID: partyID, Payload: Payload{
			FirstName: a.FirstName, LastName: a.LastName, DisplayName: a.DisplayName,
			PartyType: PartyInternal, PhotoID: a.PhotoID, AgentID: a.ID,
		}},
		{Type: TypeStatus, Payload: Payload{State: StateConnected}},
	}
	s.stamp(chatID, "", evs)
	zero, agent := 0, a.ID
	_, err := s.Append(ctx, chatID, evs, SessionUpdate{State: StateConnected, EWT: &zero, AgentID: &agent})
	return err
}

// Leave takes an agent's party out of a chat that goes back to waiting
// (a transfer): party left, then status queued with the new estimate.
func (s *Service) Leave(ctx context.Context, chatID, partyID string, ewt int) error {
	evs := []Event{
		{Type: TypePartyLeft, PartyID: partyID},
		{Type: TypeStatus, Payload: Payload{State: StateQueued, EWT: ewt}},
	}
	s.stamp(chatID, "", evs)
	none := ""
	_, err := s.Append(ctx, chatID, evs, SessionUpdate{State: StateQueued, EWT: &ewt, AgentID: &none})
	return err
}

// UpdateWait tells a waiting customer a new estimated wait time.
func (s *Service) UpdateWait(ctx context.Context, chatID string, ewt int) error {
	evs := []Event{{Type: TypeStatus, Payload: Payload{State: StateQueued, EWT: ewt}}}
	s.stamp(chatID, "", evs)
	_, err := s.Append(ctx, chatID, evs, SessionUpdate{EWT: &ewt})
	return err
}

// Finish ends a chat from the contact-center side: the agent's party (if
// any) leaves, an optional notice of why comes first (inactivity), and
// chat_session_ended closes the log.
func (s *Service) Finish(ctx context.Context, chatID, partyID string, notice *Event) error {
	var evs []Event
	if notice != nil {
		evs = append(evs, *notice)
	}
	if partyID != "" {
		evs = append(evs, Event{Type: TypePartyLeft, PartyID: partyID})
	}
	evs = append(evs, Event{Type: TypeStatus, Payload: Payload{State: StateCompleted}}, Event{Type: TypeEnded})
	s.stamp(chatID, "", evs)
	_, err := s.Append(ctx, chatID, evs, SessionUpdate{State: StateCompleted, End: s.Now()})
	return err
}

// Notice appends a system notice (a timeout warning) to a chat.
func (s *Service) Notice(ctx context.Context, chatID string, t Type, msg string) error {
	evs := []Event{{Type: t, Payload: Payload{Msg: msg}}}
	s.stamp(chatID, "", evs)
	_, err := s.Append(ctx, chatID, evs, SessionUpdate{})
	return err
}

// AgentSend stores events an agent sent in a chat as party partyID. Agent
// messages are plain text; files must be ones an agent of the tenant uploaded.
func (s *Service) AgentSend(ctx context.Context, sess *Session, partyID string, evs []Event) ([]Event, error) {
	for i := range evs {
		ev := &evs[i]
		if ev.MsgID == "" && ev.Type.Deduplicated() {
			ev.MsgID = NewID()
		}
		if ev.Type == TypeFile {
			if err := s.checkAgentFile(ctx, sess, ev); err != nil {
				return nil, Errorf(CodeInvalid, "events[%d]: %v", i, err)
			}
		}
	}
	s.stamp(sess.ID, partyID, evs)
	return s.Append(ctx, sess.ID, evs, SessionUpdate{})
}

func (s *Service) checkAgentFile(ctx context.Context, sess *Session, ev *Event) error {
	f, err := s.Store.File(ctx, ev.FileID)
	if errors.Is(err, ErrNotFound) || (err == nil && f.Tenant != sess.Tenant) {
		return fmt.Errorf("file_id: unknown file %q", ev.FileID)
	}
	if err != nil {
		return err
	}
	if ev.FileName == "" {
		ev.FileName = f.Name
	}
	if ev.FileType == "" {
		ev.FileType = NormalizeFileType(f.ContentType)
	}
	if f.ChatID == "" {
		return s.Store.AttachFile(ctx, f.ID, sess.ID)
	}
	return nil
}

// SetCase links a chat to a case of the same customer (a new one when
// caseID is ""), telling the customer with chat_session_case_set.
func (s *Service) SetCase(ctx context.Context, sess *Session, caseID string) (string, error) {
	if caseID == "" {
		c := Case{ID: NewID(), ClientKey: sess.ClientKey, Created: s.Now()}
		if err := s.Store.PutCase(ctx, c); err != nil {
			return "", fmt.Errorf("create case: %w", err)
		}
		caseID = c.ID
	} else {
		c, err := s.Store.Case(ctx, caseID)
		if errors.Is(err, ErrNotFound) || (err == nil && c.ClientKey != sess.ClientKey) {
			return "", Errorf(CodeInvalid, "case %q is not a case of this customer", caseID)
		}
		if err != nil {
			return "", fmt.Errorf("find case: %w", err)
		}
	}
	evs := []Event{{Type: TypeCaseSet, Payload: Payload{CaseID: caseID}}}
	s.stamp(sess.ID, "", evs)
	_, err := s.Append(ctx, sess.ID, evs, SessionUpdate{CaseID: &caseID})
	return caseID, err
}
