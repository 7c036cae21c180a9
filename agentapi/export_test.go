package agentapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestAnAgentExportsAChatTheyHandledAsJSONAndHTML(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	id := v.ChatID
	c.say(id, "my card <script>alert(1)</script> was stolen, 2 < 3 > 1")
	a.say(id, "I am blocking it & sending a new one")

	t.Run("as JSON with every message", func(t *testing.T) {
		r := a.call("GET", "chats/"+id+"/export", "")
		if r.status != http.StatusOK {
			t.Fatalf("export: %d %s", r.status, r.body)
		}
		var x struct {
			Chat struct {
				ChatID string `json:"chat_id"`
			} `json:"chat"`
			Events []map[string]any `json:"events"`
		}
		if err := json.Unmarshal(r.body, &x); err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, ev := range x.Events {
			if ev["event"] == "chat_session_message" {
				msgs = append(msgs, ev["msg_text"].(string))
			}
		}
		if x.Chat.ChatID != id || len(msgs) != 2 || !strings.Contains(msgs[1], "new one") {
			t.Errorf("export of %s: chat %q, messages %q", id, x.Chat.ChatID, msgs)
		}
	})
	t.Run("as an escaped HTML page", func(t *testing.T) {
		r := a.call("GET", "chats/"+id+"/export?format=html", "")
		body := string(r.body)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("export: %d %s %s", r.status, r.header.Get("Content-Type"), body)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("unescaped script in the page:\n%s", body)
		}
		if !strings.Contains(body, "stolen, 2 &lt; 3 &gt; 1") || !strings.Contains(body, "blocking it &amp; sending") {
			t.Errorf("messages missing from the page:\n%s", body)
		}
	})
	t.Run("not for an agent who never saw it", func(t *testing.T) {
		r := e.login(bob).call("GET", "chats/"+id+"/export", "")
		if r.status != http.StatusNotFound {
			t.Errorf("bob's export: %d, want 404", r.status)
		}
	})
}
