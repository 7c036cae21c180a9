package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// agentPrefix is the path the agent API lives under, after the base URL.
const agentPrefix = "/agent/api/v1/"

// Error codes the agent API answers beyond the customer table (§2).
const (
	CodeUnauthorized = "4010" // not logged in, or the login expired or was revoked
	CodeForbidden    = "4030" // administrators only
)

// Agent states as routing names them.
const (
	AgentReady     = "ready"
	AgentNotReady  = "not_ready"
	AgentLoggedOut = "logged_out"
)

// Agent roles.
const (
	RoleAgent = "agent"
	RoleAdmin = "admin"
)

// Agent is an agent's desktop talking to the agent API (/agent/api/v1) of
// one Parley server: it logs in, takes offered chats, talks in them and
// follows them on a WebSocket stream (see Stream). It holds the bearer
// token of its login and is safe for concurrent use.
type Agent struct {
	base   string
	hc     *http.Client
	header http.Header

	mu    sync.Mutex
	token string
}

// NewAgent returns an agent client of the server at baseURL. Of the options
// only WithHTTPClient and WithHeader apply: an agent is named by its login,
// not by an app's identity.
func NewAgent(baseURL string, opts ...Option) (*Agent, error) {
	cfg := Config{BaseURL: baseURL}
	for _, opt := range opts {
		opt(&cfg)
	}
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("new agent client: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	return &Agent{base: base, hc: hc, header: cfg.Header.Clone()}, nil
}

// Token returns the bearer token of the current login, "" before Login.
func (a *Agent) Token() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.token
}

// SetToken makes the client act as the login token belongs to, as a second
// desktop of the same agent or one restarted with a saved token does.
func (a *Agent) SetToken(token string) {
	a.mu.Lock()
	a.token = token
	a.mu.Unlock()
}

// AgentInfo is an agent's account as the server shows it.
type AgentInfo struct {
	ID          string   `json:"id"`
	Tenant      string   `json:"tenant"`
	Username    string   `json:"username"`
	FirstName   string   `json:"first_name"`
	LastName    string   `json:"last_name"`
	DisplayName string   `json:"display_name"`
	PhotoID     string   `json:"photo_id,omitempty"` // file id of the profile picture
	Skills      []string `json:"skills"`
	Capacity    int      `json:"capacity"` // most chats (and offers) at once
	Role        string   `json:"role"`     // RoleAgent or RoleAdmin
	Disabled    bool     `json:"disabled,omitempty"`
}

// LoginInfo is the answer of a login.
type LoginInfo struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Agent     AgentInfo `json:"agent"`
}

// RoutingView is what routing shows an agent: their state, the chats
// offered to them and the chats they handle.
type RoutingView struct {
	State  string   `json:"state"` // AgentReady, AgentNotReady or AgentLoggedOut
	Reason string   `json:"reason"`
	Offers []Offer  `json:"offers"`
	Chats  []string `json:"chats"`
}

// Offer is a chat proposed to the agent until they accept or reject it or
// it expires.
type Offer struct {
	ChatID  string    `json:"chat_id"`
	AppID   string    `json:"app_id"`
	Queue   string    `json:"queue"`
	Expires time.Time `json:"expires"`
	Waited  int       `json:"waited"` // seconds the customer has waited
}

// Offered reports whether the view holds an offer of chatID.
func (v RoutingView) Offered(chatID string) bool {
	for _, o := range v.Offers {
		if o.ChatID == chatID {
			return true
		}
	}
	return false
}

// Handles reports whether chatID is one of the agent's chats.
func (v RoutingView) Handles(chatID string) bool {
	for _, id := range v.Chats {
		if id == chatID {
			return true
		}
	}
	return false
}

// AgentStatus is the answer of Me: who is logged in and their routing.
type AgentStatus struct {
	Agent   AgentInfo   `json:"agent"`
	Routing RoutingView `json:"routing"`
}

// AgentChat is a chat as the agent side sees it, customer details included.
type AgentChat struct {
	ChatID      string          `json:"chat_id"`
	AppID       string          `json:"app_id"`
	State       string          `json:"state"` // the customer-side state: queued, connected, completed…
	Ended       bool            `json:"ended"`
	Created     time.Time       `json:"created"`
	EndedAt     *time.Time      `json:"ended_at,omitempty"`
	ClientID    string          `json:"client_id"`
	PhoneNumber string          `json:"phone_number"`
	From        string          `json:"from"`
	Parameters  json.RawMessage `json:"parameters"`
	CaseID      string          `json:"case_id"`
	AgentID     string          `json:"agent_id"`
	// PartyID is the agent's party in the chat while it is assigned: the
	// party_id of what the agent sends.
	PartyID string `json:"party_id"`
	LastSeq int64  `json:"last_seq"`
	// Calls tells whether the chat's entry has calls on: only then do
	// signaling events and ICEServers work.
	Calls bool `json:"calls"`
}

// WrapUp is an agent's disposition of a chat they handled.
type WrapUp struct {
	ChatID  string    `json:"chat_id"`
	AgentID string    `json:"agent_id"`
	Code    string    `json:"code"`
	Notes   string    `json:"notes"`
	Created time.Time `json:"created"`
}

// AgentCaseHistory is every chat of a case with its full transcript.
type AgentCaseHistory struct {
	CaseID   string             `json:"case_id"`
	Sessions []AgentCaseSession `json:"sessions"`
}

// AgentCaseSession is one chat of a case.
type AgentCaseSession struct {
	Chat   AgentChat `json:"chat"`
	Events []Event   `json:"events"`
}

// Login logs the agent in and keeps the token for every later call. The
// agent starts not ready; see SetState. Wrong credentials are a 401
// *APIError (CodeUnauthorized).
func (a *Agent) Login(ctx context.Context, tenant, username, password string) (LoginInfo, error) {
	in := map[string]string{"tenant": tenant, "username": username, "password": password}
	var out LoginInfo
	if err := a.call(ctx, http.MethodPost, "login", nil, in, &out); err != nil {
		return LoginInfo{}, fmt.Errorf("log in: %w", err)
	}
	a.SetToken(out.Token)
	return out, nil
}

// Logout revokes the login and forgets its token. Offers are withdrawn;
// the agent's chats stay theirs.
func (a *Agent) Logout(ctx context.Context) error {
	if err := a.call(ctx, http.MethodPost, "logout", nil, nil, nil); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	a.SetToken("")
	return nil
}

// Me returns the logged-in agent and their routing view.
func (a *Agent) Me(ctx context.Context) (AgentStatus, error) {
	var out AgentStatus
	if err := a.call(ctx, http.MethodGet, "me", nil, nil, &out); err != nil {
		return AgentStatus{}, fmt.Errorf("get me: %w", err)
	}
	return out, nil
}

// SetState makes the agent AgentReady or AgentNotReady (with a reason) and
// returns the routing view after the change. Going not ready withdraws
// pending offers.
func (a *Agent) SetState(ctx context.Context, state, reason string) (RoutingView, error) {
	in := map[string]string{"state": state, "reason": reason}
	var out RoutingView
	if err := a.call(ctx, http.MethodPut, "me/state", nil, in, &out); err != nil {
		return RoutingView{}, fmt.Errorf("set state: %w", err)
	}
	return out, nil
}

// chatList is the answer of the chat lists.
type chatList struct {
	Chats []AgentChat `json:"chats"`
}

// Chats returns the chats the agent handles now.
func (a *Agent) Chats(ctx context.Context) ([]AgentChat, error) {
	var out chatList
	if err := a.call(ctx, http.MethodGet, "chats", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("list chats: %w", err)
	}
	return out.Chats, nil
}

// EndedChats returns the ended chats the agent handled last, newest
// first; limit 0 takes the server's default (50).
func (a *Agent) EndedChats(ctx context.Context, limit int) ([]AgentChat, error) {
	q := url.Values{"ended": {"1"}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out chatList
	if err := a.call(ctx, http.MethodGet, "chats", q, nil, &out); err != nil {
		return nil, fmt.Errorf("list ended chats: %w", err)
	}
	return out.Chats, nil
}

// Chat returns a chat the agent handles, handled or is offered, with its
// wrap-ups. Any other chat is a 404 *APIError (5005).
func (a *Agent) Chat(ctx context.Context, chatID string) (AgentChat, []WrapUp, error) {
	var out struct {
		Chat    AgentChat `json:"chat"`
		WrapUps []WrapUp  `json:"wrapups"`
	}
	if err := a.chatCall(ctx, http.MethodGet, nil, nil, &out, chatID); err != nil {
		return AgentChat{}, nil, fmt.Errorf("get chat: %w", err)
	}
	return out.Chat, out.WrapUps, nil
}

// Events returns the transcript of a chat after the sequence after (0 for
// all), every party's events and the system's, in order; at most 1000 per
// call, so page with LastSeq.
func (a *Agent) Events(ctx context.Context, chatID string, after int64) ([]Event, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	var out eventList
	if err := a.chatCall(ctx, http.MethodGet, q, nil, &out, chatID, "events"); err != nil {
		return nil, fmt.Errorf("get chat events: %w", err)
	}
	return out.Events, nil
}

// Send sends events in one of the agent's chats (messages, receipts,
// typing, files…; the builders of this package make them) and returns them
// as stored, with their seq and party id. A message without a msg_id gets
// one from the server. The batch is taken or refused whole.
func (a *Agent) Send(ctx context.Context, chatID string, events ...Event) ([]Event, error) {
	in := eventList{Events: events}
	if in.Events == nil {
		in.Events = []Event{}
	}
	var out eventList
	if err := a.chatCall(ctx, http.MethodPost, nil, in, &out, chatID, "events"); err != nil {
		return nil, fmt.Errorf("send events: %w", err)
	}
	return out.Events, nil
}

// Accept takes a chat offered to the agent: the customer is told the agent
// joined. An offer that expired or went elsewhere is a 404 *APIError.
func (a *Agent) Accept(ctx context.Context, chatID string) (AgentChat, error) {
	var out struct {
		Chat AgentChat `json:"chat"`
	}
	if err := a.chatCall(ctx, http.MethodPost, nil, nil, &out, chatID, "accept"); err != nil {
		return AgentChat{}, fmt.Errorf("accept chat: %w", err)
	}
	return out.Chat, nil
}

// Reject declines a chat offered to the agent; it is offered to the next.
func (a *Agent) Reject(ctx context.Context, chatID string) error {
	if err := a.chatCall(ctx, http.MethodPost, nil, nil, nil, chatID, "reject"); err != nil {
		return fmt.Errorf("reject chat: %w", err)
	}
	return nil
}

// Transfer hands one of the agent's chats to another agent (toAgent, an
// agent id) or to a queue (toQueue; both "" for the chat's own queue).
// The agent leaves the chat, which waits to be accepted again.
func (a *Agent) Transfer(ctx context.Context, chatID, toAgent, toQueue string) error {
	in := map[string]string{}
	if toAgent != "" {
		in["agent_id"] = toAgent
	}
	if toQueue != "" {
		in["queue"] = toQueue
	}
	if err := a.chatCall(ctx, http.MethodPost, nil, in, nil, chatID, "transfer"); err != nil {
		return fmt.Errorf("transfer chat: %w", err)
	}
	return nil
}

// End ends one of the agent's chats.
func (a *Agent) End(ctx context.Context, chatID string) error {
	if err := a.chatCall(ctx, http.MethodPost, nil, nil, nil, chatID, "end"); err != nil {
		return fmt.Errorf("end chat: %w", err)
	}
	return nil
}

// WrapUp records (or replaces) the agent's disposition of a chat they
// handled.
func (a *Agent) WrapUp(ctx context.Context, chatID, code, notes string) (WrapUp, error) {
	in := map[string]string{"code": code, "notes": notes}
	var out WrapUp
	if err := a.chatCall(ctx, http.MethodPost, nil, in, &out, chatID, "wrapup"); err != nil {
		return WrapUp{}, fmt.Errorf("wrap up chat: %w", err)
	}
	return out, nil
}

// SetCase links one of the agent's chats to a case of the same customer:
// caseID "" creates a new case. It returns the case id; the customer is
// told with chat_session_case_set.
func (a *Agent) SetCase(ctx context.Context, chatID, caseID string) (string, error) {
	in := map[string]string{}
	if caseID != "" {
		in["case_id"] = caseID
	}
	var out struct {
		CaseID string `json:"case_id"`
	}
	if err := a.chatCall(ctx, http.MethodPost, nil, in, &out, chatID, "case"); err != nil {
		return "", fmt.Errorf("set case: %w", err)
	}
	return out.CaseID, nil
}

// CloseCase closes the case of a chat; a 406 *APIError (5601) when the
// chat has none. The chat goes on.
func (a *Agent) CloseCase(ctx context.Context, chatID string) error {
	if err := a.chatCall(ctx, http.MethodPost, nil, nil, nil, chatID, "case", "close"); err != nil {
		return fmt.Errorf("close case: %w", err)
	}
	return nil
}

// CaseHistory returns every chat of the chat's case with full transcripts,
// oldest first; a 406 *APIError (5601) when the chat has no case.
func (a *Agent) CaseHistory(ctx context.Context, chatID string) (AgentCaseHistory, error) {
	var out AgentCaseHistory
	if err := a.chatCall(ctx, http.MethodGet, nil, nil, &out, chatID, "casehistory"); err != nil {
		return AgentCaseHistory{}, fmt.Errorf("get case history: %w", err)
	}
	return out, nil
}

// ICEServers returns the STUN and TURN servers for a call in one of the
// agent's chats, as the customer API's ICEServers gives them to the
// customer; TURN credentials are made for the agent and expire. A chat
// whose entry has no calls is a 400 *APIError (5003).
func (a *Agent) ICEServers(ctx context.Context, chatID string) ([]ICEServer, error) {
	var out struct {
		Servers []ICEServer `json:"servers"`
	}
	if err := a.chatCall(ctx, http.MethodGet, nil, nil, &out, chatID, "iceservers"); err != nil {
		return nil, fmt.Errorf("get ice servers: %w", err)
	}
	return out.Servers, nil
}

// UploadFile uploads a file the agent will send with a File event.
func (a *Agent) UploadFile(ctx context.Context, name string, r io.Reader) (FileInfo, error) {
	var out FileInfo
	if err := a.upload(ctx, http.MethodPost, "files", Upload{FileName: name, Body: r}, &out); err != nil {
		return FileInfo{}, fmt.Errorf("upload file: %w", err)
	}
	return out, nil
}

// SetPhoto uploads the agent's profile picture (PNG, JPEG, GIF or WebP),
// shown to customers of the chats the agent joins from now on.
func (a *Agent) SetPhoto(ctx context.Context, name string, r io.Reader) (AgentInfo, error) {
	var out struct {
		Agent AgentInfo `json:"agent"`
	}
	if err := a.upload(ctx, http.MethodPut, "me/photo", Upload{FileName: name, Body: r}, &out); err != nil {
		return AgentInfo{}, fmt.Errorf("set photo: %w", err)
	}
	return out.Agent, nil
}

// DownloadFile fetches a file of the agent's tenant, a customer's upload
// or an agent's. Unknown files are a 404 *APIError (5502).
func (a *Agent) DownloadFile(ctx context.Context, fileID string) (Download, error) {
	p, err := segments("files", fileID)
	if err != nil {
		return Download{}, fmt.Errorf("download file: %w", err)
	}
	resp, err := a.send(ctx, http.MethodGet, a.apiURL(p, nil), nil, "")
	if err != nil {
		return Download{}, fmt.Errorf("download file: %w", err)
	}
	d, err := readDownload(resp)
	if err != nil {
		return Download{}, fmt.Errorf("download file: %w", err)
	}
	return d, nil
}

// AgentListing is an agent of the tenant as administrators list them.
type AgentListing struct {
	AgentInfo
	Routing RoutingView `json:"routing"`
}

// AgentSettings create or change an agent: nil fields are left as they
// are (or take the server's defaults on creation).
type AgentSettings struct {
	Username    *string   `json:"username,omitempty"`
	Password    *string   `json:"password,omitempty"`
	FirstName   *string   `json:"first_name,omitempty"`
	LastName    *string   `json:"last_name,omitempty"`
	DisplayName *string   `json:"display_name,omitempty"`
	Skills      *[]string `json:"skills,omitempty"`
	Capacity    *int      `json:"capacity,omitempty"`
	Role        *string   `json:"role,omitempty"`
	Disabled    *bool     `json:"disabled,omitempty"`
}

// ListAgents lists the agents of the administrator's tenant with their
// routing. Agents who are not administrators get a 403 *APIError.
func (a *Agent) ListAgents(ctx context.Context) ([]AgentListing, error) {
	var out struct {
		Agents []AgentListing `json:"agents"`
	}
	if err := a.call(ctx, http.MethodGet, "agents", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return out.Agents, nil
}

// CreateAgent creates an agent of the administrator's tenant; Username and
// Password are required.
func (a *Agent) CreateAgent(ctx context.Context, s AgentSettings) (AgentInfo, error) {
	var out struct {
		Agent AgentInfo `json:"agent"`
	}
	if err := a.call(ctx, http.MethodPost, "agents", nil, s, &out); err != nil {
		return AgentInfo{}, fmt.Errorf("create agent: %w", err)
	}
	return out.Agent, nil
}

// UpdateAgent changes the fields s sets of an agent of the administrator's
// tenant. Disabling an agent logs them out.
func (a *Agent) UpdateAgent(ctx context.Context, agentID string, s AgentSettings) (AgentInfo, error) {
	p, err := segments("agents", agentID)
	if err != nil {
		return AgentInfo{}, fmt.Errorf("update agent %q: %w", agentID, err)
	}
	var out struct {
		Agent AgentInfo `json:"agent"`
	}
	if err := a.call(ctx, http.MethodPut, p, nil, s, &out); err != nil {
		return AgentInfo{}, fmt.Errorf("update agent: %w", err)
	}
	return out.Agent, nil
}

// chatCall calls a method under chats/{chatID}, the rest of the path given
// as segments, each escaped.
func (a *Agent) chatCall(ctx context.Context, method string, query url.Values, in, out any, chatID string, rest ...string) error {
	p, err := segments(append([]string{"chats", chatID}, rest...)...)
	if err != nil {
		return fmt.Errorf("chat %q: %w", chatID, err)
	}
	return a.call(ctx, method, p, query, in, out)
}

// call sends one JSON request and decodes its answer, a JSON object.
func (a *Agent) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return exchangeJSON(ctx, method, a.apiURL(path, query), in, out, a.send)
}

// upload sends one file as multipart/form-data.
func (a *Agent) upload(ctx context.Context, method, path string, u Upload, out any) error {
	body, contentType, err := multipartBody(u)
	if err != nil {
		return err
	}
	resp, err := a.send(ctx, method, a.apiURL(path, nil), body, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeObject(resp, out)
}

// send performs one exchange with the login's bearer token, if any.
func (a *Agent) send(ctx context.Context, method, u string, body io.Reader, contentType string) (*http.Response, error) {
	return roundTrip(ctx, a.hc, method, u, body, contentType, a.authorization(), a.header)
}

// authorization is the Authorization value of the login, "" before it.
func (a *Agent) authorization() string {
	if token := a.Token(); token != "" {
		return "Bearer " + token
	}
	return ""
}

// apiURL is the address of an agent API method.
func (a *Agent) apiURL(path string, query url.Values) string {
	u := a.base + agentPrefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}
