package clientweb

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/parley-chat/parley/internal/logbuf"
)

// A mobile client that loses its network leaves requests behind it. Their
// failure is the client's doing: it is logged at debug, not as an error an
// operator must look at, and counted apart from the node's own failures.
func TestARequestWhoseClientLeftIsNotTheNodesError(t *testing.T) {
	t.Parallel()
	var logs logbuf.Buffer
	n := newTestNode(t, false, func(h *Handler) {
		h.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	chatID := n.startChat(t, "leaving-client")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := n.request(t, "POST", "chats/"+chatID+"/events", "leaving-client",
		`{"events":[{"event":"chat_session_message","msg_id":"m1","msg":"sent as the train enters a tunnel"}]}`)
	w := httptest.NewRecorder()
	n.h.ServeHTTP(w, r.WithContext(ctx))
	if w.Code != statusClientClosedRequest {
		t.Errorf("status = %d %s, want %d", w.Code, w.Body, statusClientClosedRequest)
	}
	if got := logs.Count("level=ERROR"); got != 0 {
		t.Errorf("%d error lines for a client that left:\n%s", got, logs.String())
	}
	if got := logs.Count("level=DEBUG", "client left"); got != 1 {
		t.Errorf("%d debug lines saying the client left, want 1:\n%s", got, logs.String())
	}
}
