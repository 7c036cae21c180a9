package clientweb_test

import (
	"sync"
	"testing"
)

func TestConcurrentRequestChatCreatesOneChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	const n = 20
	answers := make([]map[string]any, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		r := c.request("POST", "chats", []byte(`{"parameters":{}}`))
		wg.Go(func() {
			<-start
			resp := e.do(r)
			if resp.status == 200 {
				answers[i] = resp.object(t)
			} else {
				t.Errorf("request %d: status %d %s", i, resp.status, resp.body)
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	created := 0
	id := answers[0]["chat_id"]
	for i, a := range answers {
		if a["chat_id"] != id {
			t.Errorf("answer %d names chat %v, answer 0 chat %v", i, a["chat_id"], id)
		}
		if a["is_new_chat"] == true {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d answers say is_new_chat, want exactly 1", created)
	}
	if evs := c.poll(id.(string)); len(types(evs)) != 2 {
		t.Errorf("the chat's log = %v, want one queued status and one case", types(evs))
	}

	t.Run("the next chat of the client shares the case of the first", func(t *testing.T) {
		first := id.(string)
		c.send(first, `{"event":"chat_session_end"}`)
		next := c.requestChat()
		if a, b := e.session(first).CaseID, e.session(next).CaseID; a != b {
			t.Errorf("the first chat's case is %s, the next chat's %s", a, b)
		}
	})
}
