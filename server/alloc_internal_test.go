package server

import (
	"io"
	"net"
	"time"
)

// Test hook for alloc_test.go: drive one connection's whole request path
// (parse, dispatch, hand-off to the workers, replies, write) in-process,
// against a net.Conn that keeps what is written and reads nothing.

type harnessConn struct{ out []byte }

var harnessAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}

func (h *harnessConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (h *harnessConn) Write(p []byte) (int, error)      { h.out = append(h.out, p...); return len(p), nil }
func (h *harnessConn) Close() error                     { return nil }
func (h *harnessConn) LocalAddr() net.Addr              { return harnessAddr }
func (h *harnessConn) RemoteAddr() net.Addr             { return harnessAddr }
func (h *harnessConn) SetDeadline(time.Time) error      { return nil }
func (h *harnessConn) SetReadDeadline(time.Time) error  { return nil }
func (h *harnessConn) SetWriteDeadline(time.Time) error { return nil }

// ConnHarness is one connection of a server that is not listening.
type ConnHarness struct {
	c  *Conn
	nc *harnessConn
}

// NewConnHarness starts s's workers (without the active-expiry ticker) and
// opens an in-process connection. Close s when done.
func NewConnHarness(s *Server) *ConnHarness {
	s.eng.Start(0)
	nc := &harnessConn{}
	return &ConnHarness{c: s.newConn(nc), nc: nc}
}

// Run processes every complete command of in, as the connection's IO
// goroutine does after a read, and returns the bytes written in reply.
// The result is valid until the next Run.
func (h *ConnHarness) Run(in []byte) []byte {
	h.nc.out = h.nc.out[:0]
	h.c.rd.Feed(in)
	h.c.process()
	return h.nc.out
}
