// Package servertest starts in-process kvd servers for tests: on
// 127.0.0.1:0, ready before Start returns, closed by t.Cleanup.
//
// It owns nothing but test plumbing and must not be imported by non-test
// code.
package servertest

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/redistest"
)

// Server is a running test server.
type Server struct {
	*server.Server
	Addr string
	t    testing.TB
}

// Start runs a server with default config modified by opts.
func Start(t testing.TB, opts ...func(*server.Config)) *Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Logger = nil
	for _, o := range opts {
		o(cfg)
	}
	srv := server.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go srv.Serve(ln)
	ts := &Server{Server: srv, Addr: ln.Addr().String(), t: t}
	// Ready: answer a PING before returning.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ts.Addr, time.Second)
		if err == nil {
			c.Write([]byte("PING\r\n"))
			c.SetReadDeadline(time.Now().Add(time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server at %s not ready: %v", ts.Addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The probe connection is closed, but the server drops it on its own
	// goroutine: wait until it is gone, so that a test starts with no
	// client but its own (CLIENT LIST, CLIENT KILL TYPE normal ...).
	for srv.NumClients() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("server at %s still holds %d clients after the ready probe", ts.Addr, srv.NumClients())
		}
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(srv.Close)
	return ts
}

// Workers sets the worker count.
func Workers(n int) func(*server.Config) {
	return func(c *server.Config) {
		if err := c.Set("workers", strconv.Itoa(n), false); err != nil {
			panic(err)
		}
	}
}

// Clock injects a clock (Unix milliseconds) into the keyspace, so expiry
// tests move time instead of sleeping.
func Clock(now func() int64) func(*server.Config) {
	return func(c *server.Config) { c.Clock = now }
}

// Client returns a go-redis client speaking RESP protocol 2 or 3.
func (s *Server) Client(protocol int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: protocol, DisableIndentity: true})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Raw is a raw RESP connection for byte-level tests.
type Raw struct {
	net.Conn
	R *bufio.Reader
	t testing.TB
}

// Raw dials a raw connection.
func (s *Server) Raw() *Raw {
	s.t.Helper()
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		s.t.Fatalf("dial: %v", err)
	}
	s.t.Cleanup(func() { c.Close() })
	return &Raw{Conn: c, R: bufio.NewReader(c), t: s.t}
}

// Send writes a command encoded as a RESP multibulk.
func (r *Raw) Send(args ...string) {
	var w proto.Writer
	w.Array(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
	r.Write(w.B)
}

// Do sends a command and returns its reply in the compact form ReadReply
// documents.
func (r *Raw) Do(args ...string) string {
	r.Send(args...)
	return r.ReadReply()
}

// ReadReply reads one RESP2/RESP3 reply and renders it compactly: simple
// strings and errors as their text with the type byte ("+OK", "-ERR x"),
// integers ":1", bulk strings "$text", nulls "(nil)", aggregates
// "*[a b]" ("%[k v]" for maps, "~[...]" sets, ">[...]" push).
func (r *Raw) ReadReply() string {
	r.t.Helper()
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := ReadReply(r.R)
	if err != nil {
		r.t.Fatalf("read reply: %v", err)
	}
	return s
}

// ReadReply reads one reply from br and renders it as Raw.ReadReply does.
func ReadReply(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", io.ErrUnexpectedEOF
	}
	switch line[0] {
	case '+', '-', ':', ',', '#', '(':
		return line, nil
	case '_':
		return "(nil)", nil
	case '$', '=':
		if line == "$-1" {
			return "(nil)", nil
		}
		n := 0
		for _, c := range line[1:] {
			n = n*10 + int(c-'0')
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return "", err
		}
		return "$" + string(buf[:n]), nil
	case '*', '%', '~', '>':
		if line == "*-1" {
			return "(nil)", nil
		}
		n := 0
		for _, c := range line[1:] {
			n = n*10 + int(c-'0')
		}
		if line[0] == '%' {
			n *= 2
		}
		parts := make([]string, 0, n)
		for i := 0; i < n; i++ {
			p, err := ReadReply(br)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return string(line[0]) + "[" + strings.Join(parts, " ") + "]", nil
	}
	return "", io.ErrUnexpectedEOF
}

// RequireTools reports whether tests needing outside programs must not skip
// (KVD_REQUIRE_TOOLS=1, set by CI).
func RequireTools() bool { return redistest.RequireTools() }
