package agentapi

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/parley-chat/parley/internal/jsonapi"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley/chat"
)

func (h *Handler) me(w http.ResponseWriter, r *http.Request, s *session) error {
	v, err := h.Router.View(r.Context(), s.agent.ID)
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]any{"agent": s.agent, "routing": v})
	return nil
}

func (h *Handler) setState(w http.ResponseWriter, r *http.Request, s *session) error {
	var req struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	}
	if err := h.readJSON(w, r, &req); err != nil {
		return err
	}
	if err := h.Router.SetState(r.Context(), s.agent.ID, req.State, req.Reason); err != nil {
		return err
	}
	v, err := h.Router.View(r.Context(), s.agent.ID)
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, v)
	return nil
}

// chatView is a chat as the agent side sees it, customer details included.
type chatView struct {
	ChatID      string          `json:"chat_id"`
	AppID       string          `json:"app_id"`
	State       string          `json:"state"`
	Ended       bool            `json:"ended"`
	Created     time.Time       `json:"created"`
	EndedAt     *time.Time      `json:"ended_at,omitempty"`
	ClientID    string          `json:"client_id"`
	PhoneNumber string          `json:"phone_number"`
	From        string          `json:"from"`
	Parameters  json.RawMessage `json:"parameters"`
	CaseID      string          `json:"case_id"`
	AgentID     string          `json:"agent_id"`
	PartyID     string          `json:"party_id"` // the agent's party, while assigned
	LastSeq     int64           `json:"last_seq"`
	Calls       bool            `json:"calls"` // the entry has calls on: signaling and iceservers work
}

func (h *Handler) view(ctx context.Context, sess *chat.Session) chatView {
	v := chatView{
		ChatID: sess.ID, AppID: sess.AppID, State: sess.State, Ended: !sess.Live(), Created: sess.Created,
		ClientID: sess.ClientID, PhoneNumber: sess.PhoneNumber, From: sess.From, Parameters: sess.Parameters,
		CaseID: sess.CaseID, AgentID: sess.AgentID, LastSeq: sess.LastSeq,
	}
	if !sess.Live() {
		v.EndedAt = &sess.Ended
	}
	if len(v.Parameters) == 0 {
		v.Parameters = json.RawMessage(`{}`)
	}
	if sess.Live() {
		if _, party, err := h.Router.Assigned(ctx, sess.ID); err == nil {
			v.PartyID = party
		} else {
			// The view goes out without the party rather than not at all.
			h.Log.Warn("read the assignment of a chat", "chat_id", sess.ID, "err", err)
		}
	}
	entry, err := h.Service.Store.Entry(ctx, sess.Tenant, sess.AppID)
	switch {
	case err == nil:
		v.Calls = entry.Calls
	case !errors.Is(err, chat.ErrNotFound):
		// The view goes out without calls rather than not at all.
		h.Log.Warn("read the entry of a chat", "chat", sess.ID, "app_id", sess.AppID, "err", err)
	}
	return v
}

// access is what an agent may do with a chat.
type access int

const (
	readOnly access = iota // offered, handled before, or any chat for an admin
	owner                  // assigned to the agent now
)

// chatFor loads a chat of the agent's tenant that the agent may see with at
// least the wanted access; any other chat does not exist for them.
func (h *Handler) chatFor(ctx context.Context, s *session, chatID string, want access) (chat.Session, string, error) {
	notFound := chat.Errorf(chat.CodeChatNotFound, "chat not found")
	sess, err := h.Service.Store.Session(ctx, chatID)
	if errors.Is(err, chat.ErrNotFound) || (err == nil && sess.Tenant != s.agent.Tenant) {
		return chat.Session{}, "", notFound
	}
	if err != nil {
		return chat.Session{}, "", err
	}
	agentID, party, err := h.Router.Assigned(ctx, chatID)
	if err == nil && agentID != "" && agentID == s.agent.ID {
		return sess, party, nil
	}
	if want == owner {
		if err != nil {
			return chat.Session{}, "", err
		}
		return chat.Session{}, "", notFound
	}
	// Reading needs routing only to find an offer.
	if s.agent.Role == chat.RoleAdmin || sess.AgentID == s.agent.ID {
		return sess, "", nil
	}
	offered, err := h.offered(ctx, s.agent.ID, chatID)
	if err != nil {
		return chat.Session{}, "", err
	}
	if offered {
		return sess, "", nil
	}
	return chat.Session{}, "", notFound
}

func (h *Handler) offered(ctx context.Context, agentID, chatID string) (bool, error) {
	v, err := h.Router.View(ctx, agentID)
	if err != nil {
		return false, err
	}
	for _, o := range v.Offers {
		if o.ChatID == chatID {
			return true, nil
		}
	}
	return false, nil
}

// listChats lists the agent's current chats, or with ?ended=1 the ended
// chats they handled most recently (?limit=, default 50).
func (h *Handler) listChats(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	v, err := h.Router.View(ctx, s.agent.ID)
	if err != nil {
		return err
	}
	var sessions []chat.Session
	if r.URL.Query().Get("ended") != "" {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit <= 0 || limit > 500 {
			limit = 50
		}
		// The store lists the agent's live chats too: ask for that many
		// more and leave them out.
		recent, err := h.Service.Store.AgentSessions(ctx, s.agent.ID, limit+len(v.Chats))
		if err != nil {
			return err
		}
		for _, sess := range recent {
			if !sess.Live() && len(sessions) < limit {
				sessions = append(sessions, sess)
			}
		}
	} else {
		for _, id := range v.Chats {
			sess, err := h.Service.Store.Session(ctx, id)
			if err != nil {
				return err
			}
			sessions = append(sessions, sess)
		}
	}
	out := make([]chatView, 0, len(sessions))
	for i := range sessions {
		out = append(out, h.view(ctx, &sessions[i]))
	}
	jsonapi.WriteJSON(w, map[string]any{"chats": out})
	return nil
}

func (h *Handler) getChat(w http.ResponseWriter, r *http.Request, s *session) error {
	sess, _, err := h.chatFor(r.Context(), s, r.PathValue("chatId"), readOnly)
	if err != nil {
		return err
	}
	wrapups, err := h.Service.Store.WrapUps(r.Context(), sess.ID)
	if err != nil {
		return err
	}
	if wrapups == nil {
		wrapups = []chat.WrapUp{}
	}
	jsonapi.WriteJSON(w, map[string]any{"chat": h.view(r.Context(), &sess), "wrapups": wrapups})
	return nil
}

// chatEvents is the transcript: every event of the chat after ?after=, in
// order, both parties' and the system's (at most 1000 per call).
func (h *Handler) chatEvents(w http.ResponseWriter, r *http.Request, s *session) error {
	sess, _, err := h.chatFor(r.Context(), s, r.PathValue("chatId"), readOnly)
	if err != nil {
		return err
	}
	after, err := afterParam(r)
	if err != nil {
		return err
	}
	evs, err := h.Service.Store.Events(r.Context(), sess.ID, after, 1000)
	if err != nil {
		return err
	}
	jsonapi.WriteRaw(w, http.StatusOK, chat.AppendEvents(nil, evs))
	return nil
}

func afterParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("after")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, chat.Errorf(chat.CodeInvalid, "after: want a sequence number")
	}
	return n, nil
}

func (h *Handler) sendEvents(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	sess, party, err := h.chatFor(ctx, s, r.PathValue("chatId"), owner)
	if err != nil {
		return err
	}
	entry, err := h.Service.Store.Entry(ctx, sess.Tenant, sess.AppID)
	if err != nil {
		return err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	evs, err := chat.DecodeAgentEvents(body, &entry)
	if err != nil {
		return err
	}
	for i := range evs {
		if evs[i].Type == chat.TypeSignaling && evs[i].Destination == "" {
			evs[i].Destination = sess.ID
		}
	}
	stored, err := h.Service.AgentSend(ctx, &sess, party, evs)
	if err != nil {
		return err
	}
	jsonapi.WriteRaw(w, http.StatusOK, chat.AppendEvents(nil, stored))
	return nil
}

func (h *Handler) accept(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.Router.Accept(r.Context(), s.agent.ID, r.PathValue("chatId")); err != nil {
		return err
	}
	sess, err := h.Service.Store.Session(r.Context(), r.PathValue("chatId"))
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]any{"chat": h.view(r.Context(), &sess)})
	return nil
}

func (h *Handler) reject(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.Router.Reject(r.Context(), s.agent.ID, r.PathValue("chatId")); err != nil {
		return err
	}
	jsonapi.WriteJSON(w, struct{}{})
	return nil
}

func (h *Handler) transfer(w http.ResponseWriter, r *http.Request, s *session) error {
	var req struct {
		AgentID string `json:"agent_id"`
		Queue   string `json:"queue"`
	}
	if err := h.readJSON(w, r, &req); err != nil {
		return err
	}
	// Ownership first: whether a queue exists must not tell anyone of a
	// chat that is not theirs.
	if _, _, err := h.chatFor(r.Context(), s, r.PathValue("chatId"), owner); err != nil {
		return err
	}
	if req.AgentID == s.agent.ID {
		return chat.Errorf(chat.CodeInvalid, "cannot transfer a chat to yourself")
	}
	if err := h.Router.Transfer(r.Context(), s.agent.ID, r.PathValue("chatId"), req.AgentID, req.Queue); err != nil {
		return err
	}
	jsonapi.WriteJSON(w, struct{}{})
	return nil
}

func (h *Handler) end(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.Router.End(r.Context(), s.agent.ID, r.PathValue("chatId")); err != nil {
		return err
	}
	jsonapi.WriteJSON(w, struct{}{})
	return nil
}

// wrapUp records the agent's disposition of a chat they handled.
func (h *Handler) wrapUp(w http.ResponseWriter, r *http.Request, s *session) error {
	sess, _, err := h.chatFor(r.Context(), s, r.PathValue("chatId"), readOnly)
	if err != nil {
		return err
	}
	if sess.AgentID != s.agent.ID {
		return chat.Errorf(chat.CodeChatNotFound, "you did not handle this chat")
	}
	var req struct {
		Code  string `json:"code"`
		Notes string `json:"notes"`
	}
	if err := h.readJSON(w, r, &req); err != nil {
		return err
	}
	wu := chat.WrapUp{ChatID: sess.ID, AgentID: s.agent.ID, Code: req.Code, Notes: req.Notes, Created: h.Service.Now()}
	if err := h.Service.Store.PutWrapUp(r.Context(), wu); err != nil {
		return err
	}
	jsonapi.WriteJSON(w, wu)
	return nil
}

// setCase links the chat to a case of the same customer: {"case_id": "…"}
// attaches an existing one, {} creates one.
func (h *Handler) setCase(w http.ResponseWriter, r *http.Request, s *session) error {
	sess, _, err := h.chatFor(r.Context(), s, r.PathValue("chatId"), owner)
	if err != nil {
		return err
	}
	var req struct {
		CaseID string `json:"case_id"`
	}
	if err := h.readJSON(w, r, &req); err != nil {
		return err
	}
	id, err := h.Service.SetCase(r.Context(), &sess, req.CaseID)
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]string{"case_id": id})
	return nil
}

func (h *Handler) closeCase(w http.ResponseWriter, r *http.Request, s *session) error {
	sess, _, err := h.chatFor(r.Context(), s, r.PathValue("chatId"), readOnly)
	if err != nil {
		return err
	}
	if err := h.Service.CloseCase(r.Context(), &sess); err != nil {
		return err
	}
	jsonapi.WriteJSON(w, struct{}{})
	return nil
}

// caseHistory returns every chat of the chat's case with full transcripts.
func (h *Handler) caseHistory(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	sess, _, err := h.chatFor(ctx, s, r.PathValue("chatId"), readOnly)
	if err != nil {
		return err
	}
	if sess.CaseID == "" {
		return chat.Errorf(chat.CodeNoCase, "this chat has no case")
	}
	linked, err := h.Service.Store.CaseSessions(ctx, sess.CaseID)
	if err != nil {
		return err
	}
	buf := []byte(`{"case_id":`)
	buf, _ = appendJSON(buf, sess.CaseID)
	buf = append(buf, `,"sessions":[`...)
	for i := range linked {
		if i > 0 {
			buf = append(buf, ',')
		}
		evs, err := h.Service.Store.Events(ctx, linked[i].ID, 0, 10000)
		if err != nil {
			return err
		}
		buf = append(buf, `{"chat":`...)
		buf, _ = appendJSON(buf, h.view(ctx, &linked[i]))
		buf = append(buf, `,"events":`...)
		buf = append(chat.AppendEventArray(buf, evs), '}')
	}
	jsonapi.WriteRaw(w, http.StatusOK, append(buf, ']', '}'))
	return nil
}

func appendJSON(buf []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(buf, b...), err
}
