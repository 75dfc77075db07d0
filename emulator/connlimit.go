package emulator

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Connection limits. Every open connection holds a file descriptor, so without a bound a few
// thousand idle keep-alive connections stop the emulator from accepting any more, health checks
// included. The listeners share one count:
//
//   - Up to Config.MaxConnections connections are served as usual.
//   - The next healthReserve connections are kept for health checks: GET /_emulator/health is
//     answered on them, anything else gets 503 with Retry-After, and each is closed after its
//     answer. Such a connection must send its request within overflowGrace, so connections that
//     send nothing cannot hold the reserve.
//   - Beyond that a connection is closed at once, after a 503 written straight to it (plain HTTP
//     only: on the HTTPS listener there is no handshake to answer in).
//
// The http.Servers also time connections out: a request's headers must arrive within 30 seconds,
// a whole request and its answer may take 10 minutes (large file downloads, webhooks waiting 60
// seconds), and an idle keep-alive connection is closed after 2 minutes.

const (
	defaultMaxConnections = 4096
	healthReserve         = 16
	readHeaderTimeout     = 30 * time.Second
	requestTimeout        = 10 * time.Minute
	idleTimeout           = 2 * time.Minute
)

// overflowGrace is how long a connection over the limit has to send its request (a variable for
// tests).
var overflowGrace = 5 * time.Second

// connLimiter counts the open connections of a server's listeners.
type connLimiter struct {
	max  int64
	open atomic.Int64
}

// overLimitKey marks, in a request's context, a connection over the limit.
type overLimitKey struct{}

// overLimit reports whether the request came on a connection over the limit.
func overLimit(ctx context.Context) bool {
	b, _ := ctx.Value(overLimitKey{}).(bool)
	return b
}

// connContext is the http.Server's ConnContext: it marks the requests of connections over the
// limit.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if lc, ok := c.(*limitedConn); ok && lc.over {
		return context.WithValue(ctx, overLimitKey{}, true)
	}
	return ctx
}

// limitListener is a listener whose connections count against a connLimiter.
type limitListener struct {
	net.Listener
	lim *connLimiter
	tls bool // the HTTPS listener: a refused connection is closed without an answer
}

// Accept returns the next connection within the limits, refusing those beyond them.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		n := l.lim.open.Add(1)
		if n > l.lim.max+healthReserve {
			l.lim.open.Add(-1)
			go refuseConn(c, l.tls)
			continue
		}
		lc := &limitedConn{Conn: c, lim: l.lim, over: n > l.lim.max}
		if lc.over {
			lc.deadline = time.Now().Add(overflowGrace)
			_ = c.SetReadDeadline(lc.deadline)
		}
		return lc, nil
	}
}

// tooManyConnections is the message of the answer to a connection over the limit, whether the
// connection is refused outright (refusedAnswer) or its request is answered (guardHost).
const tooManyConnections = "The emulator has as many connections open as it allows (--max-connections). Retry later, or reuse connections."

// refusedAnswer is what a connection beyond every limit is told before it is closed, written on
// the socket before any HTTP server reads it (the message needs no JSON escaping).
var refusedAnswer = func() string {
	body := `{"error":{"code":"","message":"` + tooManyConnections + `"}}`
	return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n" +
		"Retry-After: 1\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}()

// refuseWait is how long a refused connection's request is waited for before the answer goes.
const refuseWait = 250 * time.Millisecond

// refuseConn answers a connection beyond every limit and closes it. The answer waits for the
// request to begin (or refuseWait): an answer that arrives before its client has sent anything
// can be taken by the client for a stray one on an idle connection and dropped, leaving it a
// transport error instead of a 503. The rest of the request is read (and dropped) for a moment
// after the answer, as closing a socket with unread data would reset it and could lose the answer
// on the way.
func refuseConn(c net.Conn, isTLS bool) {
	defer c.Close()
	if isTLS {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(refuseWait))
	var first [1]byte
	_, _ = c.Read(first[:])
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(refusedAnswer)); err != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

// limitedConn is a counted connection; closing it gives its place back.
type limitedConn struct {
	net.Conn
	lim      *connLimiter
	over     bool
	deadline time.Time // over the limit: reads end by then, whatever the server asks
	once     sync.Once
}

// SetReadDeadline keeps a connection over the limit to its grace period.
func (c *limitedConn) SetReadDeadline(t time.Time) error {
	if c.over && (t.IsZero() || t.After(c.deadline)) {
		t = c.deadline
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline keeps a connection over the limit to its grace period for reads.
func (c *limitedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *limitedConn) Close() error {
	c.once.Do(func() { c.lim.open.Add(-1) })
	return c.Conn.Close()
}
