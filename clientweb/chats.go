package clientweb

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/parley-chat/parley/chat"
)

// chatInfo is the answer of Request Chat and Get Active Chat.
type chatInfo struct {
	ChatID      string `json:"chat_id"`
	State       string `json:"state"`
	EWT         string `json:"ewt"`
	IsNewChat   bool   `json:"is_new_chat"`
	PhoneNumber string `json:"phone_number"`
}

func infoOf(s *chat.Session, created bool) chatInfo {
	return chatInfo{ChatID: s.ID, State: s.State, EWT: strconv.Itoa(s.EWT), IsNewChat: created, PhoneNumber: s.PhoneNumber}
}

func (h *Handler) requestChat(w http.ResponseWriter, r *http.Request, c *call) error {
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	req, err := decodeChatRequest(body)
	if err != nil {
		return err
	}
	sess, created, err := h.Service.RequestChat(r.Context(), c.key, &c.entry, req)
	if err != nil {
		return err
	}
	writeJSON(w, infoOf(&sess, created))
	return nil
}

// decodeChatRequest reads a Request Chat body (§3): phone_number and from
// may be absent, parameters may be absent or any JSON object.
func decodeChatRequest(body []byte) (chat.ChatRequest, error) {
	var req struct {
		PhoneNumber *string         `json:"phone_number"`
		From        *string         `json:"from"`
		Parameters  json.RawMessage `json:"parameters"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return chat.ChatRequest{}, err
	}
	params, err := parametersObject(req.Parameters)
	if err != nil {
		return chat.ChatRequest{}, err
	}
	return chat.ChatRequest{PhoneNumber: deref(req.PhoneNumber), From: deref(req.From), Parameters: params}, nil
}

// parametersObject checks that parameters, when sent, is a JSON object,
// and returns it as every store holds it (chat.StorableJSON). Its values
// may be anything: the SDKs nest user_platform inside it.
func parametersObject(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(`{}`), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, chat.Errorf(chat.CodeInvalid, "parameters: want an object")
	}
	params, err := chat.StorableJSON(raw)
	if err != nil {
		return nil, chat.Errorf(chat.CodeInvalid, "parameters: %v", err)
	}
	return params, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (h *Handler) activeChat(w http.ResponseWriter, r *http.Request, c *call) error {
	sess, err := h.Service.ActiveChat(r.Context(), c.key)
	if err != nil {
		return err
	}
	writeJSON(w, infoOf(&sess, false))
	return nil
}

func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request, c *call) error {
	sess, err := h.Service.LiveChat(r.Context(), c.key, r.PathValue("chatId"))
	if err != nil {
		return err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	token, err := decodeSubscription(body)
	if err != nil {
		return err
	}
	if err := h.Service.Subscribe(r.Context(), &sess, &c.entry, token); err != nil {
		return err
	}
	writeEmpty(w)
	return nil
}

// decodeSubscription reads a Mobile Notification Subscription body:
// exactly one kind of token, or none to cancel.
func decodeSubscription(body []byte) (chat.PushToken, error) {
	var req map[string]json.RawMessage
	if err := decodeJSON(body, &req); err != nil {
		return chat.PushToken{}, err
	}
	return pushToken(req)
}

func pushToken(req map[string]json.RawMessage) (chat.PushToken, error) {
	var p chat.PushToken
	for _, kind := range []string{chat.PushAPNs, chat.PushIOSFirebase, chat.PushAndroidFirebase} {
		raw, ok := req[kind]
		if !ok {
			continue
		}
		var token string
		if err := json.Unmarshal(raw, &token); err != nil {
			return p, chat.Errorf(chat.CodeInvalid, "%s: want a string", kind)
		}
		if token == "" {
			continue
		}
		if p.Kind != "" {
			return p, chat.Errorf(chat.CodePushUnsupported, "send one kind of push token, not %s and %s", p.Kind, kind)
		}
		p.Kind, p.Token = kind, token
	}
	if p.Kind != chat.PushAPNs {
		return p, nil
	}
	if !isHex(p.Token) {
		return p, chat.Errorf(chat.CodeInvalid, "%s: want a hex device token", chat.PushAPNs)
	}
	if err := json.Unmarshal(req["ios_app_bundle_id"], &p.Topic); err != nil || p.Topic == "" {
		return p, chat.Errorf(chat.CodeInvalid, "ios_app_bundle_id: missing")
	}
	return p, nil
}

func isHex(s string) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (h *Handler) sendEvents(w http.ResponseWriter, r *http.Request, c *call) error {
	sess, err := h.Service.LiveChat(r.Context(), c.key, r.PathValue("chatId"))
	if err != nil {
		return err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	evs, err := chat.DecodeClientEvents(body)
	if err != nil {
		return err
	}
	if err := h.Service.Send(r.Context(), &sess, evs); err != nil {
		return err
	}
	writeEmpty(w)
	return nil
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request, c *call) error {
	sess, err := h.Service.Chat(r.Context(), c.key, r.PathValue("chatId"))
	if err != nil {
		return err
	}
	evs, err := h.Service.History(r.Context(), &sess, &c.entry)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, chat.AppendEvents(nil, evs))
	return nil
}

// caseChat is the chat a case method is about: the one in the path (SDKs),
// or the client's live chat (the docs' paths without a chat id).
func (h *Handler) caseChat(r *http.Request, c *call) (chat.Session, error) {
	if id := r.PathValue("chatId"); id != "" {
		return h.Service.Chat(r.Context(), c.key, id)
	}
	return h.Service.ActiveChat(r.Context(), c.key)
}

func (h *Handler) caseHistory(w http.ResponseWriter, r *http.Request, c *call) error {
	sess, err := h.caseChat(r, c)
	if err != nil {
		return err
	}
	sessions, err := h.Service.CaseHistory(r.Context(), &sess, &c.entry)
	if err != nil {
		return err
	}
	buf := []byte(`{"sessions":[`)
	for i, cs := range sessions {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"chat_id":`...)
		buf, _ = appendJSONValue(buf, cs.Session.ID)
		buf = append(buf, `,"created_time":"`...)
		buf = strconv.AppendInt(buf, cs.Session.Created.Unix(), 10)
		buf = append(buf, `","events":`...)
		buf = append(chat.AppendEventArray(buf, cs.Events), '}')
	}
	writeRaw(w, http.StatusOK, append(buf, ']', '}'))
	return nil
}

func (h *Handler) closeCase(w http.ResponseWriter, r *http.Request, c *call) error {
	sess, err := h.caseChat(r, c)
	if err != nil {
		return err
	}
	// The body is ignored: Android sends a chat_session_end that must not
	// end the chat.
	_, _ = h.readBody(w, r)
	if err := h.Service.CloseCase(r.Context(), &sess); err != nil {
		return err
	}
	writeEmpty(w)
	return nil
}

func appendJSONValue(buf []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(buf, b...), err
}
