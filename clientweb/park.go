package clientweb

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Parked polls.
//
// A node holds one long poll per waiting customer, tens of thousands of
// them. Held by net/http, each costs a goroutine with its stack, a second
// goroutine watching the connection and about 10 KiB of buffers: some 35
// KiB, most of a node's memory. A poll that has to wait is therefore
// parked: its connection is taken from the HTTP server (hijacked), the
// request's goroutine and buffers are let go, and what remains is a small
// record, a timer and a callback on the bus. When the poll is answered, the
// answer is written to the connection and the connection is handed back to
// the HTTP server through the listener it accepts from (Handler.Listener),
// as if newly accepted, to serve the client's next request.
//
// Only plain HTTP/1.1 requests without a body are parked: an HTTP/2 stream
// or a TLS connection cannot be handed back this way, and those polls wait
// in their goroutine as before.

// parkWriteTimeout bounds writing a parked poll's answer: a client that does
// not read it loses its connection rather than holding a goroutine.
const parkWriteTimeout = 10 * time.Second

// Listener returns ln, through which the HTTP server serving h must accept
// its connections for polls to be parked: connections of answered parked
// polls come back through it. Without it polls are never parked.
func (h *Handler) Listener(ln net.Listener) net.Listener {
	l := &parkListener{Listener: ln, back: make(chan net.Conn), accepted: make(chan acceptResult), done: make(chan struct{})}
	go l.accept()
	h.parking.Store(l)
	return l
}

// parkListener accepts new connections from its listener and connections
// coming back from parked polls.
type parkListener struct {
	net.Listener
	back     chan net.Conn
	accepted chan acceptResult
	done     chan struct{}
	once     sync.Once
}

type acceptResult struct {
	c   net.Conn
	err error
}

// accept passes what the listener accepts to Accept, errors included: the
// HTTP server backs off after a temporary one (too many open files) and
// stops at a closed listener.
func (l *parkListener) accept() {
	for {
		c, err := l.Listener.Accept()
		select {
		case l.accepted <- acceptResult{c, err}:
		case <-l.done:
			if c != nil {
				c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

func (l *parkListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.back:
		return c, nil
	case r := <-l.accepted:
		return r.c, r.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *parkListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// giveBack hands a connection to the HTTP server again, or closes it when
// the server no longer accepts.
func (l *parkListener) giveBack(c net.Conn) {
	select {
	case l.back <- c:
	case <-l.done:
		c.Close()
	}
}

// parkedConn is the connection of a parked poll and what its answer needs.
type parkedConn struct {
	conn   net.Conn
	header []byte // the answer's header lines so far, "Key: value\r\n" each
	close  bool   // the client asked to close the connection after the answer
}

// park parks q if r allows it, and reports whether it did; the handler then
// returns without answering.
func (h *Handler) park(w http.ResponseWriter, r *http.Request, q *pollState) bool {
	l, _ := h.parking.Load().(*parkListener)
	if l == nil || h.closed() || r.TLS != nil || r.ProtoMajor != 1 || r.ProtoMinor != 1 ||
		r.ContentLength != 0 || len(r.TransferEncoding) > 0 || r.Method != http.MethodGet {
		return false
	}
	header := renderHeader(w.Header())
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false // not an HTTP/1 connection of net/http: wait as usual
	}
	if n := rw.Reader.Buffered(); n > 0 {
		// The client sent its next request already (pipelining): keep
		// those bytes in front of the connection.
		b, _ := rw.Reader.Peek(n)
		conn = &bufferedConn{Conn: conn, buf: slices.Clone(b)}
	}
	pc := &parkedConn{conn: conn, header: header, close: r.Close}
	q.mu.Lock()
	q.parked = pc
	start := q.reasons != 0 && !q.running
	q.running = q.running || start
	q.mu.Unlock()
	if start {
		go q.drive()
	}
	return true
}

// drive runs a parked poll's steps until it is answered or has nothing left
// to do; signal starts it again when more comes.
func (q *pollState) drive() {
	ctx, cancel := context.WithTimeout(context.Background(), parkWriteTimeout)
	defer cancel()
	for {
		if a := q.step(ctx); a != nil {
			q.finish()
			q.h.answerParked(q.parked, a)
			return
		}
		q.mu.Lock()
		if q.reasons == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
	}
}

// answerParked writes a parked poll's answer and hands its connection back
// to the HTTP server, or closes it when the client or the shutdown wants.
func (h *Handler) answerParked(pc *parkedConn, a *answer) {
	closing := pc.close
	select {
	case <-h.quit:
		closing = true
	default:
	}
	buf := make([]byte, 0, 160+len(pc.header)+len(a.body))
	buf = append(buf, "HTTP/1.1 "...)
	buf = strconv.AppendInt(buf, int64(a.status), 10)
	buf = append(buf, ' ')
	buf = append(buf, http.StatusText(a.status)...)
	buf = append(buf, "\r\n"...)
	buf = append(buf, pc.header...)
	buf = append(buf, "Cache-Control: no-cache, no-store\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: "...)
	buf = strconv.AppendInt(buf, int64(len(a.body)), 10)
	buf = append(buf, "\r\nDate: "...)
	buf = time.Now().UTC().AppendFormat(buf, http.TimeFormat)
	if closing {
		buf = append(buf, "\r\nConnection: close"...)
	}
	buf = append(buf, "\r\n\r\n"...)
	buf = append(buf, a.body...)
	pc.conn.SetWriteDeadline(time.Now().Add(parkWriteTimeout))
	_, err := pc.conn.Write(buf)
	if err != nil || closing {
		pc.conn.Close()
		return
	}
	pc.conn.SetWriteDeadline(time.Time{})
	l, _ := h.parking.Load().(*parkListener)
	if l == nil {
		pc.conn.Close()
		return
	}
	l.giveBack(pc.conn)
}

// renderHeader renders the header lines set so far (CORS, a WebChat
// cookie, the request id…), leaving out those the answer sets itself.
func renderHeader(hdr http.Header) []byte {
	var b []byte
	for k, vs := range hdr {
		switch k {
		case "Cache-Control", "Content-Type", "Content-Length", "Date", "Connection", "Transfer-Encoding":
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, headerValue(v)...)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// headerValue drops what would break the header block, as net/http does.
func headerValue(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
}

// bufferedConn is a connection with bytes read ahead of it.
type bufferedConn struct {
	net.Conn
	buf []byte
}

func (c *bufferedConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// errorAnswer is the spec's error object for err, as writeError answers it.
func (h *Handler) errorAnswer(err error) *answer {
	code := chat.ErrorCode(err)
	if code == chat.CodeInternal || code == chat.CodeTimeout || code == chat.CodeDisconnected {
		h.Log.Error("poll failed", "err", err)
	}
	body, _ := json.Marshal(errorBody{Code: code, Message: chat.ErrorMessage(err)})
	return &answer{status: StatusOf(code), body: body}
}
