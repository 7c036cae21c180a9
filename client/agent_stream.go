package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// Types of the messages of an agent stream.
const (
	StreamRouting = "routing" // the agent's routing view changed (or may have)
	StreamEvents  = "events"  // new events of one of the agent's chats
)

// streamReadLimit bounds one stream message. The server sends up to 500
// events of a chat at once, far over the WebSocket library's 32 KiB default.
const streamReadLimit = 16 << 20

// StreamMessage is one message of an agent stream: Routing when Type is
// StreamRouting, ChatID and Events when it is StreamEvents. Raw keeps the
// message as received.
type StreamMessage struct {
	Type    string       `json:"type"`
	Routing *RoutingView `json:"routing,omitempty"`
	ChatID  string       `json:"chat_id,omitempty"`
	Events  []Event      `json:"events,omitempty"`
	Raw     []byte       `json:"-"`
}

// AgentStream is an agent's WebSocket: a routing message whenever the
// agent's state, offers or chats change, and every new event of the
// agent's chats, in order per chat. It remembers the last seq it was given
// of each chat (Cursors), which is what to resume from after a reconnect.
// Next must not be called concurrently; Cursors and Close may be.
type AgentStream struct {
	conn *websocket.Conn

	mu      sync.Mutex
	cursors map[string]int64
}

// Stream opens the agent's stream. cursors resumes after a reconnect: each
// listed chat continues after its seq (see AgentStream.Cursors), any other
// chat of the agent starts from its beginning. ctx bounds the handshake
// only; a refused one (an expired login) is an *APIError.
func (a *Agent) Stream(ctx context.Context, cursors map[string]int64) (*AgentStream, error) {
	q := url.Values{}
	if len(cursors) > 0 {
		q.Set("cursors", formatCursors(cursors))
	}
	header := a.header.Clone()
	if header == nil {
		header = http.Header{}
	}
	// The token travels in the header rather than as ?token= (what
	// browsers, which cannot set it, send): URLs end up in access logs.
	if authz := a.authorization(); authz != "" {
		header.Set("Authorization", authz)
	}
	conn, resp, err := websocket.Dial(ctx, a.apiURL("stream", q), &websocket.DialOptions{
		HTTPClient: a.hc,
		HTTPHeader: header,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			err = readAPIError(resp)
		}
		return nil, fmt.Errorf("open agent stream: %w", err)
	}
	conn.SetReadLimit(streamReadLimit)
	s := &AgentStream{conn: conn, cursors: map[string]int64{}}
	for id, seq := range cursors {
		s.cursors[id] = seq
	}
	return s, nil
}

// formatCursors renders chatA:12,chatB:40 in a stable order.
func formatCursors(cursors map[string]int64) string {
	ids := make([]string, 0, len(cursors))
	for id := range cursors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	pairs := make([]string, len(ids))
	for i, id := range ids {
		pairs[i] = id + ":" + strconv.FormatInt(cursors[id], 10)
	}
	return strings.Join(pairs, ",")
}

// Next waits for the next message. Keep calling it: the stream answers the
// server's pings only while it reads, and a server whose pings go
// unanswered closes the stream. When ctx ends while Next waits, the stream
// is closed (the WebSocket library cannot abandon a read half way): open a
// new one with Cursors to go on. A stream the server closed is an error too.
func (s *AgentStream) Next(ctx context.Context) (StreamMessage, error) {
	_, data, err := s.conn.Read(ctx)
	if err != nil {
		return StreamMessage{}, fmt.Errorf("read agent stream: %w", err)
	}
	var m StreamMessage
	if !m.decodeFast(data) {
		if err := json.Unmarshal(data, &m); err != nil {
			return StreamMessage{}, fmt.Errorf("read agent stream: %w: %w", ErrBadResponse, err)
		}
		m.Raw = data
	}
	if m.Type == StreamEvents && len(m.Events) > 0 {
		s.mu.Lock()
		s.cursors[m.ChatID] = max(s.cursors[m.ChatID], LastSeq(m.Events))
		s.mu.Unlock()
	}
	return m, nil
}

// Cursors returns the last seq the stream was given of each chat, and the
// cursors it was opened with for chats it has not been given anything of.
func (s *AgentStream) Cursors() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.cursors))
	for id, seq := range s.cursors {
		out[id] = seq
	}
	return out
}

// Close closes the stream; closing a closed stream is no error.
func (s *AgentStream) Close() error {
	err := s.conn.Close(websocket.StatusNormalClosure, "")
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close agent stream: %w", err)
	}
	return nil
}
