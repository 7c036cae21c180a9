package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Service applies the session rules over a Store and a Bus: it is what the
// customer API (and later the agent side) calls. It is safe for concurrent
// use; all shared state lives in the store.
type Service struct {
	Store Store
	Bus   Bus
	Log   *slog.Logger
	Now   func() time.Time // the server clock; events are stamped with it
	// Waits estimates how long a new chat would wait on an entry; nil
	// where no routing runs.
	Waits WaitEstimator
	// Observers learn of new chats and stored events after they are
	// durable (routing, push). They must not block.
	Observers []Observer
}

// Observer reacts to what happens in chats.
type Observer interface {
	ChatRequested(s Session, e Entry)
	EventsAppended(chatID string, evs []Event)
}

// SystemParty is the party id of messages the contact center's system
// sends (offline notes, greetings): not an agent, not the customer.
const SystemParty = "system"

// WaitEstimator is what routing offers the customer API: the estimated wait
// time, in seconds, of a chat requested now on an entry.
type WaitEstimator interface {
	EstimateWait(ctx context.Context, e *Entry) (seconds int, ok bool)
}

// EstimateWait returns the estimated wait of a new chat on e, if known.
func (s *Service) EstimateWait(ctx context.Context, e *Entry) (int, bool) {
	if s.Waits == nil {
		return 0, false
	}
	return s.Waits.EstimateWait(ctx, e)
}

// NewService returns a Service over store and bus.
func NewService(store Store, bus Bus, log *slog.Logger) *Service {
	return &Service{Store: store, Bus: bus, Log: log, Now: time.Now}
}

// Resolve finds the tenant and entry a request addresses.
func (s *Service) Resolve(ctx context.Context, tenant, appID string) (Entry, error) {
	t, err := s.Store.Tenant(ctx, tenant)
	if errors.Is(err, ErrNotFound) || (err == nil && t.Disabled) {
		return Entry{}, Errorf(CodeTenant, "unknown tenant %q", tenant)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("resolve tenant: %w", err)
	}
	e, err := s.Store.Entry(ctx, t.Host, appID)
	if errors.Is(err, ErrNotFound) || (err == nil && e.Disabled) {
		return Entry{}, Errorf(CodeUnknownApp, "unknown appId %q", appID)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("resolve entry: %w", err)
	}
	return e, nil
}

// Availability answers Check Availability for an entry.
func (s *Service) Availability(e *Entry) string {
	if !e.Disabled && e.Hours.Open(s.Now()) {
		return "available"
	}
	return e.Closed()
}

// ChatRequest is the body of Request Chat.
type ChatRequest struct {
	PhoneNumber string
	From        string
	Parameters  json.RawMessage
}

// RequestChat starts a chat for the client, or returns its live chat on the
// entry with created false (§3: one live chat per client per entry).
func (s *Service) RequestChat(ctx context.Context, k ClientKey, e *Entry, req ChatRequest) (Session, bool, error) {
	if live, err := s.Store.LiveSession(ctx, k); err == nil {
		return live, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Session{}, false, fmt.Errorf("request chat: %w", err)
	}
	open := e.Hours.Open(s.Now())
	if !open && e.OutOfHours != "queue" {
		return Session{}, false, Errorf(CodeUnavailable, "the contact center is closed")
	}
	now := s.Now()
	ewt, _ := s.EstimateWait(ctx, e)
	sess := Session{EWT: ewt,
		ID: NewID(), ClientKey: k, State: StateQueued, Created: now,
		PhoneNumber: req.PhoneNumber, From: req.From, Parameters: req.Parameters,
	}
	first := []Event{{Type: TypeStatus, Payload: Payload{State: StateQueued, EWT: sess.EWT}}}
	var made string // a case created for this request
	if e.AutoCase {
		c, created, err := s.clientCase(ctx, k, now)
		if err != nil {
			return Session{}, false, err
		}
		if created {
			made = c.ID
		}
		sess.CaseID = c.ID
		first = append(first, Event{Type: TypeCaseSet, Payload: Payload{CaseID: c.ID}})
	}
	if !open && e.OfflineMessage != "" {
		first = append(first, Event{Type: TypeMessage, MsgID: NewID(), PartyID: SystemParty,
			Payload: Payload{Msg: e.OfflineMessage, MsgText: e.OfflineMessage}})
	}
	s.stamp(sess.ID, "", first)
	stored, err := s.Store.CreateSession(ctx, sess, first)
	if errors.Is(err, ErrConflict) {
		// A concurrent request of the same client won the race: answer its chat.
		live, err := s.Store.LiveSession(ctx, k)
		if err != nil {
			return Session{}, false, fmt.Errorf("request chat: %w", err)
		}
		// A case made for this request and not the winner's would be taken
		// for the client's open case by its next chat, splitting its history.
		if made != "" && made != live.CaseID {
			if err := s.Store.CloseCase(ctx, made); err != nil {
				s.Log.Warn("close unused case", "case_id", made, "err", err)
			}
		}
		return live, false, nil
	}
	if err != nil {
		return Session{}, false, fmt.Errorf("request chat: %w", err)
	}
	sess.LastSeq = stored[len(stored)-1].Seq
	s.publish(ctx, sess.ID)
	s.publishTo(ctx, CustomerTopic(sess.ID), sess.ID)
	for _, o := range s.Observers {
		o.ChatRequested(sess, *e)
	}
	s.Log.Info("chat requested", "chat_id", sess.ID, "tenant", k.Tenant, "app_id", k.AppID, "client_id", k.ClientID)
	return sess, true, nil
}

// clientCase returns the client's open case on the entry, creating one; it
// reports whether it did.
func (s *Service) clientCase(ctx context.Context, k ClientKey, now time.Time) (Case, bool, error) {
	c, err := s.Store.OpenCase(ctx, k)
	if err == nil {
		return c, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Case{}, false, fmt.Errorf("open case: %w", err)
	}
	c = Case{ID: NewID(), ClientKey: k, Created: now}
	if err := s.Store.PutCase(ctx, c); err != nil {
		return Case{}, false, fmt.Errorf("create case: %w", err)
	}
	return c, true, nil
}

// ActiveChat returns the client's live chat on the entry.
func (s *Service) ActiveChat(ctx context.Context, k ClientKey) (Session, error) {
	sess, err := s.Store.LiveSession(ctx, k)
	if errors.Is(err, ErrNotFound) {
		return Session{}, Errorf(CodeChatNotFound, "no active chat")
	}
	if err != nil {
		return Session{}, fmt.Errorf("active chat: %w", err)
	}
	return sess, nil
}

// Chat returns the session chatID if it belongs to the client k, live or
// not. Anyone else is told it does not exist.
func (s *Service) Chat(ctx context.Context, k ClientKey, chatID string) (Session, error) {
	sess, err := s.Store.Session(ctx, chatID)
	if errors.Is(err, ErrNotFound) || (err == nil && sess.ClientKey != k) {
		return Session{}, Errorf(CodeChatNotFound, "chat not found")
	}
	if err != nil {
		return Session{}, fmt.Errorf("find chat: %w", err)
	}
	return sess, nil
}

// LiveChat is Chat for chats that have not ended.
func (s *Service) LiveChat(ctx context.Context, k ClientKey, chatID string) (Session, error) {
	sess, err := s.Chat(ctx, k, chatID)
	if err == nil && !sess.Live() {
		return Session{}, Errorf(CodeChatNotFound, "chat has ended")
	}
	return sess, err
}

// stamp gives events their chat, sender and the server's time.
func (s *Service) stamp(chatID, partyID string, evs []Event) {
	now := s.Now()
	for i := range evs {
		evs[i].ChatID, evs[i].Time = chatID, now
		if partyID != "" {
			evs[i].PartyID = partyID
		}
	}
}

// Append stores events of any party in a live chat and wakes its readers.
func (s *Service) Append(ctx context.Context, chatID string, evs []Event, u SessionUpdate) ([]Event, error) {
	stored, err := s.Store.Append(ctx, chatID, evs, u)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeChatNotFound, "chat not found or ended")
	}
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	// A batch that stores nothing new is a resend of one whose answer was
	// lost, and its wake-ups may have been lost with it: the node that
	// stored it may have died between its commit and its publish. Readers
	// are woken again for it, so that a client's resend completes what its
	// first send began; resends are rare and wake-ups cheap.
	if len(evs) > 0 || !u.End.IsZero() {
		s.publish(ctx, chatID)
		if !u.End.IsZero() || !allOwn(evs) {
			s.publishTo(ctx, CustomerTopic(chatID), chatID)
		}
	}
	for _, o := range s.Observers {
		o.EventsAppended(chatID, stored)
	}
	return stored, nil
}

func (s *Service) publish(ctx context.Context, chatID string) {
	s.publishTo(ctx, ChatTopic(chatID), chatID)
}

func (s *Service) publishTo(ctx context.Context, topic, chatID string) {
	// The event is durable; a failed wake-up only delays readers until their
	// poll times out, so it is logged rather than failing the request.
	if err := s.Bus.Publish(ctx, topic); err != nil {
		s.Log.Warn("publish wake-up", "chat_id", chatID, "err", err)
	}
}

// allOwn reports whether every event is the customer's own: nothing a
// customer's poll would be given.
func allOwn(evs []Event) bool {
	for i := range evs {
		if !evs[i].Own() {
			return false
		}
	}
	return true
}
