package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// asyncOut queues pushes for a connection and writes them from its own
// goroutine, so that a slow client never blocks the pusher. The queue is
// bounded by the output buffer limit; a client over it is disconnected.
type asyncOut struct {
	c       *Conn
	started atomic.Bool
	mu      sync.Mutex // guards buf, closed
	buf     []byte
	closed  bool
	kick    chan struct{}
	done    chan struct{}
}

// start switches the connection to asynchronous writes.
func (a *asyncOut) start() {
	if a.started.Load() {
		return
	}
	a.kick = make(chan struct{}, 1)
	a.done = make(chan struct{})
	a.started.Store(true)
	go a.loop()
}

func (a *asyncOut) push(b []byte) bool {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return false
	}
	limit := a.c.srv.cfg.OutputBufferLimit.Load()
	if limit > 0 && int64(len(a.buf)+len(b)) > limit {
		a.closed = true
		a.mu.Unlock()
		a.c.srv.log.Warn("closing client over its output buffer limit", "id", a.c.id)
		a.c.srv.stats.outputLimitKills.Add(1)
		a.c.killed.Store(true)
		a.c.nc.Close()
		return false
	}
	a.buf = append(a.buf, b...)
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
	return true
}

func (a *asyncOut) loop() {
	defer close(a.done)
	var out []byte
	for range a.kick {
		a.mu.Lock()
		out, a.buf = a.buf, out[:0]
		closed := a.closed
		a.mu.Unlock()
		if len(out) > 0 {
			if _, err := a.c.nc.Write(out); err != nil {
				a.c.nc.Close()
			}
		}
		if closed {
			return
		}
	}
}

func (a *asyncOut) stop() {
	if !a.started.Load() {
		return
	}
	a.mu.Lock()
	wasClosed := a.closed
	a.closed = true
	a.mu.Unlock()
	if !wasClosed {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
	select {
	case <-a.done:
	case <-time.After(time.Second):
	}
}

// pending is the number of bytes queued for the asynchronous writer.
func (a *asyncOut) pending() int {
	if !a.started.Load() {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.buf)
}
