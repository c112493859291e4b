package server

import (
	"strconv"
	"sync"
	"time"
)

// slowlog keeps the last slowlog-max-len commands slower than
// slowlog-log-slower-than microseconds, newest first.
type slowlog struct {
	mu      sync.Mutex // guards entries, nextID
	entries []slowEntry
	nextID  int64
}

type slowEntry struct {
	id     int64
	when   int64 // Unix seconds
	micros int64
	args   []string
	addr   string
	name   string
}

// Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.
const (
	slowMaxArgc   = 32
	slowMaxString = 128
)

func (l *slowlog) init(*Config) {}

func (l *slowlog) maybeAdd(s *Server, cmd *Command, us int64, r *request) {
	limit := s.cfg.SlowlogSlower.Load()
	if limit < 0 || us < limit || r == nil {
		return
	}
	e := slowEntry{when: time.Now().Unix(), micros: us}
	args := r.args
	n := min(len(args), slowMaxArgc)
	for i := 0; i < n; i++ {
		if i == slowMaxArgc-1 && len(args) > slowMaxArgc {
			e.args = append(e.args, "... ("+strconv.Itoa(len(args)-slowMaxArgc+1)+" more arguments)")
			break
		}
		a := args[i]
		if len(a) > slowMaxString {
			e.args = append(e.args, string(a[:slowMaxString])+"... ("+strconv.Itoa(len(a)-slowMaxString)+" more bytes)")
		} else {
			e.args = append(e.args, string(a))
		}
	}
	e.addr = r.c.nc.RemoteAddr().String()
	r.c.mu.Lock()
	e.name = r.c.name
	r.c.mu.Unlock()
	max := int(s.cfg.SlowlogMaxLen.Load())
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append([]slowEntry{e}, l.entries...)
	if len(l.entries) > max {
		l.entries = l.entries[:max]
	}
}

// get returns up to n newest entries (n < 0: all).
func (l *slowlog) get(n int) []slowEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	return append([]slowEntry(nil), l.entries[:n]...)
}

func (l *slowlog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

func (l *slowlog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}

// latencyMonitor records latency spikes per event above
// latency-monitor-threshold milliseconds (LATENCY LATEST/HISTORY/RESET).
type latencyMonitor struct {
	mu     sync.Mutex // guards events
	events map[string]*latencyEvent
}

// latencyHistory is Redis's LATENCY_TS_LEN.
const latencyHistory = 160

type latencySample struct {
	when    int64 // Unix seconds
	latency int64 // milliseconds
}

type latencyEvent struct {
	samples []latencySample // oldest first, at most latencyHistory
	max     int64
}

func (m *latencyMonitor) init() { m.events = make(map[string]*latencyEvent) }

func (m *latencyMonitor) maybeAdd(cfg *Config, cmd *Command, d time.Duration) {
	th := cfg.LatencyThreshold.Load()
	if th <= 0 {
		return
	}
	ms := d.Milliseconds()
	if ms < th {
		return
	}
	event := "command"
	if cmd.Flags&Fast != 0 {
		event = "fast-command"
	}
	m.add(event, ms)
}

// add records a sample; samples in the same second keep the maximum.
func (m *latencyMonitor) add(event string, ms int64) {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	ev := m.events[event]
	if ev == nil {
		ev = &latencyEvent{}
		m.events[event] = ev
	}
	if ms > ev.max {
		ev.max = ms
	}
	if n := len(ev.samples); n > 0 && ev.samples[n-1].when == now {
		if ms > ev.samples[n-1].latency {
			ev.samples[n-1].latency = ms
		}
		return
	}
	ev.samples = append(ev.samples, latencySample{when: now, latency: ms})
	if len(ev.samples) > latencyHistory {
		ev.samples = ev.samples[1:]
	}
}
