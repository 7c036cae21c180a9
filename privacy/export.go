package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/chat"
)

// ChatExport is a chat's transcript: the session's details, its wrap-ups
// and every event, the events exactly as the agent API shows them.
type ChatExport struct {
	Chat    ChatInfo        `json:"chat"`
	WrapUps []chat.WrapUp   `json:"wrapups"`
	Events  json.RawMessage `json:"events"`

	events []chat.Event
}

// ChatInfo is the metadata of an exported chat.
type ChatInfo struct {
	ChatID      string          `json:"chat_id"`
	Tenant      string          `json:"tenant"`
	AppID       string          `json:"app_id"`
	ClientID    string          `json:"client_id"`
	State       string          `json:"state"`
	Created     time.Time       `json:"created"`
	EndedAt     *time.Time      `json:"ended_at,omitempty"`
	PhoneNumber string          `json:"phone_number"`
	From        string          `json:"from"`
	Parameters  json.RawMessage `json:"parameters"`
	CaseID      string          `json:"case_id"`
	AgentID     string          `json:"agent_id"`
}

// CaseExport is a case's transcript: every chat linked to it, oldest first.
type CaseExport struct {
	Case  CaseInfo     `json:"case"`
	Chats []ChatExport `json:"chats"`
}

// CaseInfo is the metadata of an exported case.
type CaseInfo struct {
	CaseID   string     `json:"case_id"`
	Tenant   string     `json:"tenant"`
	AppID    string     `json:"app_id"`
	ClientID string     `json:"client_id"`
	Created  time.Time  `json:"created"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
}

// page is how many events are read at a time.
const page = 1000

// ExportChat reads the whole transcript of a chat.
func ExportChat(ctx context.Context, st chat.Store, sess chat.Session) (ChatExport, error) {
	x := ChatExport{Chat: ChatInfo{
		ChatID: sess.ID, Tenant: sess.Tenant, AppID: sess.AppID, ClientID: sess.ClientID, State: sess.State,
		Created: sess.Created, PhoneNumber: sess.PhoneNumber, From: sess.From, Parameters: sess.Parameters,
		CaseID: sess.CaseID, AgentID: sess.AgentID,
	}}
	if !sess.Live() {
		x.Chat.EndedAt = &sess.Ended
	}
	if len(x.Chat.Parameters) == 0 {
		x.Chat.Parameters = json.RawMessage(`{}`)
	}
	for after := int64(0); ; {
		evs, err := st.Events(ctx, sess.ID, after, page)
		if err != nil {
			return ChatExport{}, fmt.Errorf("export chat %s: %w", sess.ID, err)
		}
		x.events = append(x.events, evs...)
		if len(evs) < page {
			break
		}
		after = evs[len(evs)-1].Seq
	}
	x.Events = chat.AppendEventArray(nil, x.events)
	var err error
	if x.WrapUps, err = st.WrapUps(ctx, sess.ID); err != nil {
		return ChatExport{}, fmt.Errorf("export chat %s: %w", sess.ID, err)
	}
	if x.WrapUps == nil {
		x.WrapUps = []chat.WrapUp{}
	}
	return x, nil
}

// ExportCase reads the transcripts of every chat linked to a case.
func ExportCase(ctx context.Context, st chat.Store, caseID string) (CaseExport, error) {
	c, err := st.Case(ctx, caseID)
	if err != nil {
		return CaseExport{}, fmt.Errorf("export case %s: %w", caseID, err)
	}
	x := CaseExport{Case: CaseInfo{CaseID: c.ID, Tenant: c.Tenant, AppID: c.AppID, ClientID: c.ClientID, Created: c.Created}}
	if !c.Closed.IsZero() {
		x.Case.ClosedAt = &c.Closed
	}
	sessions, err := st.CaseSessions(ctx, caseID)
	if err != nil {
		return CaseExport{}, fmt.Errorf("export case %s: %w", caseID, err)
	}
	x.Chats = make([]ChatExport, 0, len(sessions))
	for _, s := range sessions {
		cx, err := ExportChat(ctx, st, s)
		if err != nil {
			return CaseExport{}, err
		}
		x.Chats = append(x.Chats, cx)
	}
	return x, nil
}

// Write answers with an export as ?format= asks: "json" (the default) or
// "html", a self-contained printable page. Anything else is CodeInvalid.
func Write(w http.ResponseWriter, r *http.Request, name string, x any) error {
	format := r.URL.Query().Get("format")
	var body strings.Builder
	switch format {
	case "", "json":
		b, err := json.MarshalIndent(x, "", "  ")
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		body.Write(b)
		body.WriteByte('\n')
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		format = "json"
	case "html":
		if err := WriteHTML(&body, x); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The page is data, never code: no script, frame or remote load.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	default:
		return chat.Errorf(chat.CodeInvalid, "format must be json or html")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.%s"`, name, format))
	_, err := io.WriteString(w, body.String())
	return err
}

// WriteHTML writes a ChatExport or CaseExport as a printable HTML page
// (html/template escapes every customer-provided string).
func WriteHTML(w io.Writer, x any) error {
	var v htmlPage
	switch x := x.(type) {
	case ChatExport:
		v.Title = "Chat " + x.Chat.ChatID
		v.Chats = []htmlChat{htmlChatOf(x)}
	case CaseExport:
		v.Title = "Case " + x.Case.CaseID
		v.Case = &x.Case
		for _, c := range x.Chats {
			v.Chats = append(v.Chats, htmlChatOf(c))
		}
	default:
		return fmt.Errorf("export html: unexpected %T", x)
	}
	if err := pageTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("export html: %w", err)
	}
	return nil
}

type htmlPage struct {
	Title string
	Case  *CaseInfo
	Chats []htmlChat
}

type htmlChat struct {
	Info    ChatInfo
	Params  string
	WrapUps []chat.WrapUp
	Lines   []htmlLine
}

// htmlLine is one event as a reader sees it: when, who, what.
type htmlLine struct {
	Time  time.Time
	Who   string
	What  string
	Class string // "msg" for messages, "sys" for everything else
}

func htmlChatOf(x ChatExport) htmlChat {
	c := htmlChat{Info: x.Chat, WrapUps: x.WrapUps}
	if p := string(x.Chat.Parameters); p != "{}" && p != "" {
		c.Params = p
	}
	names := map[string]string{}
	for _, ev := range x.events {
		if ev.Type == chat.TypePartyJoined {
			name := ev.DisplayName
			if name == "" {
				name = strings.TrimSpace(ev.FirstName + " " + ev.LastName)
			}
			if name != "" {
				names[ev.PartyID] = name
			}
		}
	}
	customer := "Customer"
	if x.Chat.From != "" {
		customer = "Customer (" + x.Chat.From + ")"
	}
	for _, ev := range x.events {
		what, ok := describe(&ev)
		if !ok {
			continue
		}
		who := "System"
		switch {
		case ev.PartyID == ev.ChatID:
			who = customer
		case names[ev.PartyID] != "":
			who = names[ev.PartyID]
		case ev.PartyID != "":
			who = "Party " + ev.PartyID
		}
		class := "sys"
		if ev.Type == chat.TypeMessage {
			class = "msg"
		}
		c.Lines = append(c.Lines, htmlLine{Time: ev.Time.UTC(), Who: who, What: what, Class: class})
	}
	return c
}

// describe says what an event means in words; typing and receipts are
// left out of a transcript.
func describe(ev *chat.Event) (string, bool) {
	switch ev.Type {
	case chat.TypeMessage:
		if ev.MsgText != "" {
			return ev.MsgText, true
		}
		return ev.Msg, true
	case chat.TypeTyping, chat.TypeNotTyping, chat.TypeDelivered, chat.TypeRead:
		return "", false
	case chat.TypeStatus:
		return "Chat " + ev.State, true
	case chat.TypePartyJoined:
		return "joined the chat", true
	case chat.TypePartyLeft:
		return "left the chat", true
	case chat.TypeFile:
		return fmt.Sprintf("sent the file %s (%s)", ev.FileName, ev.FileType), true
	case chat.TypeLocation:
		return fmt.Sprintf("shared a location: %s, %s %s", ev.Latitude, ev.Longitude, ev.URL), true
	case chat.TypeCaseSet:
		return "linked the chat to case " + ev.CaseID, true
	case chat.TypeSignaling:
		if ev.Signal.Type == "ICE_CANDIDATE" {
			return "", false
		}
		return "call: " + ev.Signal.Type, true
	case chat.TypeFormShow:
		return "form shown: " + ev.FormName, true
	case chat.TypeFormData:
		return "form answered: " + string(ev.FormData), true
	case chat.TypeTimeoutWarning, chat.TypeInactivityTimeout:
		if ev.Msg != "" {
			return ev.Msg, true
		}
		return strings.ReplaceAll(strings.TrimPrefix(string(ev.Type), "chat_session_"), "_", " "), true
	case chat.TypeEnded, chat.TypeEnd, chat.TypeDisconnect:
		return "Chat ended", true
	}
	return string(ev.Type), true
}

var pageTemplate = template.Must(template.New("export").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; color: #111; margin: 2em auto; max-width: 60em; padding: 0 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #999; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dt { color: #555; } dd { margin: 0; word-break: break-all; }
table { border-collapse: collapse; width: 100%; }
td { vertical-align: top; padding: .3em .5em; border-bottom: 1px solid #ddd; }
td.t { white-space: nowrap; color: #555; font-size: .9em; } td.w { white-space: nowrap; font-weight: 600; }
tr.sys td.m { color: #555; font-style: italic; } td.m { white-space: pre-wrap; word-break: break-word; }
@media print { body { margin: 0; max-width: none; } h2 { break-before: page; } h2:first-of-type { break-before: auto; } tr { break-inside: avoid; } }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{with .Case}}<dl>
<dt>Tenant</dt><dd>{{.Tenant}}</dd><dt>Entry</dt><dd>{{.AppID}}</dd><dt>Client</dt><dd>{{.ClientID}}</dd>
<dt>Opened</dt><dd>{{when .Created}}</dd>{{with .ClosedAt}}<dt>Closed</dt><dd>{{when .}}</dd>{{end}}
</dl>{{end}}
{{range .Chats}}<h2>Chat {{.Info.ChatID}}</h2>
<dl>
<dt>Tenant</dt><dd>{{.Info.Tenant}}</dd><dt>Entry</dt><dd>{{.Info.AppID}}</dd><dt>Client</dt><dd>{{.Info.ClientID}}</dd>
<dt>Started</dt><dd>{{when .Info.Created}}</dd>{{with .Info.EndedAt}}<dt>Ended</dt><dd>{{when .}}</dd>{{end}}
<dt>State</dt><dd>{{.Info.State}}</dd>
{{with .Info.From}}<dt>From</dt><dd>{{.}}</dd>{{end}}{{with .Info.PhoneNumber}}<dt>Phone</dt><dd>{{.}}</dd>{{end}}
{{with .Params}}<dt>Parameters</dt><dd>{{.}}</dd>{{end}}{{with .Info.CaseID}}<dt>Case</dt><dd>{{.}}</dd>{{end}}
{{with .Info.AgentID}}<dt>Agent</dt><dd>{{.}}</dd>{{end}}
{{range .WrapUps}}<dt>Wrap-up</dt><dd>{{.Code}}{{with .Notes}}: {{.}}{{end}} ({{.AgentID}})</dd>{{end}}
</dl>
<table>
{{range .Lines}}<tr class="{{.Class}}"><td class="t">{{when .Time}}</td><td class="w">{{.Who}}</td><td class="m">{{.What}}</td></tr>
{{end}}</table>
{{end}}
</body>
</html>
`))
