package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/client"
)

// loginAnswer is the server's answer to a login of agent a1.
const loginAnswer = `{"token":"tok-1","expires_at":"2030-01-02T03:04:05Z","agent":{"id":"a1","tenant":"acme.example.com",
"username":"ann","first_name":"Ann","last_name":"Archer","display_name":"Ann A.","skills":["billing"],"capacity":2,"role":"agent"}}`

// newAgent returns an agent client of baseURL, logged in as token.
func newAgent(t *testing.T, baseURL, token string, opts ...client.Option) *client.Agent {
	t.Helper()
	a, err := client.NewAgent(baseURL, opts...)
	if err != nil {
		t.Fatalf("NewAgent(%q): %v", baseURL, err)
	}
	a.SetToken(token)
	return a
}

// stubAgent starts a stub answering ans and returns an agent client of it
// holding the token tok-1.
func stubAgent(t *testing.T, ans answer, opts ...client.Option) (*client.Agent, *stub) {
	t.Helper()
	s := newStub(t, ans)
	return newAgent(t, s.srv.URL, "tok-1", opts...), s
}

func TestAgentMethodsSendTheirRequests(t *testing.T) {
	tests := []struct {
		name   string
		call   func(context.Context, *client.Agent) error
		method string
		path   string
		query  url.Values // nil for none
		body   string     // "" for no body
	}{
		{"Logout posts to logout",
			func(ctx context.Context, a *client.Agent) error { return a.Logout(ctx) },
			"POST", "/agent/api/v1/logout", nil, ""},
		{"Me gets me",
			func(ctx context.Context, a *client.Agent) error { _, err := a.Me(ctx); return err },
			"GET", "/agent/api/v1/me", nil, ""},
		{"SetState puts the state and the reason",
			func(ctx context.Context, a *client.Agent) error {
				_, err := a.SetState(ctx, client.AgentNotReady, "lunch")
				return err
			},
			"PUT", "/agent/api/v1/me/state", nil, `{"state":"not_ready","reason":"lunch"}`},
		{"Chats lists the current chats",
			func(ctx context.Context, a *client.Agent) error { _, err := a.Chats(ctx); return err },
			"GET", "/agent/api/v1/chats", nil, ""},
		{"EndedChats asks for ended chats with a limit",
			func(ctx context.Context, a *client.Agent) error { _, err := a.EndedChats(ctx, 7); return err },
			"GET", "/agent/api/v1/chats", url.Values{"ended": {"1"}, "limit": {"7"}}, ""},
		{"EndedChats leaves the limit to the server when it is zero",
			func(ctx context.Context, a *client.Agent) error { _, err := a.EndedChats(ctx, 0); return err },
			"GET", "/agent/api/v1/chats", url.Values{"ended": {"1"}}, ""},
		{"Chat gets the chat with its id escaped",
			func(ctx context.Context, a *client.Agent) error { _, _, err := a.Chat(ctx, "c/1"); return err },
			"GET", "/agent/api/v1/chats/c%2F1", nil, ""},
		{"Events gets the transcript from the start",
			func(ctx context.Context, a *client.Agent) error { _, err := a.Events(ctx, "c1", 0); return err },
			"GET", "/agent/api/v1/chats/c1/events", nil, ""},
		{"Events gets the transcript after a seq",
			func(ctx context.Context, a *client.Agent) error { _, err := a.Events(ctx, "c1", 41); return err },
			"GET", "/agent/api/v1/chats/c1/events", url.Values{"after": {"41"}}, ""},
		{"Send posts the events",
			func(ctx context.Context, a *client.Agent) error {
				_, err := a.Send(ctx, "c1", client.Message("a-1", "Hello"), client.Typing())
				return err
			},
			"POST", "/agent/api/v1/chats/c1/events", nil,
			`{"events":[{"event":"chat_session_message","msg_id":"a-1","msg":"Hello"},{"event":"chat_session_typing"}]}`},
		{"Send without events posts an empty list",
			func(ctx context.Context, a *client.Agent) error { _, err := a.Send(ctx, "c1"); return err },
			"POST", "/agent/api/v1/chats/c1/events", nil, `{"events":[]}`},
		{"Accept posts to accept",
			func(ctx context.Context, a *client.Agent) error { _, err := a.Accept(ctx, "c1"); return err },
			"POST", "/agent/api/v1/chats/c1/accept", nil, ""},
		{"Reject posts to reject",
			func(ctx context.Context, a *client.Agent) error { return a.Reject(ctx, "c1") },
			"POST", "/agent/api/v1/chats/c1/reject", nil, ""},
		{"Transfer to an agent names the agent only",
			func(ctx context.Context, a *client.Agent) error { return a.Transfer(ctx, "c1", "a2", "") },
			"POST", "/agent/api/v1/chats/c1/transfer", nil, `{"agent_id":"a2"}`},
		{"Transfer to a queue names the queue only",
			func(ctx context.Context, a *client.Agent) error { return a.Transfer(ctx, "c1", "", "billing") },
			"POST", "/agent/api/v1/chats/c1/transfer", nil, `{"queue":"billing"}`},
		{"End posts to end",
			func(ctx context.Context, a *client.Agent) error { return a.End(ctx, "c1") },
			"POST", "/agent/api/v1/chats/c1/end", nil, ""},
		{"WrapUp posts the code and the notes",
			func(ctx context.Context, a *client.Agent) error {
				_, err := a.WrapUp(ctx, "c1", "solved", "refund sent")
				return err
			},
			"POST", "/agent/api/v1/chats/c1/wrapup", nil, `{"code":"solved","notes":"refund sent"}`},
		{"SetCase without a case id asks for a new case",
			func(ctx context.Context, a *client.Agent) error { _, err := a.SetCase(ctx, "c1", ""); return err },
			"POST", "/agent/api/v1/chats/c1/case", nil, `{}`},
		{"SetCase with a case id attaches that case",
			func(ctx context.Context, a *client.Agent) error { _, err := a.SetCase(ctx, "c1", "k1"); return err },
			"POST", "/agent/api/v1/chats/c1/case", nil, `{"case_id":"k1"}`},
		{"CloseCase posts to case/close",
			func(ctx context.Context, a *client.Agent) error { return a.CloseCase(ctx, "c1") },
			"POST", "/agent/api/v1/chats/c1/case/close", nil, ""},
		{"CaseHistory gets the case history",
			func(ctx context.Context, a *client.Agent) error { _, err := a.CaseHistory(ctx, "c1"); return err },
			"GET", "/agent/api/v1/chats/c1/casehistory", nil, ""},
		{"ICEServers gets the servers of a chat",
			func(ctx context.Context, a *client.Agent) error { _, err := a.ICEServers(ctx, "c1"); return err },
			"GET", "/agent/api/v1/chats/c1/iceservers", nil, ""},
		{"ListAgents gets the agents",
			func(ctx context.Context, a *client.Agent) error { _, err := a.ListAgents(ctx); return err },
			"GET", "/agent/api/v1/agents", nil, ""},
		{"CreateAgent posts the settings it sets",
			func(ctx context.Context, a *client.Agent) error {
				_, err := a.CreateAgent(ctx, client.AgentSettings{
					Username: new("dan"), Password: new("dan-password"), Skills: &[]string{}, Capacity: new(4),
				})
				return err
			},
			"POST", "/agent/api/v1/agents", nil, `{"username":"dan","password":"dan-password","skills":[],"capacity":4}`},
		{"UpdateAgent puts only the settings it changes",
			func(ctx context.Context, a *client.Agent) error {
				_, err := a.UpdateAgent(ctx, "a2", client.AgentSettings{Disabled: new(true)})
				return err
			},
			"PUT", "/agent/api/v1/agents/a2", nil, `{"disabled":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, s := stubAgent(t, answer{Body: `{}`})
			if err := tt.call(t.Context(), a); err != nil {
				t.Fatalf("call: %v", err)
			}
			ex := s.only(t)
			if ex.Method != tt.method || ex.Path != tt.path {
				t.Errorf("request = %s %s, want %s %s", ex.Method, ex.Path, tt.method, tt.path)
			}
			wantQuery := tt.query
			if wantQuery == nil {
				wantQuery = url.Values{}
			}
			if !reflect.DeepEqual(ex.Query, wantQuery) {
				t.Errorf("query = %v, want %v", ex.Query, wantQuery)
			}
			if got := ex.Header.Get("Authorization"); got != "Bearer tok-1" {
				t.Errorf("Authorization = %q, want the bearer token", got)
			}
			if tt.body == "" {
				if len(ex.Body) != 0 {
					t.Errorf("body = %s, want none", ex.Body)
				}
				return
			}
			if ct := ex.Header.Get("Content-Type"); ct != jsonType {
				t.Errorf("Content-Type = %q, want %q", ct, jsonType)
			}
			assertJSON(t, ex.Body, tt.body)
		})
	}
}

func TestLoginKeepsTheTokenForLaterCalls(t *testing.T) {
	a, s := stubAgent(t, answer{Body: loginAnswer})
	a.SetToken("")
	got, err := a.Login(t.Context(), "acme.example.com", "ann", "ann-password")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	want := client.LoginInfo{
		Token:     "tok-1",
		ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		Agent: client.AgentInfo{ID: "a1", Tenant: "acme.example.com", Username: "ann", FirstName: "Ann",
			LastName: "Archer", DisplayName: "Ann A.", Skills: []string{"billing"}, Capacity: 2, Role: client.RoleAgent},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Login = %+v\nwant %+v", got, want)
	}
	if a.Token() != "tok-1" {
		t.Errorf("Token() = %q after login, want tok-1", a.Token())
	}
	if _, err := a.Me(t.Context()); err != nil {
		t.Fatalf("Me: %v", err)
	}
	got2 := s.requests()
	if len(got2) != 2 {
		t.Fatalf("server received %d requests, want 2", len(got2))
	}
	login, me := got2[0], got2[1]
	if login.Method != "POST" || login.Path != "/agent/api/v1/login" || login.Header.Get("Authorization") != "" {
		t.Errorf("login request = %s %s with Authorization %q, want POST /agent/api/v1/login without one",
			login.Method, login.Path, login.Header.Get("Authorization"))
	}
	assertJSON(t, login.Body, `{"tenant":"acme.example.com","username":"ann","password":"ann-password"}`)
	if got := me.Header.Get("Authorization"); got != "Bearer tok-1" {
		t.Errorf("Authorization after login = %q, want Bearer tok-1", got)
	}
}

func TestLogoutForgetsTheToken(t *testing.T) {
	a, _ := stubAgent(t, answer{Body: `{}`})
	if err := a.Logout(t.Context()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if a.Token() != "" {
		t.Errorf("Token() = %q after logout, want none", a.Token())
	}
}

func TestAgentAnswersAreDecoded(t *testing.T) {
	ctx := t.Context()
	t.Run("Me decodes the agent and the routing view", func(t *testing.T) {
		a, _ := stubAgent(t, answer{Body: `{"agent":{"id":"a1","username":"ann","capacity":2,"role":"agent","skills":[]},
			"routing":{"state":"ready","reason":"","offers":[{"chat_id":"c9","app_id":"web","queue":"web",
			"expires":"2030-01-02T03:04:05Z","waited":12}],"chats":["c1","c2"]}}`})
		got, err := a.Me(ctx)
		if err != nil {
			t.Fatalf("Me: %v", err)
		}
		want := client.RoutingView{State: client.AgentReady, Chats: []string{"c1", "c2"}, Offers: []client.Offer{{
			ChatID: "c9", AppID: "web", Queue: "web", Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Waited: 12,
		}}}
		if got.Agent.ID != "a1" || !reflect.DeepEqual(got.Routing, want) {
			t.Errorf("Me = %+v, want agent a1 and routing %+v", got, want)
		}
		if !got.Routing.Offered("c9") || got.Routing.Offered("c1") || !got.Routing.Handles("c2") || got.Routing.Handles("c9") {
			t.Errorf("Offered/Handles disagree with the view %+v", got.Routing)
		}
	})
	t.Run("Send returns the events as stored", func(t *testing.T) {
		a, _ := stubAgent(t, answer{Body: `{"events":[{"event":"chat_session_message","msg_id":"srv-1","party_id":"p1",
			"msg":"Hi","msg_text":"Hi","timestamp":"1732500000","seq":7}]}`})
		got, err := a.Send(ctx, "c1", client.Event{Event: client.EventMessage, Msg: "Hi"})
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		assertEvents(t, got, []client.Event{{Event: client.EventMessage, Seq: 7, MsgID: "srv-1", PartyID: "p1",
			Msg: "Hi", MsgText: "Hi", Timestamp: "1732500000"}})
	})
	t.Run("Chat decodes the chat and its wrap-ups", func(t *testing.T) {
		a, _ := stubAgent(t, answer{Body: `{"chat":{"chat_id":"c1","app_id":"web","state":"completed","ended":true,
			"created":"2030-01-02T03:04:05Z","ended_at":"2030-01-02T03:09:05Z","client_id":"cl","phone_number":"","from":"",
			"parameters":{"first_name":"Ada"},"case_id":"k1","agent_id":"a1","party_id":"","last_seq":12,"calls":true},
			"wrapups":[{"chat_id":"c1","agent_id":"a1","code":"solved","notes":"","created":"2030-01-02T03:10:00Z"}]}`})
		chat, wrapups, err := a.Chat(ctx, "c1")
		if err != nil {
			t.Fatalf("Chat: %v", err)
		}
		if chat.ChatID != "c1" || !chat.Ended || chat.EndedAt == nil || chat.CaseID != "k1" || chat.LastSeq != 12 || !chat.Calls ||
			string(chat.Parameters) != `{"first_name":"Ada"}` {
			t.Errorf("Chat = %+v", chat)
		}
		if len(wrapups) != 1 || wrapups[0].Code != "solved" {
			t.Errorf("wrap-ups = %+v, want one coded solved", wrapups)
		}
	})
	t.Run("CaseHistory decodes every chat with its events", func(t *testing.T) {
		a, _ := stubAgent(t, answer{Body: `{"case_id":"k1","sessions":[
			{"chat":{"chat_id":"c1","case_id":"k1"},"events":[{"event":"chat_session_ended","timestamp":"1","seq":9}]},
			{"chat":{"chat_id":"c2","case_id":"k1"},"events":[]}]}`})
		got, err := a.CaseHistory(ctx, "c2")
		if err != nil {
			t.Fatalf("CaseHistory: %v", err)
		}
		if got.CaseID != "k1" || len(got.Sessions) != 2 || got.Sessions[0].Chat.ChatID != "c1" ||
			len(got.Sessions[0].Events) != 1 || got.Sessions[1].Chat.ChatID != "c2" {
			t.Errorf("CaseHistory = %+v", got)
		}
	})
	t.Run("ListAgents decodes each agent with its routing", func(t *testing.T) {
		a, _ := stubAgent(t, answer{Body: `{"agents":[{"id":"a1","username":"ann","capacity":2,"role":"admin",
			"skills":["billing"],"routing":{"state":"logged_out","reason":"","offers":[],"chats":[]}}]}`})
		got, err := a.ListAgents(ctx)
		if err != nil {
			t.Fatalf("ListAgents: %v", err)
		}
		if len(got) != 1 || got[0].Username != "ann" || got[0].Role != client.RoleAdmin || got[0].Routing.State != client.AgentLoggedOut {
			t.Errorf("ListAgents = %+v", got)
		}
	})
	t.Run("ICEServers decodes the servers", func(t *testing.T) {
		a, _ := stubAgent(t, answer{Body: `{"servers":[{"url":"stun:s.example:3478","urls":["stun:s.example:3478"]},
			{"url":"turn:t.example:3478?transport=udp","urls":["turn:t.example:3478?transport=udp"],"username":"1795086400:a-x","credential":"c2VjcmV0"}]}`})
		got, err := a.ICEServers(ctx, "c1")
		if err != nil {
			t.Fatalf("ICEServers: %v", err)
		}
		want := []client.ICEServer{
			{URL: "stun:s.example:3478", URLs: []string{"stun:s.example:3478"}},
			{URL: "turn:t.example:3478?transport=udp", URLs: []string{"turn:t.example:3478?transport=udp"}, Username: "1795086400:a-x", Credential: "c2VjcmV0"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ICEServers = %+v, want %+v", got, want)
		}
	})
	t.Run("SetCase returns the case id", func(t *testing.T) {
		a, _ := stubAgent(t, answer{Body: `{"case_id":"k7"}`})
		got, err := a.SetCase(ctx, "c1", "")
		if err != nil || got != "k7" {
			t.Errorf("SetCase = %q, %v; want k7", got, err)
		}
	})
}

func TestAgentFilesTravelAsMultipartAndBytes(t *testing.T) {
	ctx := t.Context()
	t.Run("UploadFile posts one file part", func(t *testing.T) {
		a, s := stubAgent(t, answer{Body: `{"file_id":"f1","file_name":"invoice.pdf"}`})
		got, err := a.UploadFile(ctx, "invoice.pdf", strings.NewReader("%PDF-1.4"))
		if err != nil || got != (client.FileInfo{FileID: "f1", FileName: "invoice.pdf"}) {
			t.Fatalf("UploadFile = %+v, %v", got, err)
		}
		ex := s.only(t)
		if ex.Method != "POST" || ex.Path != "/agent/api/v1/files" || ex.Header.Get("Authorization") != "Bearer tok-1" {
			t.Errorf("request = %s %s (Authorization %q)", ex.Method, ex.Path, ex.Header.Get("Authorization"))
		}
		if p := onlyPart(t, ex); p != (filePart{"file", "invoice.pdf", "application/pdf", "%PDF-1.4"}) {
			t.Errorf("part = %+v", p)
		}
	})
	t.Run("SetPhoto puts the picture and returns the agent", func(t *testing.T) {
		a, s := stubAgent(t, answer{Body: `{"agent":{"id":"a1","photo_id":"f9"}}`})
		got, err := a.SetPhoto(ctx, "me.png", strings.NewReader("\x89PNG"))
		if err != nil || got.PhotoID != "f9" {
			t.Fatalf("SetPhoto = %+v, %v; want photo f9", got, err)
		}
		ex := s.only(t)
		if ex.Method != "PUT" || ex.Path != "/agent/api/v1/me/photo" {
			t.Errorf("request = %s %s, want PUT /agent/api/v1/me/photo", ex.Method, ex.Path)
		}
		if p := onlyPart(t, ex); p.FileName != "me.png" || p.Content != "\x89PNG" {
			t.Errorf("part = %+v", p)
		}
	})
	t.Run("DownloadFile gets the bytes with the token", func(t *testing.T) {
		a, s := stubAgent(t, answer{Body: "%PDF", Header: http.Header{"Content-Type": {"application/pdf"}}})
		got, err := a.DownloadFile(ctx, "f1")
		if err != nil || string(got.Data) != "%PDF" || got.ContentType != "application/pdf" {
			t.Fatalf("DownloadFile = %q (%s), %v", got.Data, got.ContentType, err)
		}
		ex := s.only(t)
		if ex.Path != "/agent/api/v1/files/f1" || ex.Header.Get("Authorization") != "Bearer tok-1" {
			t.Errorf("request = %s (Authorization %q)", ex.Path, ex.Header.Get("Authorization"))
		}
	})
}

func TestAgentErrorsAreAPIErrors(t *testing.T) {
	tests := []struct {
		name   string
		ans    answer
		status int
		code   string
	}{
		{"a login that expired", answer{Status: 401, Body: `{"error_code":"4010","error_message":"log in first"}`}, 401, client.CodeUnauthorized},
		{"an agent who is no administrator", answer{Status: 403, Body: `{"error_code":"4030","error_message":"administrators only"}`}, 403, client.CodeForbidden},
		{"an offer that went elsewhere", answer{Status: 404, Body: `{"error_code":"5005","error_message":"no offer"}`}, 404, client.CodeChatNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name+" keeps its status and code", func(t *testing.T) {
			a, _ := stubAgent(t, tt.ans)
			_, err := a.Accept(t.Context(), "c1")
			if !client.HasStatus(err, tt.status) || !client.HasCode(err, tt.code) {
				t.Errorf("Accept error = %v, want status %d code %s", err, tt.status, tt.code)
			}
			if !strings.HasPrefix(err.Error(), "accept chat: ") {
				t.Errorf("error %q does not name the operation", err)
			}
		})
	}
}

func TestAgentEmptyIDsSendNoRequest(t *testing.T) {
	a, s := stubAgent(t, answer{Body: `{}`})
	ctx := t.Context()
	calls := map[string]error{
		"Accept":       func() error { _, err := a.Accept(ctx, ""); return err }(),
		"Events":       func() error { _, err := a.Events(ctx, "", 0); return err }(),
		"ICEServers":   func() error { _, err := a.ICEServers(ctx, ""); return err }(),
		"UpdateAgent":  func() error { _, err := a.UpdateAgent(ctx, "", client.AgentSettings{}); return err }(),
		"DownloadFile": func() error { _, err := a.DownloadFile(ctx, ""); return err }(),
	}
	for name, err := range calls {
		if !errors.Is(err, client.ErrEmptyID) {
			t.Errorf("%s with an empty id: err = %v, want ErrEmptyID", name, err)
		}
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("server received %d requests, want none", n)
	}
}

func TestNewAgentRefusesBaseURLsThatAreNoServer(t *testing.T) {
	for _, base := range []string{"ftp://example.com", "example.com", "http://example.com?x=1"} {
		if _, err := client.NewAgent(base); err == nil {
			t.Errorf("NewAgent(%q) succeeded, want an error", base)
		}
	}
}

// streamServer is an agent stream endpoint that checks the handshake and
// then sends msgs.
func streamServer(t *testing.T, msgs ...string) (*httptest.Server, chan *http.Request) {
	t.Helper()
	handshakes := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error_code":"4010","error_message":"log in first"}`))
			return
		}
		handshakes <- r
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		for _, m := range msgs {
			if err := conn.Write(r.Context(), websocket.MessageText, []byte(m)); err != nil {
				return
			}
		}
		// Hold the connection until the client closes it.
		conn.Read(r.Context())
	}))
	t.Cleanup(srv.Close)
	return srv, handshakes
}

func TestStreamYieldsTypedMessagesAndTracksCursors(t *testing.T) {
	bigText := strings.Repeat("x", 100<<10) // over the WebSocket library's default read limit
	srv, handshakes := streamServer(t,
		`{"type":"routing","routing":{"state":"ready","reason":"","offers":[{"chat_id":"c2","app_id":"web","queue":"web","expires":"2030-01-02T03:04:05Z","waited":3}],"chats":["c1"]}}`,
		`{"type":"events","chat_id":"c1","events":[{"event":"chat_session_message","msg_id":"m1","party_id":"c1","msg":"Hi","msg_text":"Hi","timestamp":"1","seq":13},{"event":"chat_session_typing","party_id":"c1","timestamp":"1","seq":14}]}`,
		`{"type":"events","chat_id":"c1","events":[{"event":"chat_session_message","msg_id":"m2","party_id":"c1","msg":"`+bigText+`","msg_text":"","timestamp":"1","seq":15}]}`,
	)
	a := newAgent(t, srv.URL, "tok-1")
	ctx := t.Context()
	stream, err := a.Stream(ctx, map[string]int64{"c1": 12, "c0": 40})
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	defer stream.Close()
	r := <-handshakes
	if r.URL.Path != "/agent/api/v1/stream" || r.URL.Query().Get("cursors") != "c0:40,c1:12" {
		t.Errorf("handshake = %s, want /agent/api/v1/stream?cursors=c0:40,c1:12", r.URL)
	}

	m, err := stream.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	if m.Type != client.StreamRouting || m.Routing == nil || !m.Routing.Offered("c2") || !m.Routing.Handles("c1") {
		t.Errorf("first message = %s, want the routing view", m.Raw)
	}
	m, err = stream.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	if m.Type != client.StreamEvents || m.ChatID != "c1" || len(m.Events) != 2 || m.Events[0].MsgID != "m1" || m.Events[1].Seq != 14 {
		t.Errorf("second message = %s, want c1's events 13 and 14", m.Raw)
	}
	if got := stream.Cursors(); !reflect.DeepEqual(got, map[string]int64{"c0": 40, "c1": 14}) {
		t.Errorf("Cursors = %v after seq 14, want c0:40 c1:14", got)
	}
	m, err = stream.Next(ctx)
	if err != nil {
		t.Fatalf("Next of a message over 32 KiB: %v", err)
	}
	if len(m.Events) != 1 || len(m.Events[0].Msg) != len(bigText) {
		t.Errorf("third message has %d events, want the long message whole", len(m.Events))
	}
	if err := stream.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := stream.Close(); err != nil {
		t.Errorf("second Close: %v, want none", err)
	}
}

func TestStreamHandshakeRefusalIsAnAPIError(t *testing.T) {
	srv, _ := streamServer(t)
	a := newAgent(t, srv.URL, "expired")
	_, err := a.Stream(t.Context(), nil)
	if !client.HasStatus(err, http.StatusUnauthorized) || !client.HasCode(err, client.CodeUnauthorized) {
		t.Errorf("Stream with a bad token: err = %v, want 401/4010", err)
	}
}
