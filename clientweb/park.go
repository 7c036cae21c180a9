package clientweb

import (
	"context"
	"encoding/json"
	"errors"
	"io"
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
	l := &parkListener{Listener: ln, h: h, back: make(chan net.Conn), accepted: make(chan acceptResult), done: make(chan struct{}),
		waiting: map[net.Conn]struct{}{}}
	go l.accept()
	h.parking.Store(l)
	return l
}

// parkListener accepts new connections from its listener and connections
// coming back from parked polls.
type parkListener struct {
	net.Listener
	h        *Handler
	back     chan net.Conn
	accepted chan acceptResult
	done     chan struct{}
	once     sync.Once

	mu      sync.Mutex
	waiting map[net.Conn]struct{} // answered, waiting for their next request
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

// Close stops accepting. The HTTP server closes its listeners first when it
// shuts down, and does not know parked polls: they are answered here, with
// no events and "Connection: close", before Close returns (or gives up
// after parkDrain), so that the server's shutdown does not end the process
// before their clients are told.
func (l *parkListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.mu.Lock()
		for c := range l.waiting {
			c.Close()
		}
		l.mu.Unlock()
		l.h.Close()
		for deadline := time.Now().Add(parkDrain); l.h.Parked() > 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	})
	return l.Listener.Close()
}

// parkDrain bounds how long closing the listener waits for parked polls to
// be answered.
const parkDrain = 5 * time.Second

// parkIdleTimeout is how long an answered poll's connection waits for the
// client's next request, as the HTTP server's idle timeout would.
const parkIdleTimeout = 2 * time.Minute

// giveBack hands a connection to the HTTP server again once its next
// request starts to arrive. Handed back at once, it would count as a new
// connection that has not begun its first request, and the server's
// graceful shutdown waits for those (up to five seconds) rather than
// closing them as idle. The wait costs a goroutine for as long as the
// client takes to poll again, usually moments. A client that does not come
// back within parkIdleTimeout, or a shutdown, closes the connection.
func (l *parkListener) giveBack(c net.Conn) {
	l.mu.Lock()
	select {
	case <-l.done:
		l.mu.Unlock()
		c.Close()
		return
	default:
	}
	l.waiting[c] = struct{}{}
	l.mu.Unlock()
	go func() {
		var first [1]byte
		c.SetReadDeadline(time.Now().Add(parkIdleTimeout))
		n, err := c.Read(first[:])
		l.mu.Lock()
		delete(l.waiting, c)
		l.mu.Unlock()
		if n == 0 || err != nil && !errors.Is(err, io.EOF) {
			c.Close()
			return
		}
		c.SetReadDeadline(time.Time{})
		select {
		case l.back <- withReadAhead(c, first[:n]):
		case <-l.done:
			c.Close()
		}
	}()
}

// Parked returns how many polls are parked now (they count in Pending too).
func (h *Handler) Parked() int { return int(h.parked.Load()) }

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
		conn = withReadAhead(conn, slices.Clone(b))
	}
	pc := &parkedConn{conn: conn, header: header, close: r.Close}
	h.parked.Add(1)
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
	defer h.parked.Add(-1)
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

// withReadAhead puts b in front of what is left to read of c. A connection
// that came back from a parked poll is a bufferedConn already and is
// reused: a customer's connection is parked at every poll for as long as
// the chat lasts, and a wrapper per park would make each read, write and
// deadline of the connection walk a chain that grows with every poll.
func withReadAhead(c net.Conn, b []byte) net.Conn {
	bc, ok := c.(*bufferedConn)
	if !ok {
		return &bufferedConn{Conn: c, buf: b}
	}
	if len(bc.buf) == 0 {
		bc.buf = b
	} else {
		bc.buf = append(slices.Clip(b), bc.buf...)
	}
	return bc
}

func (c *bufferedConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite lets the HTTP server half-close the connection, as it does
// with a plain TCP connection.
func (c *bufferedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
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
