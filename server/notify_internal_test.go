package server

import (
	"testing"

	"github.com/kvd/kvd/proto"
)

// notifyTestCtx runs commands directly on a worker of a server that is not
// serving (no subscribers, no tracking clients).
func notifyTestCtx(tb testing.TB, events string) (*Server, func(fn func(*Ctx), args [][]byte)) {
	cfg := DefaultConfig()
	cfg.Workers = 1
	if err := cfg.Set("notify-keyspace-events", events, false); err != nil {
		tb.Fatal(err)
	}
	s := New(cfg)
	tb.Cleanup(s.Close)
	w := s.eng.Worker(0)
	out := &proto.Writer{}
	x := &Ctx{}
	return s, func(fn func(*Ctx), args [][]byte) {
		out.Reset()
		*x = Ctx{Args: args, W: out, DB: s.eng.DB(w, 0), Worker: w, Srv: s}
		fn(x)
	}
}

func notifyArgs(args ...string) [][]byte {
	var av [][]byte
	for _, a := range args {
		av = append(av, []byte(a))
	}
	return av
}

// TestNotifyDisabledNoAlloc: with notify-keyspace-events "" (the default)
// the notification and modification calls added to the command paths
// allocate nothing. (Enabled with nobody subscribed they allocate nothing
// either, the channel name being built on the stack: BenchmarkNotifyOff
// shows it; it is not asserted here because publish's sync.Pool drops
// frames at random under -race.)
func TestNotifyDisabledNoAlloc(t *testing.T) {
	for _, events := range []string{""} {
		_, run := notifyTestCtx(t, events)
		run(cmdSet, notifyArgs("SET", "k", "v1"))
		run(cmdIncr, notifyArgs("INCR", "n"))
		run(func(x *Ctx) { hashSetGeneric(x, "hset") }, notifyArgs("HSET", "h", "f", "1"))
		for _, c := range []struct {
			name string
			fn   func(*Ctx)
			args []string
		}{
			{"SET", cmdSet, []string{"SET", "k", "v2"}},
			{"GET", cmdGet, []string{"GET", "k"}},
			{"GET miss", cmdGet, []string{"GET", "nosuch"}},
			{"INCR", cmdIncr, []string{"INCR", "n"}},
			{"HINCRBY", cmdHIncrBy, []string{"HINCRBY", "h", "f", "1"}},
			{"EXPIRE", func(x *Ctx) { expireGeneric(x, "expire", true, true) }, []string{"EXPIRE", "k", "100"}},
		} {
			args := notifyArgs(c.args...)
			if n := testing.AllocsPerRun(200, func() { run(c.fn, args) }); n != 0 {
				t.Errorf("notify-keyspace-events %q: %s: %v allocations per call", events, c.name, n)
			}
		}
	}
}

// BenchmarkNotifyOff measures SET and the bare notification call with
// notifications off (the default) and on without subscribers.
func BenchmarkNotifyOff(b *testing.B) {
	for _, events := range []string{"", "KEA"} {
		name := events
		if name == "" {
			name = "off"
		}
		b.Run("SET/"+name, func(b *testing.B) {
			_, run := notifyTestCtx(b, events)
			args := notifyArgs("SET", "k", "v")
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				run(cmdSet, args)
			}
		})
		b.Run("notify/"+name, func(b *testing.B) {
			s, _ := notifyTestCtx(b, events)
			x := &Ctx{Srv: s, DB: s.eng.DB(s.eng.Worker(0), 0)}
			key := []byte("key")
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				x.notify(NotifyString, "set", key)
			}
		})
	}
}
