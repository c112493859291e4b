package server_test

import (
	"bufio"
	"context"

	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// blkConn is a raw connection that reads replies as their exact bytes.
type blkConn struct {
	net.Conn
	r *bufio.Reader
}

func blkDial(t *testing.T, network, addr string) *blkConn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &blkConn{Conn: c, r: bufio.NewReader(c)}
}

func blkEncode(args ...string) []byte {
	var w proto.Writer
	w.Array(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
	return w.B
}

// send writes one command without reading its reply.
func (c *blkConn) send(t *testing.T, args ...string) {
	t.Helper()
	if _, err := c.Write(blkEncode(args...)); err != nil {
		t.Fatalf("write %q: %v", args, err)
	}
}

// reply reads one complete reply and returns its bytes.
func (c *blkConn) reply(t *testing.T) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	if err := blkReadValue(c.r, &b); err != nil {
		t.Fatalf("read reply: %v (so far %q)", err, b.String())
	}
	return b.String()
}

// do sends a command and returns its reply bytes.
func (c *blkConn) do(t *testing.T, args ...string) string {
	t.Helper()
	c.send(t, args...)
	return c.reply(t)
}

func blkReadValue(r *bufio.Reader, b *strings.Builder) error {
	line, err := r.ReadString('\n')
	b.WriteString(line)
	if err != nil {
		return err
	}
	if len(line) < 3 {
		return io.ErrUnexpectedEOF
	}
	n, _ := strconv.Atoi(strings.TrimRight(line[1:], "\r\n"))
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		b.Write(buf)
	case '*', '~', '>':
		for i := 0; i < n; i++ {
			if err := blkReadValue(r, b); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			if err := blkReadValue(r, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// blkWait polls cond until it holds (failing after a generous bound: it is
// a safety net, not a timing assertion).
func blkWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// blkWaitBlocked waits until n clients are blocked.
func blkWaitBlocked(t *testing.T, s *servertest.Server, n int64) {
	t.Helper()
	// The server's count: it includes a client once CLIENT LIST shows it
	// with flag b and CLIENT UNBLOCK can reach it (the engine counts the
	// waiter a moment earlier, when the worker registers it).
	blkWait(t, fmt.Sprintf("%d blocked clients", n), func() bool { return s.BlockedClients() == n })
}

// blkKeys returns n key names owned by n distinct workers, in order.
func blkKeys(s *servertest.Server, prefix string, n int) []string {
	e := s.Engine()
	var keys []string
	used := map[int]bool{}
	for i := 0; len(keys) < n; i++ {
		k := prefix + strconv.Itoa(i)
		if w := e.WorkerOf([]byte(k)); !used[w] {
			used[w] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// Exact replies (RESP2 then RESP3).
func blkArr(items ...string) string {
	var w proto.Writer
	w.Array(len(items))
	for _, it := range items {
		w.BulkString(it)
	}
	return string(w.B)
}

func blkBulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func TestBlockingServedInBlockingOrder(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	var clients []*blkConn
	for i := 0; i < 5; i++ {
		c := blkDial(t, "tcp", s.Addr)
		c.send(t, "BLPOP", "q", "0")
		blkWaitBlocked(t, s, int64(i+1))
		clients = append(clients, c)
	}
	p := blkDial(t, "tcp", s.Addr)
	if got := p.do(t, "RPUSH", "q", "a", "b", "c"); got != ":3\r\n" {
		t.Fatalf("RPUSH: %q", got)
	}
	for i, want := range []string{"a", "b", "c"} {
		if got := clients[i].reply(t); got != blkArr("q", want) {
			t.Errorf("client %d: %q, want %q", i, got, blkArr("q", want))
		}
	}
	blkWaitBlocked(t, s, 2)
	if got := p.do(t, "EXISTS", "q"); got != ":0\r\n" {
		t.Errorf("list left behind: %q", got)
	}
	// LPUSH x y makes [y x]: the head first.
	p.do(t, "LPUSH", "q", "x", "y")
	if got := clients[3].reply(t); got != blkArr("q", "y") {
		t.Errorf("client 3: %q", got)
	}
	if got := clients[4].reply(t); got != blkArr("q", "x") {
		t.Errorf("client 4: %q", got)
	}
	blkWaitBlocked(t, s, 0)
	if n := s.Engine().WaiterEntries(); n != 0 {
		t.Errorf("%d waiter entries left", n)
	}
}

func TestBlockingTimeoutReplies(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	c := blkDial(t, "tcp", s.Addr)
	cases := [][]string{
		{"BLPOP", "nokey", "0.1"},
		{"BRPOP", "nokey", "other", "0.05"},
		{"BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "0.01"},
		{"BRPOPLPUSH", "nokey", "dst", "0.01"},
		{"BLMPOP", "0.01", "2", "nokey", "other", "LEFT", "COUNT", "3"},
		{"BLPOP", "nokey", "0.0001"}, // rounded up to 1 ms, not 0 (forever)
	}
	for _, args := range cases {
		if got := c.do(t, args...); got != "*-1\r\n" {
			t.Errorf("RESP2 %q: %q, want *-1", args, got)
		}
	}
	if got := c.do(t, "HELLO", "3"); !strings.HasPrefix(got, "%") {
		t.Fatalf("HELLO 3: %q", got)
	}
	for _, args := range cases {
		if got := c.do(t, args...); got != "_\r\n" {
			t.Errorf("RESP3 %q: %q, want _", args, got)
		}
	}
	if got := c.do(t, "EXISTS", "dst"); got != ":0\r\n" {
		t.Errorf("dst created: %q", got)
	}
	blkWaitBlocked(t, s, 0)
	blkWait(t, "no waiter entries", func() bool { return s.Engine().WaiterEntries() == 0 })
}

func TestBlockingArgumentErrors(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	c := blkDial(t, "tcp", s.Addr)
	c.do(t, "SET", "s", "v")
	c.do(t, "RPUSH", "l", "a", "b", "c", "d")
	wrong := "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"BLPOP", "l", "abc"}, "-ERR timeout is not a float or out of range\r\n"},
		{[]string{"BLPOP", "l", " 1"}, "-ERR timeout is not a float or out of range\r\n"},
		{[]string{"BLPOP", "l", "nan"}, "-ERR timeout is not a float or out of range\r\n"},
		{[]string{"BLPOP", "l", ""}, "-ERR timeout is not a float or out of range\r\n"},
		{[]string{"BLPOP", "l", "-1"}, "-ERR timeout is negative\r\n"},
		{[]string{"BLPOP", "l", "inf"}, "-ERR timeout is negative\r\n"},
		{[]string{"BLPOP", "l", "1e30"}, "-ERR timeout is negative\r\n"},
		{[]string{"BLPOP", "s", "0"}, wrong},
		{[]string{"BLPOP", "nokey", "s", "0"}, wrong},
		{[]string{"BLPOP", "l", "s", "0"}, blkArr("l", "a")},
		{[]string{"BRPOP", "nokey", "l", "-0.0009"}, blkArr("l", "d")}, // rounds to 0
		{[]string{"BLPOP", "l"}, "-ERR wrong number of arguments for 'blpop' command\r\n"},
		{[]string{"BLMOVE", "l", "s", "LEFT", "RIGHT", "0"}, wrong},
		{[]string{"BLMOVE", "s", "l", "LEFT", "RIGHT", "0"}, wrong},
		{[]string{"BLMOVE", "l", "l2", "UP", "RIGHT", "abc"}, "-ERR syntax error\r\n"},
		{[]string{"BLMOVE", "l", "l2", "LEFT", "RIGHT", "abc"}, "-ERR timeout is not a float or out of range\r\n"},
		{[]string{"BRPOPLPUSH", "l", "l2", "x"}, "-ERR timeout is not a float or out of range\r\n"},
		{[]string{"BLMPOP", "abc", "1", "l", "LEFT"}, "-ERR timeout is not a float or out of range\r\n"},
		{[]string{"BLMPOP", "0", "abc", "l", "LEFT"}, "-ERR numkeys should be greater than 0\r\n"},
		{[]string{"BLMPOP", "0", "0", "l", "LEFT"}, "-ERR numkeys should be greater than 0\r\n"},
		{[]string{"BLMPOP", "0", "5", "l", "LEFT"}, "-ERR syntax error\r\n"},
		{[]string{"BLMPOP", "0", "1", "l", "UP"}, "-ERR syntax error\r\n"},
		{[]string{"BLMPOP", "abc", "1", "l", "UP"}, "-ERR syntax error\r\n"},
		{[]string{"BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"}, "-ERR count should be greater than 0\r\n"},
		{[]string{"BLMPOP", "0", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"}, "-ERR syntax error\r\n"},
		{[]string{"BLMPOP", "-1", "1", "l", "LEFT"}, "-ERR timeout is negative\r\n"},
		{[]string{"BLMPOP", "0.01", "2", "nokey", "s", "LEFT"}, wrong},
		{[]string{"BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "10"}, "*2\r\n" + blkBulk("l") + blkArr("c", "b")},
		{[]string{"EXISTS", "l"}, ":0\r\n"},
	}
	for _, tc := range cases {
		if got := c.do(t, tc.args...); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
		}
	}
	if n := s.Engine().BlockedClients(); n != 0 {
		t.Errorf("blocked_clients %d", n)
	}
}

// TestBlockingWakeAcrossWorkers: a client blocked on keys of different
// workers is woken by a push on any of them, once.
func TestBlockingWakeAcrossWorkers(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	keys := blkKeys(s, "k", 3)
	c := blkDial(t, "tcp", s.Addr)
	p := blkDial(t, "tcp", s.Addr)
	for i := range keys {
		c.send(t, "BRPOP", keys[0], keys[1], keys[2], "0")
		blkWaitBlocked(t, s, 1)
		p.do(t, "RPUSH", keys[i], "v1", "v2")
		if got := c.reply(t); got != blkArr(keys[i], "v2") {
			t.Fatalf("push on %s: %q", keys[i], got)
		}
		if got := p.do(t, "LRANGE", keys[i], "0", "-1"); got != blkArr("v1") {
			t.Fatalf("%s after: %q", keys[i], got)
		}
		p.do(t, "DEL", keys[i])
	}
	// Pushes on several workers at once serve the client exactly once.
	c.send(t, "BLPOP", keys[0], keys[1], keys[2], "0")
	blkWaitBlocked(t, s, 1)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc := blkDial(t, "tcp", s.Addr)
			pc.do(t, "RPUSH", k, "x")
		}()
	}
	wg.Wait()
	got := c.reply(t)
	left := 0
	for _, k := range keys {
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(p.do(t, "LLEN", k), ":")))
		left += n
		if got == blkArr(k, "x") && n != 0 {
			t.Errorf("served from %s but it still holds %d", k, n)
		}
	}
	if left != 2 {
		t.Errorf("%d elements left, want 2 (reply %q)", left, got)
	}
	blkWaitBlocked(t, s, 0)
	blkWait(t, "no waiter entries", func() bool { return s.Engine().WaiterEntries() == 0 })
}

// blkListValues reads a list straight from the keyspace; the caller holds
// every worker (inside Engine.Do).
func blkListValues(d shard.DB, key string) []string {
	o := d.Lookup([]byte(key))
	if o == nil {
		return nil
	}
	return o.Val.(*types.List).Values()
}

// TestBlockingBLMoveAcrossWorkers: producers push onto src while movers
// blocked in BLMOVE src dst move elements to dst on another worker. An
// observer holding every worker checks that no element is ever in both
// lists or in neither; at the end every element is in exactly one list and
// dst holds exactly what the movers were given.
func TestBlockingBLMoveAcrossWorkers(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	kk := blkKeys(s, "m", 2)
	src, dst := kk[0], kk[1]
	const producers, perProducer, movers = 4, 200, 6
	const total = producers * perProducer
	perMover := total / movers // the rest stays in src

	var ackMu sync.Mutex
	acked := map[string]bool{} // pushes that have replied
	var moved sync.Map         // element -> mover
	var wg sync.WaitGroup
	errc := make(chan error, producers+movers)
	for m := 0; m < movers; m++ {
		c := blkDial(t, "tcp", s.Addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perMover; i++ {
				dirs := [][2]string{{"LEFT", "RIGHT"}, {"RIGHT", "LEFT"}}[i%2]
				c.send(t, "BLMOVE", src, dst, dirs[0], dirs[1], "0")
				got := c.reply(t)
				if !strings.HasPrefix(got, "$") {
					errc <- fmt.Errorf("mover %d: %q", m, got)
					return
				}
				v := strings.Split(got, "\r\n")[1]
				if prev, dup := moved.LoadOrStore(v, m); dup {
					errc <- fmt.Errorf("%s moved twice (movers %v and %d)", v, prev, m)
					return
				}
			}
		}()
	}
	for p := 0; p < producers; p++ {
		c := blkDial(t, "tcp", s.Addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				v := fmt.Sprintf("p%d-%d", p, i)
				if got := c.do(t, "RPUSH", src, v); !strings.HasPrefix(got, ":") {
					errc <- fmt.Errorf("RPUSH: %q", got)
					return
				}
				ackMu.Lock()
				acked[v] = true
				ackMu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	e := s.Engine()
	check := func() {
		ackMu.Lock()
		before := make([]string, 0, len(acked))
		for v := range acked {
			before = append(before, v)
		}
		ackMu.Unlock()
		var sv, dv []string
		e.Do(func(w *shard.Worker) {
			d := e.DB(w, 0)
			sv, dv = blkListValues(d, src), blkListValues(d, dst)
		})
		seen := map[string]int{}
		for _, v := range sv {
			seen[v]++
		}
		for _, v := range dv {
			seen[v]++
		}
		for v, n := range seen {
			if n != 1 {
				t.Fatalf("%s seen %d times (src %d, dst %d elements)", v, n, len(sv), len(dv))
			}
		}
		for _, v := range before {
			if seen[v] == 0 {
				t.Fatalf("acknowledged %s is in neither list", v)
			}
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		case err := <-errc:
			t.Fatal(err)
		default:
			check()
		}
	}
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	check()
	var sv, dv []string
	e.Do(func(w *shard.Worker) {
		d := e.DB(w, 0)
		sv, dv = blkListValues(d, src), blkListValues(d, dst)
	})
	if len(sv)+len(dv) != total || len(dv) != perMover*movers {
		t.Fatalf("src %d + dst %d, want %d with dst %d", len(sv), len(dv), total, perMover*movers)
	}
	for _, v := range dv {
		if _, ok := moved.Load(v); !ok {
			t.Fatalf("%s in dst but no mover got it", v)
		}
	}
	blkWaitBlocked(t, s, 0)
	blkWait(t, "no waiter entries", func() bool { return e.WaiterEntries() == 0 })
}

// TestBlockingBLMoveServed: the blocked forms reply like LMOVE, feed a
// client blocked on the destination, and report WRONGTYPE for a
// destination of another type without moving anything.
func TestBlockingBLMoveServed(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	kk := blkKeys(s, "x", 3)
	a, b, d := kk[0], kk[1], kk[2]
	p := blkDial(t, "tcp", s.Addr)
	mover := blkDial(t, "tcp", s.Addr)
	popper := blkDial(t, "tcp", s.Addr)

	// mover waits on a (-> b, another worker); popper waits on b.
	popper.send(t, "BLPOP", b, "0")
	blkWaitBlocked(t, s, 1)
	mover.send(t, "BRPOPLPUSH", a, b, "0")
	blkWaitBlocked(t, s, 2)
	p.do(t, "RPUSH", a, "1", "2")
	if got := mover.reply(t); got != blkBulk("2") {
		t.Errorf("BRPOPLPUSH: %q", got)
	}
	if got := popper.reply(t); got != blkArr(b, "2") {
		t.Errorf("chained BLPOP: %q", got)
	}
	if got := p.do(t, "LRANGE", a, "0", "-1"); got != blkArr("1") {
		t.Errorf("a: %q", got)
	}
	// Rotation on the same key.
	p.do(t, "DEL", a)
	mover.send(t, "BLMOVE", a, a, "LEFT", "RIGHT", "0")
	blkWaitBlocked(t, s, 1)
	p.do(t, "RPUSH", a, "x", "y")
	if got := mover.reply(t); got != blkBulk("x") {
		t.Errorf("rotation: %q", got)
	}
	if got := p.do(t, "LRANGE", a, "0", "-1"); got != blkArr("y", "x") {
		t.Errorf("rotated: %q", got)
	}
	// WRONGTYPE destination when served: the element stays.
	p.do(t, "DEL", a)
	p.do(t, "SET", d, "str")
	mover.send(t, "BLMOVE", a, d, "LEFT", "RIGHT", "0")
	blkWaitBlocked(t, s, 1)
	p.do(t, "RPUSH", a, "z")
	if got := mover.reply(t); got != "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" {
		t.Errorf("WRONGTYPE dst: %q", got)
	}
	if got := p.do(t, "LRANGE", a, "0", "-1"); got != blkArr("z") {
		t.Errorf("a after WRONGTYPE: %q", got)
	}
	// BLMPOP served with COUNT.
	p.do(t, "DEL", a)
	mover.send(t, "BLMPOP", "0", "2", b, a, "RIGHT", "COUNT", "2")
	blkWaitBlocked(t, s, 1)
	p.do(t, "RPUSH", a, "1", "2", "3")
	if got := mover.reply(t); got != "*2\r\n"+blkBulk(a)+blkArr("3", "2") {
		t.Errorf("BLMPOP: %q", got)
	}
	blkWaitBlocked(t, s, 0)
	blkWait(t, "no waiter entries", func() bool { return s.Engine().WaiterEntries() == 0 })
}

func TestBlockingClientUnblock(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	c := blkDial(t, "tcp", s.Addr)
	admin := blkDial(t, "tcp", s.Addr)
	id := strings.TrimSpace(strings.TrimPrefix(c.do(t, "CLIENT", "ID"), ":"))
	if got := admin.do(t, "CLIENT", "UNBLOCK", id); got != ":0\r\n" {
		t.Errorf("UNBLOCK of a client not blocked: %q", got)
	}
	for _, mode := range []string{"", "TIMEOUT", "ERROR"} {
		c.send(t, "BLPOP", "k1", "k2", "0")
		blkWaitBlocked(t, s, 1)
		if got := admin.do(t, "INFO", "clients"); !strings.Contains(got, "blocked_clients:1\r\n") {
			t.Errorf("INFO clients while blocked: %q", got)
		}
		if got := admin.do(t, "CLIENT", "LIST", "ID", id); !strings.Contains(got, " flags=b ") {
			t.Errorf("CLIENT LIST: %q", got)
		}
		args := []string{"CLIENT", "UNBLOCK", id}
		if mode != "" {
			args = append(args, mode)
		}
		if got := admin.do(t, args...); got != ":1\r\n" {
			t.Errorf("%q: %q", args, got)
		}
		want := "*-1\r\n"
		if mode == "ERROR" {
			want = "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
		}
		if got := c.reply(t); got != want {
			t.Errorf("%s: blocked client got %q, want %q", mode, got, want)
		}
		if got := admin.do(t, "CLIENT", "UNBLOCK", id); got != ":0\r\n" {
			t.Errorf("second UNBLOCK: %q", got)
		}
		if got := admin.do(t, "INFO", "clients"); !strings.Contains(got, "blocked_clients:0\r\n") {
			t.Errorf("INFO clients after: %q", got)
		}
	}
	if got := admin.do(t, "CLIENT", "UNBLOCK", id, "FOO"); got != "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n" {
		t.Errorf("bad reason: %q", got)
	}
	// The connection goes on normally.
	if got := c.do(t, "PING"); got != "+PONG\r\n" {
		t.Errorf("PING after: %q", got)
	}
	if got := admin.do(t, "INFO", "errorstats"); !strings.Contains(got, "errorstat_UNBLOCKED:count=1\r\n") {
		t.Errorf("errorstats: %q", got)
	}
	got := admin.do(t, "INFO", "commandstats")
	if i := strings.Index(got, "cmdstat_blpop:"); i < 0 || !strings.HasPrefix(got[i:], "cmdstat_blpop:calls=3,") ||
		!strings.HasSuffix(got[i:i+strings.Index(got[i:], "\r\n")], ",failed_calls=1") {
		t.Errorf("commandstats: %q", got)
	}
	blkWait(t, "no waiter entries", func() bool { return s.Engine().WaiterEntries() == 0 })
}

// TestBlockingDisconnect: clients that disconnect (or are killed) while
// blocked are released: no waiter, no goroutine left behind, and later
// pushes stay in the list.
func TestBlockingDisconnect(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	keys := blkKeys(s, "d", 3)
	p := blkDial(t, "tcp", s.Addr)
	p.do(t, "PING")
	runtime.GC()
	base := runtime.NumGoroutine()
	const n = 20
	var conns []*blkConn
	for i := 0; i < n; i++ {
		c := blkDial(t, "tcp", s.Addr)
		if i%2 == 0 {
			c.send(t, "BLPOP", keys[0], keys[1], keys[2], "0")
		} else {
			c.send(t, "BLMOVE", keys[0], keys[1], "LEFT", "LEFT", "0")
		}
		conns = append(conns, c)
	}
	blkWaitBlocked(t, s, n)
	if got := s.Engine().WaiterEntries(); got != n/2*3+n/2 {
		t.Errorf("%d waiter entries, want %d", got, n/2*3+n/2)
	}
	// One killed by CLIENT KILL, the others hang up.
	killed := blkDial(t, "tcp", s.Addr)
	id := strings.TrimSpace(strings.TrimPrefix(killed.do(t, "CLIENT", "ID"), ":"))
	killed.send(t, "BLPOP", keys[2], "0")
	blkWaitBlocked(t, s, n+1)
	if got := p.do(t, "CLIENT", "KILL", "ID", id); got != ":1\r\n" {
		t.Errorf("CLIENT KILL: %q", got)
	}
	for _, c := range conns {
		c.Close()
	}
	blkWaitBlocked(t, s, 0)
	blkWait(t, "no waiter entries", func() bool { return s.Engine().WaiterEntries() == 0 })
	blkWait(t, "connections gone", func() bool {
		return strings.Count(p.do(t, "CLIENT", "LIST"), "id=") == 1
	})

	p.do(t, "RPUSH", keys[0], "kept")
	if got := p.do(t, "LRANGE", keys[0], "0", "-1"); got != blkArr("kept") {
		t.Errorf("push after the waiters left: %q", got)
	}
	blkWait(t, fmt.Sprintf("goroutines back to %d", base), func() bool { return runtime.NumGoroutine() <= base })
}

// TestBlockingPipeline: commands pipelined after a blocking one wait until
// it is served; those before it are answered at once; input sent while
// blocked is run afterwards.
func TestBlockingPipeline(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	c := blkDial(t, "tcp", s.Addr)
	p := blkDial(t, "tcp", s.Addr)
	var batch []byte
	batch = append(batch, blkEncode("SET", "before", "1")...)
	batch = append(batch, blkEncode("BLPOP", "q", "0")...)
	batch = append(batch, blkEncode("SET", "after", "1")...)
	batch = append(batch, blkEncode("LPOP", "q")...)
	if _, err := c.Write(batch); err != nil {
		t.Fatal(err)
	}
	if got := c.reply(t); got != "+OK\r\n" {
		t.Fatalf("SET before: %q", got)
	}
	blkWaitBlocked(t, s, 1)
	if got := p.do(t, "EXISTS", "before", "after"); got != ":1\r\n" {
		t.Errorf("while blocked: EXISTS before after = %q, want :1", got)
	}
	// Sent while blocked: a command split in two writes.
	enc := blkEncode("GET", "after")
	c.Write(enc[:5])
	if got := p.do(t, "CLIENT", "LIST"); !strings.Contains(got, "flags=b") {
		t.Errorf("CLIENT LIST: %q", got)
	}
	c.Write(enc[5:])
	p.do(t, "RPUSH", "q", "v1", "v2")
	for _, want := range []string{blkArr("q", "v1"), "+OK\r\n", blkBulk("v2"), blkBulk("1")} {
		if got := c.reply(t); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	// CLIENT REPLY OFF before a blocking command silences it.
	c.send(t, "CLIENT", "REPLY", "SKIP")
	c.send(t, "BLPOP", "q", "0.01")
	if got := c.do(t, "PING"); got != "+PONG\r\n" {
		t.Errorf("after a skipped BLPOP: %q", got)
	}
}

// TestBlockingMultiKeyDedup: a key named twice waits once and is served
// once.
func TestBlockingMultiKeyDedup(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	c := blkDial(t, "tcp", s.Addr)
	p := blkDial(t, "tcp", s.Addr)
	c.send(t, "BLPOP", "k", "k", "0")
	blkWaitBlocked(t, s, 1)
	if n := s.Engine().WaiterEntries(); n != 1 {
		t.Errorf("%d entries for BLPOP k k", n)
	}
	p.do(t, "RPUSH", "k", "a", "b")
	if got := c.reply(t); got != blkArr("k", "a") {
		t.Errorf("reply: %q", got)
	}
	if got := p.do(t, "LLEN", "k"); got != ":1\r\n" {
		t.Errorf("LLEN: %q", got)
	}
}

// TestBlockingOtherDatabase: a push in another database does not serve a
// client blocked on the same key name; MOVE into its database does.
func TestBlockingOtherDatabase(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	c := blkDial(t, "tcp", s.Addr)
	p := blkDial(t, "tcp", s.Addr)
	c.do(t, "SELECT", "1")
	c.send(t, "BLPOP", "k", "0")
	blkWaitBlocked(t, s, 1)
	p.do(t, "RPUSH", "k", "db0")
	if got := p.do(t, "LLEN", "k"); got != ":1\r\n" {
		t.Errorf("db0 list taken: %q", got)
	}
	if got := p.do(t, "MOVE", "k", "1"); got != ":1\r\n" {
		t.Fatalf("MOVE: %q", got)
	}
	if got := c.reply(t); got != blkArr("k", "db0") {
		t.Errorf("served after MOVE: %q", got)
	}
}

// TestBlockingResp3: served replies in RESP3 are the same arrays.
func TestBlockingResp3(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	c := blkDial(t, "tcp", s.Addr)
	p := blkDial(t, "tcp", s.Addr)
	c.do(t, "HELLO", "3")
	c.send(t, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2")
	blkWaitBlocked(t, s, 1)
	p.do(t, "RPUSH", "k", "a")
	if got := c.reply(t); got != "*2\r\n"+blkBulk("k")+blkArr("a") {
		t.Errorf("BLMPOP RESP3: %q", got)
	}
	c.send(t, "BRPOP", "k", "0")
	blkWaitBlocked(t, s, 1)
	p.do(t, "RPUSH", "k", "b")
	if got := c.reply(t); got != blkArr("k", "b") {
		t.Errorf("BRPOP RESP3: %q", got)
	}
}

// TestBlockingGoRedis drives the commands through go-redis (RESP2 and 3).
func TestBlockingGoRedis(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	ctx := context.Background()
	for _, protocol := range []int{2, 3} {
		c := s.Client(protocol)
		p := s.Client(protocol)
		res := make(chan []string, 1)
		go func() {
			v, err := c.BLPop(ctx, 0, "gq1", "gq2").Result()
			if err != nil {
				v = []string{err.Error()}
			}
			res <- v
		}()
		blkWaitBlocked(t, s, 1)
		p.RPush(ctx, "gq2", "v")
		if v := <-res; len(v) != 2 || v[0] != "gq2" || v[1] != "v" {
			t.Errorf("RESP%d BLPOP: %q", protocol, v)
		}
		// (go-redis rounds timeouts below a second up to 1 s: send them raw.)
		if err := c.Do(ctx, "BLPOP", "gq1", "0.01").Err(); err != redis.Nil {
			t.Errorf("RESP%d BLPOP timeout: %v", protocol, err)
		}
		if err := c.Do(ctx, "BLMOVE", "gq1", "gq3", "LEFT", "RIGHT", "0.01").Err(); err != redis.Nil {
			t.Errorf("RESP%d BLMOVE timeout: %v", protocol, err)
		}
		p.RPush(ctx, "gq1", "m")
		if v, err := c.BLMove(ctx, "gq1", "gq3", "LEFT", "RIGHT", 0).Result(); err != nil || v != "m" {
			t.Errorf("RESP%d BLMOVE: %q %v", protocol, v, err)
		}
	}
}

// TestBlockingMatchesRedis replays scenarios against redis-server 7.0.15
// and kvd and compares the exact replies.
func TestBlockingMatchesRedis(t *testing.T) {
	sock := redistest.Start(t)
	rc := blkDial(t, "unix", sock)
	rc2 := blkDial(t, "unix", sock)
	s := servertest.Start(t, servertest.Workers(4))
	kc := blkDial(t, "tcp", s.Addr)
	kc2 := blkDial(t, "tcp", s.Addr)

	blockedRedis := func() {
		blkWait(t, "redis blocked client", func() bool {
			return strings.Contains(rc2.do(t, "INFO", "clients"), "blocked_clients:1\r\n")
		})
	}
	// Steps: "run" on the first connection; "block" sends on the first
	// connection and waits until it is blocked; "other" runs on the second
	// connection; "reply" reads the first connection's pending reply.
	type step struct {
		mode string
		args []string
	}
	run := func(a ...string) step { return step{"run", a} }
	block := func(a ...string) step { return step{"block", a} }
	other := func(a ...string) step { return step{"other", a} }
	reply := step{"reply", nil}
	hello := func(a ...string) step { return step{"hello", a} } // run both, compare nothing (ids differ)
	scenarios := [][]step{
		{run("RPUSH", "l", "a", "b"), run("BLPOP", "nokey", "l", "0"), run("BRPOP", "l", "0"), run("EXISTS", "l")},
		{block("BLPOP", "a", "b", "0"), other("LPUSH", "b", "1", "2"), reply, run("LRANGE", "b", "0", "-1")},
		{block("BLMOVE", "s", "d", "RIGHT", "LEFT", "0"), other("RPUSH", "s", "1", "2"), reply, run("LRANGE", "d", "0", "-1"), run("LRANGE", "s", "0", "-1")},
		{run("SET", "d", "x"), block("BLMOVE", "s", "d", "LEFT", "LEFT", "0"), other("RPUSH", "s", "1"), reply, run("LLEN", "s")},
		{block("BLMPOP", "0", "2", "m1", "m2", "LEFT", "COUNT", "5"), other("RPUSH", "m2", "1", "2", "3"), reply, run("EXISTS", "m2")},
		{block("BRPOPLPUSH", "s", "s", "0"), other("RPUSH", "s", "1", "2"), reply, run("LRANGE", "s", "0", "-1")},
		{block("BLPOP", "s", "0"), other("SET", "s", "x"), other("DEL", "s"), other("RPUSH", "s", "v"), reply},
		{hello("HELLO", "3"), run("BLPOP", "z", "0.01"), run("BLMOVE", "z", "y", "LEFT", "LEFT", "0.01"), run("BLMPOP", "0.01", "1", "z", "RIGHT"), run("RPUSH", "z", "1"), run("BLPOP", "z", "0"), hello("HELLO", "2")},
		{block("BZPOPMIN", "z1", "z2", "0"), other("ZADD", "z2", "1.5", "a", "2", "b"), reply, run("ZRANGE", "z2", "0", "-1", "WITHSCORES")},
		{block("BZMPOP", "0", "2", "z1", "z2", "MAX", "COUNT", "5"), other("ZADD", "z1", "1", "a", "2", "b"), reply, run("EXISTS", "z1")},
		{hello("HELLO", "3"), block("BZPOPMAX", "z1", "0"), other("ZADD", "z1", "1", "a", "2.5", "b"), reply, run("BZMPOP", "0.01", "1", "nz", "MIN"), run("BZPOPMIN", "nz", "0.01"), run("BZMPOP", "0", "1", "z1", "MIN", "COUNT", "3"), hello("HELLO", "2")},
		{block("BZPOPMIN", "k", "0"), other("RPUSH", "k", "x"), other("DEL", "k"), other("ZADD", "k", "1", "m"), reply},
		{run("SET", "s", "v"), run("ZADD", "zz", "1", "a", "2", "b", "3", "c"), run("BZPOPMAX", "zz", "s", "0"), run("BZMPOP", "0", "2", "zz", "s", "MIN", "COUNT", "10"), run("BZPOPMIN", "nokey", "s", "0"), run("BZMPOP", "0", "2", "nokey", "s", "MIN")},
		{run("BZPOPMIN", "z", "abc"), run("BZPOPMIN", "z", "-1"), run("BZMPOP", "0", "0", "z", "MIN"), run("BZMPOP", "0", "2", "z", "MIN"), run("BZMPOP", "abc", "1", "z", "MIN"), run("BZMPOP", "0", "1", "z", "MIN", "COUNT", "-1"), run("BZMPOP", "0", "1", "z", "MIN", "COUNT", "1", "x"), run("BZMPOP", "0", "1", "z", "MAXX"), run("BZMPOP", "0.01", "1", "z", "MIN")},
		{block("BLPOP", "dst", "0"), other("RPUSH", "src", "a", "b"), other("RENAME", "src", "dst"), reply, run("LRANGE", "dst", "0", "-1")},
		{block("BZPOPMAX", "dst", "0"), other("ZADD", "src", "1", "a", "2", "b"), other("COPY", "src", "dst"), reply, run("ZCARD", "src")},
		{run("SELECT", "1"), block("BLPOP", "k", "0"), other("RPUSH", "k", "x"), other("SWAPDB", "0", "1"), reply, run("EXISTS", "k"), run("SELECT", "0")},
		{run("BLPOP", "z", "1e-5000"), run("BLPOP", "z", "0x10p-20"), run("BRPOPLPUSH", "z", "y", "0.001"), run("BLPOP", "z", "1e400")},
	}
	for i, sc := range scenarios {
		rc.do(t, "FLUSHALL")
		kc.do(t, "FLUSHALL")
		for _, st := range sc {
			var want, got string
			switch st.mode {
			case "block":
				rc.send(t, st.args...)
				kc.send(t, st.args...)
				blockedRedis()
				blkWaitBlocked(t, s, 1)
				continue
			case "hello":
				rc.do(t, st.args...)
				kc.do(t, st.args...)
				continue
			case "run":
				want, got = rc.do(t, st.args...), kc.do(t, st.args...)
			case "other":
				want, got = rc2.do(t, st.args...), kc2.do(t, st.args...)
			case "reply":
				want, got = rc.reply(t), kc.reply(t)
			}
			if want != got {
				t.Errorf("scenario %d, %s %q:\n redis %q\n kvd   %q", i, st.mode, st.args, want, got)
			}
		}
	}
}

// TestBlockingMixedKinds: waiters for a list and for a sorted set on the
// same key; a list serves only the list waiter, even behind the other.
func TestBlockingMixedKinds(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	z := blkDial(t, "tcp", s.Addr)
	l := blkDial(t, "tcp", s.Addr)
	p := blkDial(t, "tcp", s.Addr)
	z.send(t, "BZPOPMIN", "k", "0")
	blkWaitBlocked(t, s, 1)
	l.send(t, "BLPOP", "k", "0")
	blkWaitBlocked(t, s, 2)
	p.do(t, "RPUSH", "k", "x", "y")
	if got := l.reply(t); got != blkArr("k", "x") {
		t.Errorf("BLPOP: %q", got)
	}
	blkWaitBlocked(t, s, 1)
	p.do(t, "DEL", "k")
	p.do(t, "ZADD", "k", "3", "m")
	if got := z.reply(t); got != blkArr("k", "m", "3") {
		t.Errorf("BZPOPMIN: %q", got)
	}
	blkWaitBlocked(t, s, 0)
	blkWait(t, "no waiter entries", func() bool { return s.Engine().WaiterEntries() == 0 })
}

// TestBlockingTimeoutRace: consumers with tiny timeouts race producers;
// every element is delivered exactly once or stays in its list.
func TestBlockingTimeoutRace(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	keys := blkKeys(s, "r", 3)
	const producers, perProducer, consumers = 3, 300, 8
	var got sync.Map
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errc := make(chan error, consumers+producers)
	for i := 0; i < consumers; i++ {
		c := blkDial(t, "tcp", s.Addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				args := []string{"BLPOP", keys[n%3], keys[(n+1)%3], "0.00" + strconv.Itoa(1+n%3)}
				if n%4 == 0 {
					args = []string{"BLMPOP", "0.001", "2", keys[(n+2)%3], keys[n%3], "LEFT", "COUNT", "2"}
				}
				r := c.do(t, args...)
				if r == "*-1\r\n" {
					continue
				}
				parts := strings.Split(r, "\r\n")
				var vals []string
				for j := 1; j < len(parts); j++ {
					if strings.HasPrefix(parts[j-1], "$") && strings.HasPrefix(parts[j], "e") {
						vals = append(vals, parts[j])
					}
				}
				if len(vals) == 0 {
					errc <- fmt.Errorf("%q: %q", args, r)
					return
				}
				for _, v := range vals {
					if _, dup := got.LoadOrStore(v, true); dup {
						errc <- fmt.Errorf("%s delivered twice", v)
						return
					}
				}
			}
		}()
	}
	var pwg sync.WaitGroup
	for p := 0; p < producers; p++ {
		c := blkDial(t, "tcp", s.Addr)
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for i := 0; i < perProducer; i++ {
				c.do(t, "RPUSH", keys[(p+i)%3], fmt.Sprintf("e%d-%d", p, i))
			}
		}()
	}
	pwg.Wait()
	close(stop)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	delivered := 0
	got.Range(func(any, any) bool { delivered++; return true })
	left := 0
	p := blkDial(t, "tcp", s.Addr)
	for _, k := range keys {
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(p.do(t, "LLEN", k), ":")))
		left += n
	}
	if delivered+left != producers*perProducer {
		t.Fatalf("delivered %d + left %d != %d", delivered, left, producers*perProducer)
	}
	blkWaitBlocked(t, s, 0)
	blkWait(t, "no waiter entries", func() bool { return s.Engine().WaiterEntries() == 0 })
}

// TestBlockingServerClose: closing the server releases blocked clients
// (their connections end) and does not hang.
func TestBlockingServerClose(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	keys := blkKeys(s, "c", 2)
	var conns []*blkConn
	for i := 0; i < 3; i++ {
		c := blkDial(t, "tcp", s.Addr)
		c.send(t, "BLMOVE", keys[0], keys[1], "LEFT", "LEFT", "0")
		conns = append(conns, c)
	}
	c := blkDial(t, "tcp", s.Addr)
	c.send(t, "BLPOP", keys[0], keys[1], "0")
	conns = append(conns, c)
	blkWaitBlocked(t, s, 4)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Close hangs with blocked clients")
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if b, err := c.r.ReadByte(); err == nil {
			t.Errorf("client %d got %q after Close", i, b)
		}
	}
	if n := s.Engine().BlockedClients(); n != 0 {
		t.Errorf("blocked_clients %d after Close", n)
	}
}

// TestBlockingWait: WAIT with no replicas. Argument errors and the
// immediate answers match redis-server's; asking for a replica blocks
// until the timeout (then 0), CLIENT UNBLOCK (0, or the UNBLOCKED error)
// or a disconnect, while the client counts as blocked; commands pipelined
// behind it run afterwards, those before it are answered first.
func TestBlockingWait(t *testing.T) {
	sock := redistest.Start(t)
	rc := blkDial(t, "unix", sock)
	s := servertest.Start(t, servertest.Workers(2))
	c := blkDial(t, "tcp", s.Addr)
	admin := blkDial(t, "tcp", s.Addr)
	for _, args := range [][]string{{"WAIT", "a", "0"}, {"WAIT", "1", "a"}, {"WAIT", "1", "-1"}, {"WAIT", "0", "-1"},
		{"WAIT", "1.5", "0"}, {"WAIT", "0", "0"}, {"WAIT", "-5", "100"}, {"WAIT", "0"}, {"WAIT", "1", "20"}} {
		if a, b := c.do(t, args...), rc.do(t, args...); a != b {
			t.Errorf("%q: kvd %q, redis %q", args, a, b)
		}
	}
	id := strings.TrimPrefix(strings.TrimSpace(c.do(t, "CLIENT", "ID")), ":")
	for _, mode := range []string{"TIMEOUT", "ERROR"} {
		// One write: SET before WAIT is answered at once; GET after it
		// waits for it.
		var batch []byte
		batch = append(batch, blkEncode("SET", "w", mode)...)
		batch = append(batch, blkEncode("WAIT", "1", "0")...)
		batch = append(batch, blkEncode("GET", "w")...)
		if _, err := c.Write(batch); err != nil {
			t.Fatal(err)
		}
		if got := c.reply(t); got != "+OK\r\n" {
			t.Fatalf("SET before WAIT: %q", got)
		}
		blkWaitBlocked(t, s, 1)
		if got := admin.do(t, "INFO", "clients"); !strings.Contains(got, "blocked_clients:1\r\n") {
			t.Errorf("INFO clients: %q", got)
		}
		if got := admin.do(t, "CLIENT", "LIST", "ID", id); !strings.Contains(got, " flags=b ") {
			t.Errorf("CLIENT LIST: %q", got)
		}
		if got := admin.do(t, "CLIENT", "UNBLOCK", id, mode); got != ":1\r\n" {
			t.Errorf("CLIENT UNBLOCK %s: %q", mode, got)
		}
		want := ":0\r\n"
		if mode == "ERROR" {
			want = "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
		}
		if got := c.reply(t); got != want {
			t.Errorf("WAIT after UNBLOCK %s: %q, want %q", mode, got, want)
		}
		if got := c.reply(t); got != blkBulk(mode) {
			t.Errorf("GET after WAIT: %q", got)
		}
	}
	// A disconnect while waiting leaves nothing blocked.
	d := blkDial(t, "tcp", s.Addr)
	d.send(t, "WAIT", "3", "0")
	blkWaitBlocked(t, s, 1)
	d.Close()
	blkWaitBlocked(t, s, 0)
}
