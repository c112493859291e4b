package server_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/cmdspec"
	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
)

// TestDiffFuzz sends the same random commands to kvd (3 workers) and to a
// redis-server 7.0.15 and compares every reply byte for byte. Commands come
// from the argument trees of Redis's own command table (package cmdspec):
// optional arguments are taken or left out, repeated ones repeated, one
// branch of every oneof chosen, and values drawn from small pools that mix
// valid, edge and invalid values, over a handful of keys so that types
// collide. One command in twelve is then mutated (an argument dropped,
// duplicated or replaced), to reach the error paths. Half the commands go
// over a RESP2 connection, half over RESP3.
//
// The run is seeded and bounded: KVD_FUZZ_N commands (default 3,000) for
// each seed in KVD_FUZZ_SEEDS (default "1,2"). A mismatch prints the
// commands that led to it; both servers are then flushed and the run goes
// on, up to 20 mismatches.
func TestDiffFuzz(t *testing.T) { runDiffFuzz(t, fuzzPlain, 3000) }

// TestDiffFuzzNotify is TestDiffFuzz with notify-keyspace-events KEAnm on
// both servers and a pattern subscriber on each: after every command the
// keyspace and keyevent messages it caused must also be the same, in the
// same order. ("expired" events are left out: when the active expiry
// cycle reclaims a key whose time SET ... PXAT put in the past depends on
// each server's timer.)
func TestDiffFuzzNotify(t *testing.T) { runDiffFuzz(t, fuzzNotify, 1500) }

// TestDiffFuzzTracking is TestDiffFuzz with CLIENT TRACKING ON on the RESP3
// connection of each server: the invalidation pushes it receives (for
// keys it read and then anyone changed, its own writes included) must be
// the same after every command.
func TestDiffFuzzTracking(t *testing.T) { runDiffFuzz(t, fuzzTracking, 1500) }

// The modes of runDiffFuzz.
const (
	fuzzPlain = iota
	fuzzNotify
	fuzzTracking
)

func runDiffFuzz(t *testing.T, mode, n int) {
	if v, err := strconv.Atoi(os.Getenv("KVD_FUZZ_N")); err == nil && v > 0 {
		n = v
	}
	seeds := []uint64{1, 2}
	if v := os.Getenv("KVD_FUZZ_SEEDS"); v != "" {
		seeds = nil
		for _, f := range strings.Split(v, ",") {
			s, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("KVD_FUZZ_SEEDS: %v", err)
			}
			seeds = append(seeds, s)
		}
	}
	sock := redistest.Start(t)
	quiet := func(c *server.Config) { c.Logger = slog.New(slog.DiscardHandler) } // a line per slot move otherwise
	srv := servertest.Start(t, servertest.Workers(3), quiet)
	f := &diffFuzz{t: t}
	f.kvd[0], f.redis[0] = fuzzDial(t, "tcp", srv.Addr), fuzzDial(t, "unix", sock)
	f.kvd[1], f.redis[1] = fuzzDial(t, "tcp", srv.Addr), fuzzDial(t, "unix", sock)
	for _, c := range []*fuzzConn{f.kvd[1], f.redis[1]} {
		c.do("HELLO", "3")
	}
	if mode == fuzzTracking {
		for _, c := range []*fuzzConn{f.kvd[1], f.redis[1]} {
			if r := c.do("CLIENT", "TRACKING", "ON"); r != "+OK\r\n" {
				t.Fatalf("CLIENT TRACKING ON: %q", r)
			}
		}
		f.tracking = true
	}
	if mode == fuzzNotify {
		for i, c := range []*fuzzConn{f.kvd[0], f.redis[0]} {
			if r := c.do("CONFIG", "SET", "notify-keyspace-events", "KEAnm"); r != "+OK\r\n" {
				t.Fatalf("CONFIG SET notify-keyspace-events: %q", r)
			}
			f.sub[i] = fuzzDial(t, map[int]string{0: "tcp", 1: "unix"}[i], map[int]string{0: srv.Addr, 1: sock}[i])
			f.sub[i].do("PSUBSCRIBE", "__key*__:*")
		}
	}
	f.specs = fuzzSpecs(t, f.kvd[0])
	t.Logf("%d commands in the fuzz set", len(f.specs))
	// Meanwhile the fuzz keys' slots keep moving between kvd's workers and
	// the worker count changes: no reply may show it.
	stop, done := make(chan struct{}), make(chan int)
	go fuzzMover(fuzzDial(t, "tcp", srv.Addr), stop, done)
	for _, seed := range seeds {
		f.run(seed, n)
	}
	close(stop)
	moves := <-done
	t.Logf("%d commands sent to each server, %d slot moves meanwhile, %d mismatches", f.sent, moves, len(f.bad))
	for _, b := range f.bad {
		t.Error(b)
	}
}

// fuzzGroups are the command groups whose replies are deterministic enough
// to compare; fuzzSkip removes the commands of those groups that are not
// (random picks, scans, clocks, blocking, encodings of dumps).
var (
	fuzzGroups = map[string]bool{"string": true, "generic": true, "hash": true, "list": true, "set": true,
		"sorted-set": true, "bitmap": true, "hyperloglog": true, "geo": true}
	fuzzSkip = map[string]bool{
		"randomkey": true, "spop": true, "srandmember": true, "hrandfield": true, "zrandmember": true,
		"dump": true, "restore": true, "migrate": true, "wait": true, "object": true,
		"pfdebug": true, "pfselftest": true,
	}
	// fuzzExtra are commands of other groups with replies to compare.
	fuzzExtra = map[string]bool{"select": true, "swapdb": true, "dbsize": true, "flushdb": true,
		"echo": true, "ping": true}
	// fuzzScans are compared when both finish in one call (cursor 0): the
	// elements as a set (k = 2: pairs).
	fuzzScans = map[string]int{"scan": 1, "sscan": 1, "hscan": 2, "zscan": 2}
	// fuzzUnordered replies are sets: compared with their elements sorted
	// (pairs kept together for the map-like ones).
	fuzzUnordered = map[string]int{"smembers": 1, "sinter": 1, "sunion": 1, "sdiff": 1, "keys": 1,
		"hkeys": 1, "hvals": 1, "hgetall": 2}
)

// fuzzMover moves the fuzz keys' slots (and now and then a random one) to
// random workers, and sets the worker count between 2 and 4 every 200
// moves, until stop; it sends the number of moves that succeeded on done.
func fuzzMover(c *fuzzConn, stop <-chan struct{}, done chan<- int) {
	r := rand.New(rand.NewPCG(7, 7))
	var slots []int
	for _, k := range fuzzKeys {
		slots = append(slots, shard.KeySlot([]byte(k)))
	}
	moves, workers := 0, 3
	for i := 0; ; i++ {
		select {
		case <-stop:
			c.do("CONFIG", "SET", "workers", "3")
			done <- moves
			return
		default:
		}
		if i%200 == 199 {
			workers = 2 + r.IntN(3)
			c.do("CONFIG", "SET", "workers", strconv.Itoa(workers))
		}
		slot := r.IntN(shard.NumSlots)
		if r.IntN(4) > 0 {
			slot = slots[r.IntN(len(slots))]
		}
		if c.do("WORKERS", "MOVE", strconv.Itoa(slot), strconv.Itoa(r.IntN(workers))) == "+OK\r\n" {
			moves++
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// fuzzEnv reads a fuzzer's size and seed from <prefix>_N and <prefix>_SEED,
// defaulting to defN and 1.
func fuzzEnv(prefix string, defN int) (n int, seed uint64) {
	n, seed = defN, 1
	if v, err := strconv.Atoi(os.Getenv(prefix + "_N")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.ParseUint(os.Getenv(prefix+"_SEED"), 10, 64); err == nil {
		seed = v
	}
	return n, seed
}

type diffFuzz struct {
	t          *testing.T
	kvd, redis [2]*fuzzConn // [0] RESP2, [1] RESP3
	sub        [2]*fuzzConn // keyspace subscribers on kvd and redis (notify mode)
	tracking   bool         // the RESP3 connections track keys (tracking mode)
	specs      []*cmdspec.Spec
	hist       [][]string // commands since the last flush, with their protocol in [0]
	bad        []string
	seen       map[string]bool
	sent       int
}

func fuzzSpecs(t *testing.T, kvd *fuzzConn) []*cmdspec.Spec {
	var out []*cmdspec.Spec
	for _, s := range cmdspec.All() {
		if s.Name != "object|encoding" && !fuzzExtra[s.Name] && (s.Container != "" || !fuzzGroups[s.Group] || fuzzSkip[s.Name]) {
			continue
		}
		// Only what kvd has: COMMAND INFO answers nil for the rest.
		if r := kvd.do("COMMAND", "INFO", s.Name); r == "*1\r\n$-1\r\n" || r == "*1\r\n_\r\n" {
			continue
		}
		out = append(out, s)
	}
	if len(out) < 100 {
		t.Fatalf("only %d commands to fuzz", len(out))
	}
	return out
}

func (f *diffFuzz) run(seed uint64, n int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	caching := ""
	if f.tracking { // each seed tracks in one of the modes
		modes := [][]string{{"ON"}, {"ON", "NOLOOP"}, {"ON", "BCAST"}, {"ON", "BCAST", "PREFIX", "k", "PREFIX", "{t}"},
			{"ON", "BCAST", "NOLOOP", "PREFIX", "k1"}, {"ON", "OPTIN"}, {"ON", "OPTOUT"}}
		mode := modes[seed%uint64(len(modes))]
		for _, c := range []*fuzzConn{f.kvd[1], f.redis[1]} {
			c.do("CLIENT", "TRACKING", "OFF")
			if r := c.do(append([]string{"CLIENT", "TRACKING"}, mode...)...); r != "+OK\r\n" {
				f.t.Fatalf("CLIENT TRACKING %q: %q", mode, r)
			}
		}
		f.t.Logf("seed %d: CLIENT TRACKING %s", seed, strings.Join(mode, " "))
		switch mode[len(mode)-1] {
		case "OPTIN":
			caching = "yes"
		case "OPTOUT":
			caching = "no"
		}
	}
	f.flush()
	for i := 0; i < n && len(f.bad) < 20; i++ {
		spec := f.specs[r.IntN(len(f.specs))]
		args := fuzzCommand(r, spec)
		if !spec.HasFlag("blocking") { // a mutated timeout could block for ever
			args = fuzzMutate(r, args, fuzzExpiring[spec.Name])
		}
		proto := r.IntN(2)
		if r.IntN(15) == 0 { // kvd's key extraction against Redis's
			args = append([]string{"COMMAND", pick(r, []string{"GETKEYS", "GETKEYSANDFLAGS"})}, args...)
		}
		if f.setSortStore(args, proto) {
			continue // stores a set's hash order: nothing to compare
		}
		if f.tracking && fuzzPastAbsolute(args) {
			continue // when its key's expiry invalidates it depends on each server's expiry timing
		}
		if caching != "" && proto == 1 && r.IntN(2) == 0 { // OPTIN/OPTOUT: this command's reads
			f.hist = append(f.hist, []string{"1", "CLIENT", "CACHING", caching})
			if what, a, b := f.step(f.hist[len(f.hist)-1]); what != "" {
				f.t.Fatalf("CLIENT CACHING %s: kvd %q, redis %q", caching, a, b)
			}
		}
		f.sent++
		f.hist = append(f.hist, append([]string{strconv.Itoa(proto)}, args...))
		what, a, b := f.step(f.hist[len(f.hist)-1])
		if what == "" {
			if len(f.hist) >= 1000 {
				f.flush()
			}
			continue
		}
		sig := spec.Name + "|" + what + "|" + fuzzFirstLine(a) + "|" + fuzzFirstLine(b)
		if f.seen == nil {
			f.seen = map[string]bool{}
		}
		if !f.seen[sig] {
			f.seen[sig] = true
			total := len(f.hist)
			steps := f.minimize(f.hist)
			var lines []string
			for _, st := range steps {
				lines = append(lines, fmt.Sprintf("[resp%d] %q", 2+int(st[0][0]-'0'), st[1:]))
			}
			f.flush()
			var rw, ra, rb string
			for _, st := range steps {
				rw, ra, rb = f.step(st)
			}
			replay := fmt.Sprintf("shortest history found (%d of %d commands), which ends in: %s differs\n  kvd:   %q\n  redis: %q", len(steps), total, rw, ra, rb)
			if rw == "" {
				replay = fmt.Sprintf("NOT reproduced by replaying the %d commands since the last flush:", total)
			}
			f.bad = append(f.bad, fmt.Sprintf("seed %d command %d: %s differs after %q\n  kvd:   %q\n  redis: %q\n  %s\n    %s",
				seed, i, what, args, a, b, replay, strings.Join(lines, "\n    ")))
		}
		f.flush() // start both from the same (empty) state again
	}
}

// step sends one recorded command (protocol index first) to both servers
// and says what differs: "" (nothing), "reply" or "state of <key>".
func (f *diffFuzz) step(st []string) (what, a, b string) {
	proto := int(st[0][0] - '0')
	args := st[1:]
	name := strings.ToLower(args[0])
	unord := f.unorderedSort(args, proto)
	a, b = f.kvd[proto].do(args...), f.redis[proto].do(args...)
	if b == "-ERR One or more scores can't be converted into double\r\n" && a != b {
		// Redis 7.0's SORT tests errno after strtod without clearing it,
		// so an ERANGE left by an earlier command (a ZADD of 1e400) fails
		// it. INCRBYFLOAT clears errno; the failed SORT changed nothing.
		f.redis[0].do("INCRBYFLOAT", "fuzz:errno", "0")
		f.redis[0].do("DEL", "fuzz:errno")
		f.events(1) // drop the events of those two
		b = f.redis[proto].do(args...)
	}
	// Under a LIMIT, which of a set's tied elements are picked depends on
	// the hash order too: only the reply's shape can be compared.
	picked := unord && slices.ContainsFunc(args, func(s string) bool { return strings.EqualFold(s, "limit") })
	if k := fuzzUnordered[name]; k > 0 || unord {
		a, b = fuzzSorted(a, max(k, 1)), fuzzSorted(b, max(k, 1))
	}
	if picked {
		a, b = fuzzFirstLine(a), fuzzFirstLine(b)
	}
	if fuzzTTL[name] {
		a, b = fuzzNear(a, b)
	}
	if k := fuzzScans[name]; k > 0 {
		// Only a scan from cursor 0 means the same thing on both.
		from0 := len(args) > 2 && args[2] == "0" || name == "scan" && len(args) > 1 && args[1] == "0"
		a, b = fuzzScanDone(a, k, from0), fuzzScanDone(b, k, from0)
		// How many calls a scan takes is each server's own business.
		if a == "some" && strings.HasPrefix(b, "done") || b == "some" && strings.HasPrefix(a, "done") {
			a = b
		}
	}
	if a != b {
		return "reply", a, b
	}
	if f.sub[0] != nil {
		// A set's elements come in its hash order, and so do the weight
		// and GET keys SORT looks up for them (keymiss events).
		a, b := f.eventsSorted(0, unord), f.eventsSorted(1, unord)
		if picked { // the GET lookups of other elements: count them
			a, b = strconv.Itoa(strings.Count(a, "pmessage")), strconv.Itoa(strings.Count(b, "pmessage"))
		}
		if a != b {
			return "events", a, b
		}
	}
	if spec := cmdspec.Lookup(name); spec == nil || !spec.HasFlag("write") {
		if a, b := f.invalidations(); a != b {
			return "invalidations", a, b
		}
		return "", a, b
	}
	// The pool's keys and any other a mutation created (TYPE also expires
	// a key whose time is past, as SET ... PXAT <past> leaves one).
	keys := slices.Clone(fuzzKeys)
	for _, c := range []*fuzzConn{f.kvd[0], f.redis[0]} {
		for _, k := range fuzzElems(c.do("KEYS", "*")) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	for _, k := range keys {
		if a, b := f.state(f.kvd[0], k), f.state(f.redis[0], k); a != b {
			return "state of " + k, a, b
		}
	}
	if f.sub[0] != nil { // the state reads' own events (keymiss, expired)
		if a, b := f.events(0), f.events(1); a != b {
			return "events of the state reads", a, b
		}
	}
	if a, b := f.invalidations(); a != b {
		return "invalidations", a, b
	}
	return "", a, b
}

// unorderedSort reports a SORT whose ties keep the source's own order: a
// set's order is its hash table's, which no two servers share, and so is
// a sorted set's when SORT reads it (Redis walks its dict), which shows
// under BY <pattern> ALPHA, where missing weights compare equal.
func (f *diffFuzz) unorderedSort(args []string, proto int) bool {
	name := strings.ToLower(args[0])
	if (name != "sort" && name != "sort_ro") || len(args) < 2 {
		return false
	}
	// Asked on both servers, in that connection's DB: a TYPE also makes a
	// tracking connection track the key, and raises keymiss events.
	f.kvd[proto].do("TYPE", args[1])
	typ := f.redis[proto].do("TYPE", args[1])
	f.events(0)
	f.events(1)
	return typ == "+set\r\n" || typ == "+zset\r\n"
}

// fuzzPastAbsolute reports a SET or GETEX with EXAT or PXAT in the past:
// SET keeps such a key until an access or the active expiry cycle
// reclaims it, whichever comes first on each server.
func fuzzPastAbsolute(args []string) bool {
	if !strings.EqualFold(args[0], "set") && !strings.EqualFold(args[0], "getex") {
		return false
	}
	for i := 1; i+1 < len(args); i++ {
		ms := int64(1)
		switch {
		case strings.EqualFold(args[i], "exat"):
			ms = 1000
		case !strings.EqualFold(args[i], "pxat"):
			continue
		}
		if t, err := strconv.ParseInt(args[i+1], 10, 64); err == nil && t < time.Now().UnixMilli()/ms {
			return true
		}
	}
	return false
}

// setSortStore reports a SORT ... BY <pattern with *> ... STORE of a set:
// ties among the weights keep the set's hash order, and STORE writes it.
func (f *diffFuzz) setSortStore(args []string, proto int) bool {
	if !f.unorderedSort(args, proto) {
		return false
	}
	by, store := false, false
	for i, a := range args {
		switch strings.ToUpper(a) {
		case "BY":
			by = by || i+1 < len(args) && strings.Contains(args[i+1], "*")
		case "STORE":
			store = true
		}
	}
	return by && store
}

// state renders one key's type, value and whether it has a TTL.
func (f *diffFuzz) state(c *fuzzConn, key string) string {
	typ := c.do("TYPE", key)
	var val string
	switch typ {
	case "+string\r\n":
		val = c.do("GET", key)
	case "+list\r\n":
		val = c.do("LRANGE", key, "0", "-1")
	case "+set\r\n":
		val = fuzzSorted(c.do("SMEMBERS", key), 1)
	case "+zset\r\n":
		val = c.do("ZRANGE", key, "0", "-1", "WITHSCORES")
	case "+hash\r\n":
		val = fuzzSorted(c.do("HGETALL", key), 2)
	}
	ttl := c.do("PTTL", key)
	if strings.HasPrefix(ttl, ":") && !strings.HasPrefix(ttl, ":-") {
		ttl = "ttl"
	}
	return typ + val + ttl
}

// minimize shrinks a failing history (ddmin over chunks, the last command
// always kept) to a shorter one that still ends in a difference.
func (f *diffFuzz) minimize(hist [][]string) [][]string {
	fails := func(h [][]string) bool {
		f.flush()
		for i, st := range h {
			if what, _, _ := f.step(st); what != "" {
				return i == len(h)-1
			}
		}
		return false
	}
	cur := slices.Clone(hist)
	if !fails(cur) {
		return cur // not reproducible by replay: report it whole
	}
	for chunk := max(1, (len(cur)-1)/2); chunk >= 1; {
		removed := false
		for i := 0; i+chunk < len(cur); {
			try := slices.Concat(cur[:i], cur[i+chunk:])
			if fails(try) {
				cur, removed = try, true
			} else {
				i += chunk
			}
		}
		if !removed {
			if chunk == 1 {
				break
			}
			chunk /= 2
		}
	}
	return cur
}

// events returns the keyspace messages subscriber i received since the
// last call, up to the answer of a PING sent now: the server wrote every
// event of an answered command before that answer.
// invalidations returns the push frames each tracking connection has
// received, up to the answer of a PING sent now.
func (f *diffFuzz) invalidations() (kvd, redis string) {
	if !f.tracking {
		return "", ""
	}
	var out [2]string
	for i, c := range []*fuzzConn{f.kvd[1], f.redis[1]} {
		if r := c.do("PING"); r != "+PONG\r\n" {
			f.t.Fatalf("PING: %q", r)
		}
		out[i] = strings.Join(c.pushes, "")
		c.pushes = c.pushes[:0]
	}
	return out[0], out[1]
}

func (f *diffFuzz) events(i int) string { return f.eventsSorted(i, false) }

func (f *diffFuzz) eventsSorted(i int, sorted bool) string {
	c := f.sub[i]
	if c == nil {
		return ""
	}
	c.send("PING")
	var out []string
	for {
		m := c.read()
		if m == "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
			if sorted {
				sort.Strings(out)
			}
			return strings.Join(out, "")
		}
		if !strings.Contains(m, "\r\nexpired\r\n") && !strings.Contains(m, "__:expired\r\n") {
			out = append(out, m)
		}
	}
}

func (f *diffFuzz) flush() {
	for _, c := range []*fuzzConn{f.kvd[0], f.redis[0], f.kvd[1], f.redis[1]} {
		if r := c.do("SELECT", "0"); r != "+OK\r\n" {
			f.t.Fatalf("SELECT 0: %q", r)
		}
	}
	for _, c := range []*fuzzConn{f.kvd[0], f.redis[0]} {
		if r := c.do("FLUSHALL"); r != "+OK\r\n" {
			f.t.Fatalf("FLUSHALL: %q", r)
		}
	}
	f.events(0)
	f.events(1)
	f.invalidations()
	f.hist = f.hist[:0]
}

// fuzzTTL replies depend on each server's clock: remaining times are
// compared with a tolerance.
var fuzzTTL = map[string]bool{"ttl": true, "pttl": true, "expiretime": true, "pexpiretime": true}

func fuzzNear(a, b string) (string, string) {
	if !strings.HasPrefix(a, ":") || !strings.HasPrefix(b, ":") {
		return a, b
	}
	x, err1 := strconv.ParseInt(strings.TrimSpace(a[1:]), 10, 64)
	y, err2 := strconv.ParseInt(strings.TrimSpace(b[1:]), 10, 64)
	if err1 == nil && err2 == nil && x >= 0 && y >= 0 && max(x-y, y-x) <= 2000 {
		return b, b
	}
	return a, b
}

// fuzzScanDone renders a finished scan (cursor 0) with its elements
// sorted, and an unfinished one as just "more", since cursors are each
// server's own.
func fuzzScanDone(raw string, k int, from0 bool) string {
	if !from0 && strings.HasPrefix(raw, "*2\r\n") {
		return "some"
	}
	if !strings.HasPrefix(raw, "*2\r\n$1\r\n0\r\n") {
		if strings.HasPrefix(raw, "*2\r\n") {
			return "some"
		}
		return raw
	}
	return "done " + fuzzSorted(raw[len("*2\r\n$1\r\n0\r\n"):], k)
}

// fuzzElems returns the strings of a flat array-of-bulks reply.
func fuzzElems(raw string) []string {
	br := bufio.NewReader(strings.NewReader(raw))
	head, err := br.ReadString('\n')
	if err != nil || len(head) < 3 || head[0] != '*' {
		return nil
	}
	n, _ := strconv.Atoi(head[1 : len(head)-2])
	var out []string
	for i := 0; i < n; i++ {
		s, err := redistest.ReadRaw(br)
		if err != nil || s[0] != '$' {
			return out
		}
		_, body, _ := strings.Cut(s, "\r\n")
		out = append(out, strings.TrimSuffix(body, "\r\n"))
	}
	return out
}

func fuzzFirstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// fuzzSorted sorts the elements of a top-level array, set or map reply
// (k = 2 keeps field/value pairs together).
func fuzzSorted(raw string, k int) string {
	br := bufio.NewReader(strings.NewReader(raw))
	head, err := br.ReadString('\n')
	if err != nil || len(head) < 3 || !strings.ContainsRune("*~%", rune(head[0])) {
		return raw
	}
	n, _ := strconv.Atoi(head[1 : len(head)-2])
	if head[0] == '%' {
		n *= 2
	}
	var items []string
	for i := 0; i < n; i++ {
		s, err := redistest.ReadRaw(br)
		if err != nil {
			return raw
		}
		if k == 2 && i%2 == 1 {
			items[len(items)-1] += s
			continue
		}
		items = append(items, s)
	}
	sort.Strings(items)
	return head + strings.Join(items, "")
}

// The value pools. Keys are few, so types collide and multi-key commands
// meet existing keys.
var (
	fuzzKeys   = []string{"k1", "k2", "k3", "{t}a", "{t}b"}
	fuzzInts   = []string{"0", "1", "2", "3", "5", "10", "-1", "-2", "-10", "100", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "abc", "1.5", "", "07"}
	fuzzDouble = []string{"0", "1", "2", "-1", "1.5", "-2.5", "0.1", "3", "10", "inf", "-inf", "+inf", "nan", "1e10", "abc", "(1", "(2.5", "", "1e400"}
	fuzzStrs   = []string{"a", "b", "c", "1", "2", "10", "-3", "hello", "", "a b", "3.5", "xyz",
		strings.Repeat("v", 65), "12345678901234567890"} // past the 64-byte listpack value limit; past int64
	fuzzLex    = []string{"-", "+", "[a", "(b", "[c", "(a", "a", "[", "("}
	fuzzPat    = []string{"*", "k*", "k?", "[a-c]*", "*a*", "{t}*", "nomatch"}
	fuzzTimes  = []string{"0", "-5", "100000", "9999999", "abc", "9223372036854775807", "1.5"}
	fuzzUnix   = []string{"1", "100", "4102444800", "4102444800000", "-1", "abc", "9223372036854775807"}
	fuzzLonLat = []string{"13.361389", "38.115556", "15.087269", "37.502669", "200", "-91", "0", "abc"}
	fuzzDBs    = []string{"0", "1", "15", "16", "-1", "abc"}
)

func pick(r *rand.Rand, pool []string) string { return pool[r.IntN(len(pool))] }

// fuzzCommand builds one syntactically plausible call of spec.
func fuzzCommand(r *rand.Rand, spec *cmdspec.Spec) []string {
	out := strings.Split(strings.ToUpper(spec.Name), "|")
	numkeys := -1
	out = fuzzArgs(r, spec.Args, out, &numkeys)
	return out
}

func fuzzArgs(r *rand.Rand, args []cmdspec.Arg, out []string, numkeys *int) []string {
	for _, a := range args {
		if a.Optional && r.IntN(2) == 0 {
			continue
		}
		reps := 1
		if a.Multiple {
			reps = 1 + r.IntN(3)
			if r.IntN(25) == 0 { // past the listpack/intset limits (128 entries)
				reps = 100 + r.IntN(100)
			}
		}
		for k := 0; k < reps; k++ {
			if a.Token != "" && a.Type != "pure-token" && (k == 0 || a.MultipleToken) {
				out = append(out, a.Token)
			}
			switch a.Type {
			case "pure-token":
				out = append(out, a.Token)
			case "oneof":
				sub := a.Args[r.IntN(len(a.Args))]
				sub.Optional = false
				out = fuzzArgs(r, []cmdspec.Arg{sub}, out, numkeys)
			case "block":
				out = fuzzArgs(r, a.Args, out, numkeys)
			case "key":
				if *numkeys >= 0 && k == 0 && a.Multiple && r.IntN(10) > 0 {
					out[*numkeys] = strconv.Itoa(reps)
					*numkeys = -1
				}
				out = append(out, pick(r, fuzzKeys))
			case "integer":
				switch {
				case a.Name == "cursor" && r.IntN(3) > 0:
					out = append(out, "0")
				case a.Name == "numkeys" || a.Name == "numfields":
					*numkeys = len(out)
					out = append(out, pick(r, fuzzInts))
				case strings.Contains(a.Name, "seconds") && !strings.Contains(a.Name, "unix"),
					strings.Contains(a.Name, "milliseconds") && !strings.Contains(a.Name, "unix"):
					out = append(out, pick(r, fuzzTimes))
				case strings.Contains(a.Name, "unix"):
					out = append(out, pick(r, fuzzUnix))
				case a.Name == "db" || a.Name == "destination-db" || a.Name == "index":
					out = append(out, pick(r, fuzzDBs))
				default:
					out = append(out, pick(r, fuzzInts))
				}
			case "unix-time":
				out = append(out, pick(r, fuzzUnix))
			case "double":
				if a.Name == "timeout" {
					out = append(out, pick(r, []string{"0.01", "0.01", "0.01", "-1", "abc"}))
				} else if a.Name == "longitude" || a.Name == "latitude" {
					out = append(out, pick(r, fuzzLonLat))
				} else {
					out = append(out, pick(r, fuzzDouble))
				}
			case "pattern":
				out = append(out, pick(r, fuzzPat))
			default: // string
				switch a.Name {
				case "min", "max", "start", "stop":
					out = append(out, pick(r, append(fuzzLex, fuzzDouble...)))
				default:
					out = append(out, pick(r, fuzzStrs))
				}
			}
		}
	}
	return out
}

// fuzzExpiring commands take a time: a mutation must not give them a small
// one, or a key would expire on one server and not yet on the other.
var fuzzExpiring = map[string]bool{"set": true, "setex": true, "psetex": true, "getex": true,
	"expire": true, "pexpire": true, "expireat": true, "pexpireat": true}

// fuzzMutate breaks one command in twelve: drops an argument, repeats one,
// or puts a pool value in its place (no integers for timed commands).
func fuzzMutate(r *rand.Rand, args []string, timed bool) []string {
	if r.IntN(12) != 0 || len(args) < 2 {
		return args
	}
	i := 1 + r.IntN(len(args)-1)
	switch r.IntN(3) {
	case 0:
		return slices.Delete(args, i, i+1)
	case 1:
		return slices.Insert(args, i, args[i])
	default:
		pools := [][]string{fuzzKeys, fuzzInts, fuzzDouble, fuzzStrs, {"WITHSCORES", "LIMIT", "EX", "NX", "XX", "COUNT", "BYSCORE", "REV"}}
		if timed {
			pools = [][]string{fuzzKeys, fuzzStrs[:3], fuzzTimes}
		}
		args[i] = pick(r, pools[r.IntN(len(pools))])
		return args
	}
}

type fuzzConn struct {
	t      *testing.T
	nc     net.Conn
	br     *bufio.Reader
	wb     []byte
	pushes []string // RESP3 push frames read past (tracking mode)
}

func fuzzDial(t *testing.T, network, addr string) *fuzzConn {
	nc, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &fuzzConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// do sends one command and returns its reply's exact bytes.
func (c *fuzzConn) do(args ...string) string {
	c.send(args...)
	return c.read()
}

func (c *fuzzConn) send(args ...string) {
	w := proto.Writer{B: c.wb[:0]}
	w.StringArray(args)
	c.wb = w.B
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(c.wb); err != nil {
		c.t.Fatalf("%q: %v", args, err)
	}
}

// readRaw returns the next frame, pushes included.
func (c *fuzzConn) readRaw() string {
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	s, err := redistest.ReadRaw(c.br)
	if err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	return s
}

// read returns the next reply, setting aside the RESP3 push frames before
// it in c.pushes.
func (c *fuzzConn) read() string {
	for {
		c.nc.SetDeadline(time.Now().Add(10 * time.Second))
		s, err := redistest.ReadRaw(c.br)
		if err != nil {
			c.t.Fatalf("reading a reply: %v", err)
		}
		if s[0] != '>' {
			return s
		}
		c.pushes = append(c.pushes, s)
	}
}
