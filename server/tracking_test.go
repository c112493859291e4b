package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

// ---- helpers: exact RESP frames ----

// trkConn is a raw connection read frame by frame, byte-exact.
type trkConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
	id string
}

func trkDial(t testing.TB, network, addr string) *trkConn {
	t.Helper()
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &trkConn{t: t, nc: nc, br: bufio.NewReader(nc)}
	id := c.do("CLIENT", "ID")
	c.id = strings.TrimSuffix(strings.TrimPrefix(id, ":"), "\r\n")
	return c
}

func trkNew(t testing.TB, s *servertest.Server) *trkConn { return trkDial(t, "tcp", s.Addr) }

func (c *trkConn) send(args ...string) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.nc.Write([]byte(b.String())); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next frame's exact bytes.
func (c *trkConn) read() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	s, err := redistest.ReadRaw(c.br)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return s
}

func (c *trkConn) do(args ...string) string {
	c.t.Helper()
	c.send(args...)
	return c.read()
}

// isPong reports whether a frame answers PING (also in RESP2 subscribed
// mode).
func isPong(f string) bool { return f == "+PONG\r\n" || f == "*2\r\n$4\r\npong\r\n$0\r\n\r\n" }

// sync sends PING and returns every frame that came before its answer:
// pushes already queued for the connection.
func (c *trkConn) sync() string {
	c.t.Helper()
	c.send("PING")
	var out strings.Builder
	for {
		f := c.read()
		if isPong(f) {
			return out.String()
		}
		out.WriteString(f)
	}
}

// expectNone checks that nothing was pushed to c.
func (c *trkConn) expectNone(what string) {
	c.t.Helper()
	if got := c.sync(); got != "" {
		c.t.Errorf("%s: unexpected push %q", what, got)
	}
}

// inv is the RESP3 invalidation push for keys.
func inv(keys ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, ">2\r\n$10\r\ninvalidate\r\n*%d\r\n", len(keys))
	for _, k := range keys {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(k), k)
	}
	return b.String()
}

// msg2 is the RESP2 Pub/Sub invalidation message for keys.
func msg2(keys ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*%d\r\n", len(keys))
	for _, k := range keys {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(k), k)
	}
	return b.String()
}

func resp3(c *trkConn) {
	c.t.Helper()
	if f := c.do("HELLO", "3"); !strings.HasPrefix(f, "%7\r\n") {
		c.t.Fatalf("HELLO 3 = %q", f)
	}
}

func trkExpect(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// ---- comparison with redis-server 7.0.15 ----

// trkStep is one step of a script run against kvd and Redis: the commands
// are sent together (a pipeline) on the named connection, then every frame
// up to the answer of a PING is recorded. "{id:x}" in an argument is the
// ID of connection x. A step with no commands only records pushes; close
// closes the connection and waits until the server has dropped it.
type trkStep struct {
	conn  string
	cmds  [][]string
	close bool
}

func trkStepf(conn string, cmds ...string) trkStep {
	s := trkStep{conn: conn}
	for _, c := range cmds {
		if c != "" {
			s.cmds = append(s.cmds, strings.Split(c, "|"))
		}
	}
	return s
}

// trkRun runs a script and returns its transcript, connection IDs replaced
// by names.
func trkRun(t *testing.T, network, addr string, script []trkStep) []string {
	conns := map[string]*trkConn{}
	ids := map[string]string{}
	// Connection IDs above 100, so that replacing them by names cannot
	// hit small counts.
	for i := 0; i < 100; i++ {
		nc, err := net.Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.Close()
	}
	ctl := trkDial(t, network, addr)
	var out []string
	for _, st := range script {
		c := conns[st.conn]
		if c == nil {
			c = trkDial(t, network, addr)
			conns[st.conn] = c
			ids[c.id] = st.conn
		}
		if st.close {
			c.nc.Close()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				if got := ctl.do("CLIENT", "LIST", "ID", c.id); got == "$0\r\n\r\n" || got == "=4\r\ntxt:\r\n" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("connection %s not dropped", st.conn)
				}
			}
			continue
		}
		var rec strings.Builder
		for _, args := range st.cmds {
			a := make([]string, len(args))
			for i, x := range args {
				for id, name := range ids {
					x = strings.ReplaceAll(x, "{id:"+name+"}", id)
				}
				a[i] = x
			}
			c.send(a...)
		}
		if len(st.cmds) > 0 {
			// The first reply before the PING, so that the PING is a
			// batch of its own (kvd flushes BCAST after each batch).
			rec.WriteString(c.read())
		}
		rec.WriteString(c.sync())
		s := rec.String()
		for id, name := range ids {
			s = strings.ReplaceAll(s, ":"+id+"\r\n", ":{id:"+name+"}\r\n")
		}
		out = append(out, st.conn+" "+fmt.Sprint(st.cmds)+" -> "+strconv.Quote(s))
	}
	return out
}

var trkScript = []trkStep{
	// RESP3, default mode.
	trkStepf("a", "HELLO|3", "CLIENT|TRACKING|on"),
	trkStepf("w", "SET|k|v0", "SET|j|v0"),
	trkStepf("a", "GET|k"),
	trkStepf("w", "SET|k|v1"),
	trkStepf("a"),
	trkStepf("a", "GET|k", "GET|j"),
	trkStepf("a", "MSET|k|1|j|2|x|3"), // own writes: after the reply, in key order
	trkStepf("a", "GET|k", "SET|k|2", "GET|k", "SET|k|3"),
	trkStepf("a", "MGET|k|j|x|y"),
	trkStepf("w", "DEL|y|x|j|k"),
	trkStepf("a"),
	trkStepf("a", "SELECT|1", "GET|k", "SELECT|0"),
	trkStepf("w", "SET|k|db0"), // the table ignores databases
	trkStepf("a"),
	trkStepf("a", "GET|k", "CLIENT|REPLY|OFF", "SET|k|1", "CLIENT|REPLY|ON"),
	trkStepf("a", "HSET|h|f|v", "HGET|h|f", "HSET|h|f|w", "LPUSH|l|a", "LRANGE|l|0|-1", "RPOP|l"),
	trkStepf("a", "CLIENT|TRACKINGINFO", "CLIENT|GETREDIR"),
	// NOLOOP.
	trkStepf("n", "HELLO|3", "CLIENT|TRACKING|on|noloop"),
	trkStepf("n", "GET|q", "SET|q|1", "GET|q"),
	trkStepf("w", "SET|q|2"),
	trkStepf("n"),
	// OPTIN / OPTOUT and CLIENT CACHING.
	trkStepf("o", "HELLO|3", "CLIENT|TRACKING|on|optin"),
	trkStepf("o", "GET|o1", "CLIENT|CACHING|yes", "GET|o2", "GET|o3", "CLIENT|CACHING|yes", "CLIENT|ID", "CLIENT|CACHING", "GET|o4",
		"CLIENT|CACHING|yes", "ECHO|x", "GET|o5", "CLIENT|CACHING|yes", "CLIENT|NOSUCH", "GET|o6", "CLIENT|CACHING|yes", "NOSUCH", "GET|o7",
		"CLIENT|CACHING|yes", "CLIENT|TRACKINGINFO"),
	trkStepf("w", "MSET|o1|x|o2|x|o3|x|o4|x|o5|x|o6|x|o7|x"),
	trkStepf("o", "GET|o1"),
	trkStepf("p", "HELLO|3", "CLIENT|TRACKING|on|optout", "CLIENT|CACHING|no", "GET|p1", "GET|p2", "CLIENT|CACHING|no", "CLIENT|TRACKINGINFO"),
	trkStepf("w", "MSET|p1|x|p2|x"),
	trkStepf("p"),
	// BCAST.
	trkStepf("b", "HELLO|3", "CLIENT|TRACKING|on|bcast|prefix|b|prefix|c"),
	trkStepf("w", "MSET|b2|1|b1|1|x|1|c1|1|b2|2"),
	trkStepf("b"),
	trkStepf("b", "SET|bself|1"),
	trkStepf("m", "HELLO|3", "CLIENT|TRACKING|on|bcast|noloop"),
	trkStepf("m", "SET|mine|1"),
	trkStepf("w", "SET|zz|1"),
	trkStepf("m"),
	trkStepf("b"),
	trkStepf("b", "CLIENT|TRACKINGINFO", "CLIENT|TRACKING|on|bcast|prefix|bx", "CLIENT|TRACKING|on|bcast|prefix|d", "CLIENT|TRACKINGINFO"),
	// RESP2 redirect to a Pub/Sub subscriber.
	trkStepf("r", "SUBSCRIBE|__redis__:invalidate"),
	trkStepf("t2", "CLIENT|TRACKING|on|redirect|{id:r}", "GET|rk", "CLIENT|GETREDIR"),
	trkStepf("w", "SET|rk|1"),
	trkStepf("r"),
	trkStepf("t3", "HELLO|3", "CLIENT|TRACKING|on|redirect|{id:r}", "GET|rk"),
	trkStepf("w", "SET|rk|1"),
	trkStepf("r"),
	trkStepf("t3"),
	// Redirect to a RESP2 client without subscriptions: nothing is sent.
	trkStepf("q2", "CLIENT|ID"),
	trkStepf("t4", "CLIENT|TRACKING|on|redirect|{id:q2}", "GET|qk"),
	trkStepf("w", "SET|qk|1"),
	trkStepf("q2"),
	// RESP3 redirect target.
	trkStepf("q3", "HELLO|3"),
	trkStepf("t5", "CLIENT|TRACKING|on|redirect|{id:q3}", "GET|q3k"),
	trkStepf("w", "SET|q3k|1"),
	trkStepf("q3"),
	// Broken redirect.
	trkStepf("gone", "CLIENT|ID"),
	trkStepf("br", "HELLO|3", "CLIENT|TRACKING|on|redirect|{id:gone}", "GET|bk1", "GET|bk2"),
	{conn: "gone", close: true},
	trkStepf("w", "SET|bk1|1"),
	trkStepf("br", "CLIENT|TRACKINGINFO", "CLIENT|GETREDIR", "SET|bk2|1"),
	// FLUSHALL / FLUSHDB: null invalidation to every tracking client.
	trkStepf("a", "GET|f1"),
	trkStepf("w", "FLUSHALL"),
	trkStepf("a"),
	trkStepf("r"),
	trkStepf("b"),
	trkStepf("n", "FLUSHDB"),
	trkStepf("a"),
	// Switching off, and errors.
	trkStepf("a", "CLIENT|TRACKING|off", "GET|k"),
	trkStepf("w", "SET|k|1"),
	trkStepf("a", "CLIENT|TRACKINGINFO", "CLIENT|GETREDIR", "CLIENT|CACHING|yes"),
	trkStepf("e", "CLIENT|TRACKING", "CLIENT|TRACKING|maybe", "CLIENT|TRACKING|on|redirect", "CLIENT|TRACKING|on|redirect|abc",
		"CLIENT|TRACKING|on|redirect|999999", "CLIENT|TRACKING|on|redirect|0", "CLIENT|TRACKING|on|redirect|{id:w}|redirect|{id:w}",
		"CLIENT|TRACKING|on|prefix|a", "CLIENT|TRACKING|on|bcast|optin", "CLIENT|TRACKING|on|optin|optout",
		"CLIENT|TRACKING|on|bcast|prefix|a|prefix|ab", "CLIENT|TRACKING|on|bcast|prefix|ab|prefix|a", "CLIENT|TRACKING|on|bcast|prefix|a|prefix|a",
		"CLIENT|TRACKING|on|foo", "CLIENT|TRACKING|off|foo", "CLIENT|TRACKING|off|prefix|a", "CLIENT|TRACKING|maybe|prefix|a",
		"CLIENT|CACHING", "CLIENT|CACHING|yes", "CLIENT|CACHING|maybe", "CLIENT|GETREDIR|x", "CLIENT|TRACKINGINFO|x"),
	// Redis 7.0 answers an error and +OK, and tracks, for an overlap found
	// after the first prefix.
	trkStepf("e", "CLIENT|TRACKING|on|bcast|prefix|a|prefix|b|prefix|bc", "CLIENT|TRACKINGINFO", "CLIENT|TRACKING|on|bcast|prefix|bcd",
		"CLIENT|TRACKING|on", "CLIENT|TRACKING|on|bcast", "CLIENT|TRACKINGINFO"),
	trkStepf("e2", "CLIENT|TRACKING|on|optin", "CLIENT|TRACKING|on|optout", "CLIENT|CACHING|no", "CLIENT|TRACKING|on|bcast", "CLIENT|TRACKING|on", "CLIENT|TRACKINGINFO"),
}

// TestTrackingCompareRedis runs one script on kvd (4 workers, so that
// MSET, MGET and DEL run as parallel parts) and on redis-server 7.0.15 and
// compares the byte-exact transcripts.
func TestTrackingCompareRedis(t *testing.T) {
	sock := redistest.Start(t)
	s := servertest.Start(t, servertest.Workers(4))
	want := trkRun(t, "unix", sock, trkScript)
	got := trkRun(t, "tcp", s.Addr, trkScript)
	if testing.Verbose() {
		for _, l := range got {
			t.Log(l)
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d:\n kvd:   %s\n redis: %s", i, got[i], want[i])
		}
	}
}

// ---- kvd-only tests ----

// TestTrackingResp3Frames checks the exact frames of default mode without
// a reference server.
func TestTrackingResp3Frames(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	a, w := trkNew(t, s), trkNew(t, s)
	resp3(a)
	trkExpect(t, "TRACKING on", a.do("CLIENT", "TRACKING", "on"), "+OK\r\n")
	w.do("SET", "k", "v")
	trkExpect(t, "GET", a.do("GET", "k"), "$1\r\nv\r\n")
	trkExpect(t, "SET by other", w.do("SET", "k", "v2"), "+OK\r\n")
	trkExpect(t, "push", a.read(), inv("k"))
	// Own write: reply first, then the push.
	a.do("GET", "k")
	trkExpect(t, "own SET reply", a.do("SET", "k", "v3"), "+OK\r\n")
	trkExpect(t, "own SET push", a.read(), inv("k"))
	// Invalidated once: a second write sends nothing.
	w.do("SET", "k", "v4")
	a.expectNone("second write")
	// Pipelined SET, GET: the push sits between the replies.
	a.do("GET", "k")
	a.send("SET", "k", "x")
	a.send("GET", "k")
	trkExpect(t, "pipeline", a.read()+a.read()+a.read(), "+OK\r\n"+inv("k")+"$1\r\nx\r\n")
}

// TestTrackingWorkersMGET reads keys spread over 4 workers with MGET (a
// split command) and checks that every later write is seen.
func TestTrackingWorkersMGET(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	a, w := trkNew(t, s), trkNew(t, s)
	resp3(a)
	a.do("CLIENT", "TRACKING", "on")
	keys := make([]string, 32)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	a.do(append([]string{"MGET"}, keys...)...)
	for _, k := range keys {
		w.do("SET", k, "1")
		trkExpect(t, "push for "+k, a.read(), inv(k))
	}
	// EXISTS is read-only too, and DEL over several workers invalidates
	// in key order.
	a.do(append([]string{"EXISTS"}, keys[:8]...)...)
	w.do(append([]string{"DEL"}, keys[:8]...)...)
	var got, want strings.Builder
	for _, k := range keys[:8] {
		got.WriteString(a.read())
		want.WriteString(inv(k))
	}
	trkExpect(t, "DEL pushes", got.String(), want.String())
	a.expectNone("after DEL")
}

// TestTrackingExpiry: an expired key invalidates, lazily and by the active
// cycle, with an injected clock.
func TestTrackingExpiry(t *testing.T) {
	var now atomic.Int64
	now.Store(1_700_000_000_000)
	s := servertest.Start(t, servertest.Clock(now.Load))
	a, w := trkNew(t, s), trkNew(t, s)
	resp3(a)
	a.do("CLIENT", "TRACKING", "on")
	w.do("SET", "e1", "v", "PX", "100")
	w.do("SET", "e2", "v", "PX", "100")
	a.do("GET", "e1")
	a.do("GET", "e2")
	now.Add(200)
	trkExpect(t, "lazy expiry", w.do("GET", "e1"), "$-1\r\n")
	// e2 is reclaimed by the active expiry cycle (e1 may be too, first).
	got := map[string]bool{a.read(): true, a.read(): true}
	if !got[inv("e1")] || !got[inv("e2")] {
		t.Errorf("expiry pushes = %v", got)
	}
}

// TestTrackingTableLimit: over tracking-table-max-keys, keys are evicted
// from the table and invalidated.
func TestTrackingTableLimit(t *testing.T) {
	s := servertest.Start(t)
	a, w := trkNew(t, s), trkNew(t, s)
	resp3(a)
	w.do("CONFIG", "SET", "tracking-table-max-keys", "3")
	a.do("CLIENT", "TRACKING", "on")
	var pushes strings.Builder
	for i := 0; i < 10; i++ {
		trkExpect(t, "GET", a.do("GET", "lim:"+strconv.Itoa(i)), "_\r\n")
		pushes.WriteString(a.sync()) // evictions follow the reply
	}
	evicted := map[string]bool{}
	for _, f := range strings.SplitAfter(pushes.String(), "invalidate\r\n*1\r\n") {
		if i := strings.Index(f, "lim:"); i >= 0 {
			k := f[i : i+5]
			if evicted[k] {
				t.Errorf("%s evicted twice", k)
			}
			evicted[k] = true
		}
	}
	if len(evicted) != 7 {
		t.Errorf("evicted %d keys, want 7: %v", len(evicted), evicted)
	}
	if got := w.do("INFO", "stats"); !strings.Contains(got, "tracking_total_keys:3\r\n") || !strings.Contains(got, "tracking_total_items:3\r\n") {
		t.Errorf("INFO stats after eviction: %q", got)
	}
	// The keys still tracked are exactly the others.
	for i := 0; i < 10; i++ {
		k := "lim:" + strconv.Itoa(i)
		w.do("SET", k, "1")
		if f := a.sync(); (f == "") != evicted[k] {
			t.Errorf("write to %s after eviction (evicted %v): %q", k, evicted[k], f)
		}
	}
}

// TestTrackingInfoClientList: INFO fields and CLIENT LIST flags t, R, B.
func TestTrackingInfoClientList(t *testing.T) {
	s := servertest.Start(t)
	a, b, w := trkNew(t, s), trkNew(t, s), trkNew(t, s)
	gone := trkNew(t, s)
	resp3(a)
	a.do("CLIENT", "TRACKING", "on", "redirect", gone.id)
	b.do("CLIENT", "TRACKING", "on", "bcast", "prefix", "x", "prefix", "y")
	a.do("MGET", "k1", "k2")
	info := w.do("INFO")
	for _, l := range []string{"tracking_clients:2\r\n", "tracking_total_keys:2\r\n", "tracking_total_items:2\r\n", "tracking_total_prefixes:2\r\n"} {
		if !strings.Contains(info, l) {
			t.Errorf("INFO lacks %q", strings.TrimSpace(l))
		}
	}
	list := func(c *trkConn) string {
		var out []string
		for _, f := range strings.Fields(w.do("CLIENT", "LIST", "ID", c.id)) {
			if strings.HasPrefix(f, "flags=") || strings.HasPrefix(f, "redir=") {
				out = append(out, f)
			}
		}
		return strings.Join(out, " ")
	}
	trkExpect(t, "CLIENT LIST a", list(a), "flags=t redir="+gone.id)
	trkExpect(t, "CLIENT LIST b", list(b), "flags=tB redir=0")
	trkExpect(t, "CLIENT LIST w", list(w), "flags=N redir=-1")
	gone.nc.Close()
	waitUntil(t, "redirect client gone", func() bool { return w.do("CLIENT", "LIST", "ID", gone.id) == "$0\r\n\r\n" })
	w.do("SET", "k1", "1")
	trkExpect(t, "redir broken push", a.read(), ">2\r\n$21\r\ntracking-redir-broken\r\n:"+gone.id+"\r\n")
	trkExpect(t, "CLIENT LIST a broken", list(a), "flags=tR redir="+gone.id)
	a.do("CLIENT", "TRACKING", "off")
	b.nc.Close()
	waitUntil(t, "tracking clients gone", func() bool {
		return strings.Contains(w.do("INFO"), "tracking_clients:0\r\n")
	})
	info = w.do("INFO")
	// k2 stays in the table (Redis forgets IDs lazily); the prefixes go.
	for _, l := range []string{"tracking_total_keys:1\r\n", "tracking_total_prefixes:0\r\n"} {
		if !strings.Contains(info, l) {
			t.Errorf("INFO lacks %q", strings.TrimSpace(l))
		}
	}
	// RESET turns tracking off.
	a.do("CLIENT", "TRACKING", "on")
	trkExpect(t, "RESET", a.do("RESET"), "+RESET\r\n")
	trkExpect(t, "TRACKINGINFO after RESET", a.do("CLIENT", "TRACKINGINFO"), "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n")
}

// TestTrackingGoRedis: a go-redis RESP2 Pub/Sub subscriber receives the
// invalidations of a client redirecting to it, as PayloadSlice; and a
// go-redis RESP3 client parses CLIENT TRACKINGINFO.
func TestTrackingGoRedis(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	ctx := context.Background()
	sub := s.Client(2).Subscribe(ctx, "__redis__:invalidate")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	w := trkNew(t, s)
	var subID string
	for _, l := range strings.Split(w.do("CLIENT", "LIST"), "\n") {
		if strings.Contains(l, " sub=1 ") {
			subID = strings.TrimPrefix(strings.Fields(l)[0], "id=")
		}
	}
	if subID == "" {
		t.Fatal("subscriber not found in CLIENT LIST")
	}
	a := trkNew(t, s)
	trkExpect(t, "TRACKING redirect", a.do("CLIENT", "TRACKING", "on", "REDIRECT", subID), "+OK\r\n")
	a.do("MGET", "g1", "g2", "g3")
	w.do("MSET", "g1", "1", "g2", "2")
	ch := sub.Channel()
	for _, k := range []string{"g1", "g2"} {
		select {
		case m := <-ch:
			if m.Channel != "__redis__:invalidate" || len(m.PayloadSlice) != 1 || m.PayloadSlice[0] != k {
				t.Errorf("message %+v, want %s", m, k)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no invalidation for %s", k)
		}
	}
	c3 := s.Client(3)
	if err := c3.Do(ctx, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:").Err(); err != nil {
		t.Fatal(err)
	}
	v, err := c3.Do(ctx, "CLIENT", "TRACKINGINFO").Result()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(map[interface{}]interface{})
	if !ok || fmt.Sprint(m["flags"]) != "[on bcast]" || m["redirect"] != int64(0) || fmt.Sprint(m["prefixes"]) != "[p:]" {
		t.Errorf("TRACKINGINFO = %#v", v)
	}
}

// TestTrackingConcurrent: writers and tracking readers at the same time
// (run with -race). Each reader remembers which keys it read and must get
// an invalidation for each of them once a writer wrote the key afterwards.
func TestTrackingConcurrent(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	const readers, writers, nkeys, rounds = 4, 3, 40, 300
	key := func(i int) string { return "c:" + strconv.Itoa(i) }
	type reader struct {
		c       *trkConn
		pending map[string]bool // read, not invalidated yet
	}
	rs := make([]*reader, readers)
	for i := range rs {
		c := trkNew(t, s)
		resp3(c)
		c.do("CLIENT", "TRACKING", "on")
		rs[i] = &reader{c: c, pending: map[string]bool{}}
	}
	// Invalidations arrive interleaved with replies: a reader reads frames
	// until the reply it waits for, recording pushes on the way.
	collect := func(r *reader, f string) {
		for _, part := range strings.Split(f, ">2\r\n$10\r\ninvalidate\r\n*1\r\n")[1:] {
			k := strings.Split(part, "\r\n")[1]
			delete(r.pending, k)
		}
	}
	readReply := func(r *reader) string {
		for {
			f := r.c.read()
			if strings.HasPrefix(f, ">") {
				collect(r, f)
				continue
			}
			return f
		}
	}
	var wg sync.WaitGroup
	var stop atomic.Bool
	for i := 0; i < writers; i++ {
		wc := trkNew(t, s)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n := i
			for !stop.Load() {
				n += 7
				if n%5 == 0 {
					wc.do("MSET", key(n%nkeys), "m", key((n+1)%nkeys), "m")
				} else {
					wc.do("SET", key(n%nkeys), strconv.Itoa(n))
				}
			}
		}(i)
	}
	var rwg sync.WaitGroup
	for i, r := range rs {
		rwg.Add(1)
		go func(i int, r *reader) {
			defer rwg.Done()
			for round := 0; round < rounds; round++ {
				k1, k2 := key((i*13+round)%nkeys), key((i*13+round*3+1)%nkeys)
				if round%2 == 0 {
					r.c.send("GET", k1)
					readReply(r)
					r.pending[k1] = true
				} else {
					r.c.send("MGET", k1, k2)
					readReply(r)
					r.pending[k1], r.pending[k2] = true, true
				}
			}
		}(i, r)
	}
	rwg.Wait()
	stop.Store(true)
	wg.Wait()
	// Now write every key once more: every key a reader still expects
	// must be invalidated.
	w := trkNew(t, s)
	for i := 0; i < nkeys; i++ {
		w.do("SET", key(i), "final")
	}
	for i, r := range rs {
		r.c.send("PING")
		for f := readReply(r); f != "+PONG\r\n"; f = readReply(r) {
			t.Fatalf("reader %d: unexpected reply %q", i, f)
		}
		if len(r.pending) > 0 {
			t.Errorf("reader %d: no invalidation for %v", i, r.pending)
		}
	}
	if got := w.do("INFO", "stats"); !strings.Contains(got, "tracking_total_keys:0\r\n") {
		t.Errorf("table not empty after writing every key: %q", got)
	}
}

// TestTrackingModes checks BCAST, NOLOOP, OPTIN, OPTOUT, FLUSHALL and the
// RESP2 redirect on kvd alone (TestTrackingCompareRedis covers the same
// against Redis when redis-server is installed).
func TestTrackingModes(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	w := trkNew(t, s)

	// BCAST with prefixes: one message per prefix, keys sorted.
	b := trkNew(t, s)
	resp3(b)
	trkExpect(t, "BCAST on", b.do("CLIENT", "TRACKING", "on", "bcast", "prefix", "b", "prefix", "c"), "+OK\r\n")
	w.do("MSET", "b2", "1", "b1", "1", "x", "1", "c1", "1", "b2", "2")
	w.do("PING") // the MSET's batch is flushed
	trkExpect(t, "BCAST pushes", b.sync(), inv("b1", "b2")+inv("c1"))
	trkExpect(t, "BCAST own write", b.do("SET", "bself", "1")+b.read(), "+OK\r\n"+inv("bself"))

	// BCAST NOLOOP: the client's own writes are left out.
	m := trkNew(t, s)
	resp3(m)
	m.do("CLIENT", "TRACKING", "on", "bcast", "noloop")
	m.do("SET", "mine", "1")
	m.expectNone("BCAST NOLOOP own write")
	w.do("SET", "zz", "1")
	w.do("PING")
	trkExpect(t, "BCAST NOLOOP other write", m.sync(), inv("zz"))

	// Default NOLOOP.
	n := trkNew(t, s)
	resp3(n)
	n.do("CLIENT", "TRACKING", "on", "noloop")
	n.do("GET", "q")
	trkExpect(t, "NOLOOP own SET", n.do("SET", "q", "1"), "+OK\r\n")
	n.expectNone("NOLOOP own write")
	n.do("GET", "q")
	w.do("SET", "q", "2")
	trkExpect(t, "NOLOOP other write", n.read(), inv("q"))

	// OPTIN: only the command right after CLIENT CACHING YES (CLIENT
	// commands in between do not count).
	o := trkNew(t, s)
	resp3(o)
	o.do("CLIENT", "TRACKING", "on", "optin")
	o.do("GET", "o1")
	o.do("CLIENT", "CACHING", "yes")
	o.do("CLIENT", "ID")
	o.do("GET", "o2")
	o.do("GET", "o3")
	w.do("MSET", "o1", "x", "o2", "x", "o3", "x")
	trkExpect(t, "OPTIN", o.sync(), inv("o2"))

	// OPTOUT: everything but the command after CLIENT CACHING NO.
	p := trkNew(t, s)
	resp3(p)
	p.do("CLIENT", "TRACKING", "on", "optout")
	p.do("CLIENT", "CACHING", "no")
	p.do("GET", "p1")
	p.do("GET", "p2")
	w.do("MSET", "p1", "x", "p2", "x")
	trkExpect(t, "OPTOUT", p.sync(), inv("p2"))

	// RESP2 redirect to a subscriber of __redis__:invalidate.
	r := trkNew(t, s)
	r.do("SUBSCRIBE", "__redis__:invalidate")
	t2 := trkNew(t, s)
	t2.do("CLIENT", "TRACKING", "on", "redirect", r.id)
	t2.do("GET", "rk")
	w.do("SET", "rk", "1")
	trkExpect(t, "RESP2 redirect", r.read(), msg2("rk"))
	w.do("PING") // BCAST of the last write flushed
	for _, c := range []*trkConn{b, m, n, o, p, r} {
		c.sync()
	}

	// FLUSHALL: a null key list to every tracking client, the RESP2
	// tracker's null ($-1) on its redirect; the own invalidation after +OK.
	trkExpect(t, "own FLUSHALL", n.do("FLUSHALL")+n.read(), "+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n")
	for _, c := range []*trkConn{b, m, o, p} {
		trkExpect(t, "FLUSHALL push", c.read(), ">2\r\n$10\r\ninvalidate\r\n_\r\n")
	}
	trkExpect(t, "FLUSHALL message", r.read(), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n")
	if got := w.do("INFO", "stats"); !strings.Contains(got, "tracking_total_keys:0\r\n") {
		t.Errorf("table not empty after FLUSHALL")
	}
}

// TestTrackingErrors checks the error texts of CLIENT TRACKING and CLIENT
// CACHING (each case on a fresh connection).
func TestTrackingErrors(t *testing.T) {
	s := servertest.Start(t)
	other := trkNew(t, s)
	cases := []struct{ cmd, want string }{
		{"CLIENT TRACKING", "-ERR wrong number of arguments for 'client|tracking' command\r\n"},
		{"CLIENT TRACKING maybe", "-ERR syntax error\r\n"},
		{"CLIENT TRACKING on redirect", "-ERR syntax error\r\n"},
		{"CLIENT TRACKING on redirect abc", "-ERR value is not an integer or out of range\r\n"},
		{"CLIENT TRACKING on redirect 999999", "-ERR The client ID you want redirect to does not exist\r\n"},
		{"CLIENT TRACKING on redirect {ID} redirect {ID}", "-ERR A client can only redirect to a single other client\r\n"},
		{"CLIENT TRACKING on prefix a", "-ERR PREFIX option requires BCAST mode to be enabled\r\n"},
		{"CLIENT TRACKING on bcast optout", "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"},
		{"CLIENT TRACKING on optin optout", "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"},
		{"CLIENT TRACKING on bcast prefix a prefix ab", "-ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap.\r\n"},
		{"CLIENT TRACKING on bcast prefix a prefix b prefix bc", "-ERR Prefix 'b' overlaps with another provided prefix 'bc'. Prefixes for a single client must not overlap.\r\n+OK\r\n"},
		{"CLIENT TRACKING on bcast prefix a;CLIENT TRACKING on bcast prefix ab", "+OK\r\n-ERR Prefix 'ab' overlaps with an existing prefix 'a'. Prefixes for a single client must not overlap.\r\n"},
		{"CLIENT TRACKING on bcast;CLIENT TRACKING on", "+OK\r\n-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"},
		{"CLIENT TRACKING on optin;CLIENT TRACKING on optout", "+OK\r\n-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"},
		{"CLIENT TRACKING on foo", "-ERR syntax error\r\n"},
		{"CLIENT TRACKING off prefix a", "+OK\r\n"},
		{"CLIENT CACHING yes", "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n"},
		{"CLIENT TRACKING on;CLIENT CACHING yes", "+OK\r\n-ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.\r\n"},
		{"CLIENT TRACKING on optin;CLIENT CACHING no", "+OK\r\n-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"},
		{"CLIENT TRACKING on optin;CLIENT CACHING maybe", "+OK\r\n-ERR syntax error\r\n"},
		{"CLIENT GETREDIR", ":-1\r\n"},
		{"CLIENT TRACKING on redirect {ID};CLIENT GETREDIR", "+OK\r\n:{ID}\r\n"},
	}
	for _, tc := range cases {
		c := trkNew(t, s)
		var got strings.Builder
		for _, cmd := range strings.Split(strings.ReplaceAll(tc.cmd, "{ID}", other.id), ";") {
			c.send(strings.Fields(cmd)...)
			got.WriteString(c.read())
		}
		got.WriteString(c.sync())
		trkExpect(t, tc.cmd, got.String(), strings.ReplaceAll(tc.want, "{ID}", other.id))
	}
}
