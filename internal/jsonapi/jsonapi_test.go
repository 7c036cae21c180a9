package jsonapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parley-chat/parley/internal/logbuf"
)

func TestWriteErrorTellsTheNodesFailuresFromClientsThatLeft(t *testing.T) {
	left, cancel := context.WithCancel(context.Background())
	cancel()
	canceled := fmt.Errorf("append events: %w", context.Canceled)
	for _, tc := range []struct {
		name       string
		ctx        context.Context
		err        error
		status     int
		errorLines int
	}{
		{"the client left while its request was served", left, canceled, 499, 0},
		{"work canceled by the node while the client waits", context.Background(), canceled, http.StatusInternalServerError, 1},
		{"an internal failure", context.Background(), errors.New("disk full"), http.StatusInternalServerError, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logbuf.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			r := httptest.NewRequestWithContext(tc.ctx, "POST", "/agent/api/v1/chats/c1/events", nil)
			w := httptest.NewRecorder()
			WriteError(w, r, log, tc.err)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			if got := logs.Count("level=ERROR", "request failed"); got != tc.errorLines {
				t.Errorf("%d error lines, want %d:\n%s", got, tc.errorLines, logs.String())
			}
		})
	}
}
