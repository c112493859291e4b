package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

// notifyConn is one RESP connection of the differential test.
type notifyConn struct {
	c  net.Conn
	br *bufio.Reader
}

func notifyDial(t *testing.T, network, addr string) *notifyConn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &notifyConn{c: c, br: bufio.NewReader(c)}
}

func (n *notifyConn) send(args ...string) {
	var w proto.Writer
	w.Array(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
	n.c.Write(w.B)
}

func (n *notifyConn) read(t *testing.T) string {
	t.Helper()
	n.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := servertest.ReadReply(n.br)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	return s
}

func (n *notifyConn) do(t *testing.T, args ...string) string {
	t.Helper()
	n.send(args...)
	return n.read(t)
}

// readPush reads one RESP2 array of bulk strings and integers (a pub/sub
// message or confirmation).
func (n *notifyConn) readPush(t *testing.T) []string {
	t.Helper()
	n.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := n.br.ReadString('\n')
	if err != nil {
		t.Fatalf("read push: %v", err)
	}
	if len(line) < 3 || (line[0] != '*' && line[0] != '>') {
		t.Fatalf("read push: unexpected %q", line)
	}
	cnt, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	out := make([]string, 0, cnt)
	for i := 0; i < cnt; i++ {
		h, err := n.br.ReadString('\n')
		if err != nil {
			t.Fatalf("read push: %v", err)
		}
		switch h[0] {
		case ':':
			out = append(out, strings.TrimSpace(h[1:]))
		case '$':
			l, _ := strconv.Atoi(strings.TrimSpace(h[1:]))
			b := make([]byte, l+2)
			if _, err := io.ReadFull(n.br, b); err != nil {
				t.Fatalf("read push: %v", err)
			}
			out = append(out, string(b[:l]))
		default:
			t.Fatalf("read push: unexpected element %q", h)
		}
	}
	return out
}

// notifyPeer is one server of the differential test: a command
// connection, a subscriber on __key*__:* and a connection for clients
// that block.
type notifyPeer struct {
	name     string
	cmd, sub *notifyConn
	blk      *notifyConn
	seq      int
}

func newNotifyPeer(t *testing.T, name, network, addr string) *notifyPeer {
	p := &notifyPeer{name: name}
	p.cmd = notifyDial(t, network, addr)
	p.blk = notifyDial(t, network, addr)
	p.sub = notifyDial(t, network, addr)
	p.sub.send("PSUBSCRIBE", "__key*__:*")
	p.sub.readPush(t)
	p.sub.send("SUBSCRIBE", "notify-sync")
	p.sub.readPush(t)
	return p
}

// sync returns the notifications received since the last call.
func (p *notifyPeer) sync(t *testing.T) []string {
	t.Helper()
	p.seq++
	tag := strconv.Itoa(p.seq)
	p.cmd.do(t, "PUBLISH", "notify-sync", tag)
	var ev []string
	for {
		m := p.sub.readPush(t)
		switch {
		case len(m) == 3 && m[0] == "message" && m[1] == "notify-sync" && m[2] == tag:
			return ev
		case len(m) == 4 && m[0] == "pmessage":
			ev = append(ev, m[2]+" "+m[3])
		default:
			t.Fatalf("%s: unexpected message %q", p.name, m)
		}
	}
}

// waitBlocked waits until n clients are blocked.
func (p *notifyPeer) waitBlocked(t *testing.T, n int) {
	t.Helper()
	want := "blocked_clients:" + strconv.Itoa(n) + "\r\n"
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if strings.Contains(p.cmd.do(t, "INFO", "clients"), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no client blocked", p.name)
		}
	}
}

// step runs one script line and returns its reply and the notifications it
// caused. Pseudo commands: "SLEEP" (handled by the caller), "BLOCK cmd..."
// (sent on the blocking connection; waits until the client blocks) and
// "SERVE cmd..." (runs cmd, then reads the blocked client's reply).
func (p *notifyPeer) step(t *testing.T, args []string) (string, []string) {
	t.Helper()
	switch args[0] {
	case "BLOCK":
		p.blk.send(args[1:]...)
		p.waitBlocked(t, 1)
		return "", p.sync(t)
	case "SERVE":
		r := p.cmd.do(t, args[1:]...)
		r += " / " + p.blk.read(t)
		return r, p.sync(t)
	}
	r := p.cmd.do(t, args...)
	return r, p.sync(t)
}

// notifyScript covers every command family and event kvd implements. A
// leading "?" marks a line whose reply is not compared (only its events);
// "" is an empty argument.
var notifyScript = `
SET s1 v
SET s1 v2 NX
SET s1 v3 XX GET
SET s1 v4 KEEPTTL
SET s2 v EX 100
SET s2 v PX 100000 GET
SET s2b v EXAT 1
SET s9 v GET
SET s9 v NX GET
SETNX s3 x
SETNX s3 y
SETEX s4 100 v
PSETEX s5 100000 v
GETSET s6 a
GETSET s6 b
GETDEL s6
GETDEL s6
GETEX s1 EX 100
GETEX s1 PERSIST
GETEX s1 PERSIST
GETEX s1
GETEX nosuch EX 10
GETEX s1 PXAT 1
SETRANGE s7 2 abc
SETRANGE s7 0 xy
APPEND s8 hello
APPEND s8 world
INCR n1
INCRBY n1 5
DECR n1
DECRBY n1 2
INCRBYFLOAT n2 1.5
INCR s8
MSET m1 a m2 b
MSETNX m3 c m4 d
MSETNX m3 c m5 e
GET nosuch
MGET m1 nosuch m2
STRLEN nosuch
GETRANGE nosuch 0 1
SUBSTR nosuch 0 1
LCS m1 nosuch
DEL m1 m2 nosuch
UNLINK m3
EXISTS m4 nosuch
TYPE nosuch
TYPE m4
TTL nosuch
PTTL nosuch
EXPIRETIME nosuch
PEXPIRETIME nosuch
TOUCH m4 nosuch
EXPIRE m4 100
PEXPIRE m4 100000
EXPIREAT m4 99999999999
PEXPIREAT m4 99999999999999
EXPIRE m4 100 NX
EXPIRE m4 200 GT
PERSIST m4
PERSIST m4
PERSIST nosuch
EXPIRE m4 -1
EXPIRE nosuch 100
SET m6 v
PEXPIREAT m6 1
SET r1 v
RENAME r1 r2
SET r3 v
RENAME r2 r3
RENAMENX r3 r4
SET r5 v
RENAMENX r4 r5
RENAME r4 r4
RENAME nosuch r9
COPY r4 c1
COPY r4 c1
COPY r4 c1 REPLACE
COPY r4 c2 DB 1
COPY nosuch c3
MOVE c1 2
MOVE nosuch 2
MOVE c1 2
OBJECT ENCODING nosuch
OBJECT ENCODING r4
HSET h1 f1 v1 f2 v2
HSET h1 f1 v1
HMSET h1 f3 v3
HSETNX h1 f1 x
HSETNX h1 f9 x
HSETNX h2 f1 x
HINCRBY h1 n 5
HINCRBYFLOAT h1 fl 1.5
HINCRBY h1 f1 1
HDEL h1 f1 nosuchfield
HDEL h1 nosuch
HDEL nosuch f
HDEL h1 f2 f3 f9 n fl
HGET nosuch f
HMGET nosuch f g
HGETALL nosuch
HKEYS nosuch
HVALS nosuch
HLEN nosuch
HSTRLEN nosuch f
HEXISTS nosuch f
HRANDFIELD nosuch
HSCAN nosuch 0
HGET h2 f1
LPUSH l1 a b c
RPUSH l1 d
LPUSHX l1 e
RPUSHX l1 f
RPUSHX nosuch e
LPUSHX nosuch e
LPOP l1
RPOP l1 2
LPOP l1 0
LPOP nosuch
LSET l1 0 z
LSET l1 99 z
LINSERT l1 BEFORE z y
LINSERT l1 BEFORE nosuchpivot y
LINSERT nosuch BEFORE a b
LREM l1 0 nosuchval
LREM l1 1 y
LTRIM l1 0 -1
LMOVE l1 l2 LEFT RIGHT
LMOVE l1 l1 LEFT RIGHT
LMOVE nosuch l2 LEFT RIGHT
RPOPLPUSH l2 l2
RPOPLPUSH l1 l2
LMPOP 2 nosuch l2 LEFT COUNT 5
LMPOP 1 nosuch LEFT
LRANGE nosuch 0 -1
LLEN nosuch
LINDEX nosuch 0
LPOS nosuch a
RPUSH l3 a b c
LTRIM l3 5 10
RPUSH l4 a b
BLPOP l4 0
BRPOP l4 0
RPUSH l5 a
BLMOVE l5 l6 LEFT LEFT 0
BRPOPLPUSH l6 l7 0
RPUSH l8 a b c
BLMPOP 0 1 l8 RIGHT COUNT 5
SADD st1 a b c
SADD st1 a
SREM st1 a
SREM st1 nosuch
SREM nosuch a
SMOVE st1 st2 b
SMOVE st1 st2 nosuch
SMOVE st1 st1 c
SMOVE st1 st2 c
SADD st3 x y
?SPOP st3 5
SADD st3 x
SPOP st3
SPOP nosuch
SADD st5 c
SINTERSTORE st4 st2 nosuch
SINTERSTORE st4 st2 st5
SINTERSTORE st4 st2 nosuch
SUNIONSTORE st6 st2 st5
SDIFFSTORE st7 st2 st5
SDIFFSTORE st6 st2 st2
SUNIONSTORE st8 nosuch
SISMEMBER nosuch a
SMISMEMBER nosuch a
SMEMBERS nosuch
SCARD nosuch
SINTER nosuch st2
?SUNION nosuch st2
SDIFF nosuch st2
SINTERCARD 2 nosuch st2
SRANDMEMBER nosuch
SSCAN nosuch 0
ZADD z1 1 a 2 b 3 c
ZADD z1 1 a
ZADD z1 NX 5 a
ZADD z1 XX 5 nosuch
ZINCRBY z1 5 a
ZADD z1 INCR 1 a
ZINCRBY z9 1 a
ZREM z1 nosuch
ZREM z1 b
ZREMRANGEBYRANK z1 0 0
ZREMRANGEBYRANK z1 10 20
ZREMRANGEBYSCORE z1 -inf +inf
ZADD z2 1 a 2 b 3 c 4 d 5 e 6 f
ZREMRANGEBYLEX z2 [a [a
ZPOPMIN z2
ZPOPMAX z2 1
ZPOPMIN z2 0
ZPOPMIN nosuch
ZRANGESTORE z3 z2 0 -1
ZRANGESTORE z3 nosuch 0 -1
ZUNIONSTORE z4 2 z2 nosuch
ZINTERSTORE z5 2 z2 nosuch
ZDIFFSTORE z4 1 nosuch
ZINTERSTORE z6 1 z2
ZDIFFSTORE z6 2 z2 z6
ZMPOP 1 z2 MIN COUNT 1
ZMPOP 2 nosuch z2 MAX COUNT 10
ZMPOP 1 nosuch MAX
ZADD z7 1 a 2 b
BZPOPMIN z7 0
BZPOPMAX z7 0
ZADD z8 1 a 2 b
BZMPOP 0 1 z8 MAX COUNT 5
ZSCORE nosuch a
ZMSCORE nosuch a
ZRANGE nosuch 0 -1
ZRANGEBYSCORE nosuch 0 1
ZCARD nosuch
ZCOUNT nosuch 0 1
ZLEXCOUNT nosuch - +
ZRANK nosuch a
ZREVRANK nosuch a
ZRANDMEMBER nosuch
ZSCAN nosuch 0
ZUNION 1 nosuch
ZINTER 1 nosuch
ZDIFF 1 nosuch
ZINTERCARD 1 nosuch
SETBIT b1 7 1
SETBIT b1 7 1
SETBIT b1 100 0
GETBIT nosuch 0
BITCOUNT nosuch
BITPOS nosuch 1
BITOP OR b2 b1 nosuch
BITOP AND b3 nosuch nosuch2
BITOP AND b2 nosuch nosuch2
BITOP NOT b5 b1
BITFIELD b4 SET u8 0 255
BITFIELD b4 GET u8 0
BITFIELD b4 INCRBY u8 0 1
BITFIELD b4 OVERFLOW FAIL INCRBY u8 0 1
BITFIELD nosuch GET u8 0
BITFIELD_RO nosuch GET u8 0
PFADD p1 a b c
PFADD p1 a
PFADD p2
PFADD p2
PFCOUNT p1
PFCOUNT nosuch
PFMERGE p3 p1 p2
PFMERGE p3
PFMERGE p4 nosuch
PFCOUNT p1 nosuch
GEOADD g1 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
GEOADD g1 13.361389 38.115556 Palermo
GEOADD g1 XX 1 1 nosuch
GEOSEARCHSTORE g2 g1 FROMLONLAT 15 37 BYRADIUS 200 km ASC
GEOSEARCHSTORE g2 g1 FROMLONLAT 15 37 BYRADIUS 200 km ASC STOREDIST
GEORADIUS g1 15 37 200 km STORE g3
GEORADIUSBYMEMBER g1 Palermo 300 km STOREDIST g3
GEOSEARCHSTORE g2 g1 FROMLONLAT 0 0 BYRADIUS 1 km
GEOSEARCHSTORE g9 nosuch FROMLONLAT 0 0 BYRADIUS 1 km
GEORADIUS nosuch 15 37 200 km STORE g3
GEOPOS nosuch a
GEODIST nosuch a b
GEOHASH nosuch a
GEOSEARCH nosuch FROMLONLAT 0 0 BYRADIUS 1 km
GEORADIUS_RO nosuch 15 37 200 km
RPUSH sl 3 1 2
SORT sl STORE so1
SORT sl STORE so1
SORT nosuch STORE so1
SORT nosuch STORE so2
SORT sl
SORT nosuch
SORT_RO nosuch
SORT sl BY w_* GET o_* STORE so3
SET es1 v PX 100
HSET es2 f v
PEXPIRE es2 100
RPUSH es3 a
PEXPIRE es3 100
SET es4 v PX 100
SET es5 v PX 100
SADD es6 a
PEXPIRE es6 100
SLEEP
GET es1
HSET es2 f v
LLEN es3
SET es4 w
EXISTS es5
SISMEMBER es6 a
SET es7 v PX 100
RPUSH es8 a
PEXPIRE es8 100
SET es9 v PX 100
ZADD es10 1 a
PEXPIRE es10 100
SET es11 v PX 100
SLEEP
DEL es7
LPUSH es8 b
RENAME es9 x
ZADD es10 2 b
TTL es11
SELECT 1
SET d1 v
EXPIRE d1 100
HSET dh f v
RENAME d1 d2
MOVE d2 0
COPY dh dh2 DB 0
GET nosuch
SELECT 0
ZADD zo 1 a 2 b
ZADD zo GT CH 0 a 3 b
ZADD zo LT 5 a
ZADD zo NX INCR 1 a
ZADD zo XX INCR 1 a
RPUSH lr one
LMOVE lr lr RIGHT LEFT
LMOVE lr lr LEFT RIGHT
HSET hx f 1
HINCRBYFLOAT hx f x
HINCRBY hx f x
SET sx 1
INCRBYFLOAT sx x
APPEND sx ""
APPEND sx2 ""
SETRANGE sx 0 ""
SETRANGE sx3 0 ""
SETRANGE sx 1 ""
SET sx4 ""
LPUSH lx ""
HSET hx "" ""
SADD stx ""
ZADD zx 0 ""
BLOCK BLPOP bl1 0
SERVE RPUSH bl1 a b
BLOCK BRPOP bl1b 0
SERVE LPUSH bl1b a
BLOCK BLMOVE bl2 bl3 LEFT RIGHT 0
SERVE LPUSH bl2 x
BLOCK BRPOPLPUSH bl4 bl4 0
SERVE LPUSH bl4 x
BLOCK BLMPOP 0 1 bl5 RIGHT COUNT 2
SERVE RPUSH bl5 a b c
BLOCK BZPOPMIN bz1 0
SERVE ZADD bz1 1 a
BLOCK BZPOPMAX bz2 0
SERVE ZADD bz2 1 a 2 b
BLOCK BZMPOP 0 1 bz3 MIN COUNT 5
SERVE ZADD bz3 1 a 2 b
RPUSH blsrc x
BLOCK BLPOP bl6 0
SERVE LMOVE blsrc bl6 LEFT LEFT
FLUSHDB
SWAPDB 0 1
FLUSHALL
`

// notifySettings are the notify-keyspace-events values the differential
// test runs the script under.
// ("A" alone and "" publish nothing: neither K nor E is set.)
var notifySettings = []string{"KEA", "Kl", "E$", "Ex", "Kgx", "KEAm", "KEn", "AKEnm", "Eshz", "Km", "A", ""}

// notifyDiff runs notifyScript against kvd (with opts) and a real
// redis-server 7.0.15 under every setting, and compares each command's
// reply and the notifications it caused, in order.
func notifyDiff(t *testing.T, opts ...func(*server.Config)) {
	sock := redistest.Start(t, "--enable-debug-command", "yes")
	ks := servertest.Start(t, opts...)
	rp := newNotifyPeer(t, "redis", "unix", sock)
	kp := newNotifyPeer(t, "kvd", "tcp", ks.Addr)
	peers := []*notifyPeer{rp, kp}
	for _, p := range peers {
		// Keys expire lazily only: the script's SLEEP must not race with an
		// active expiry cycle.
		if r := p.cmd.do(t, "DEBUG", "SET-ACTIVE-EXPIRE", "0"); r != "+OK" {
			t.Fatalf("%s: DEBUG SET-ACTIVE-EXPIRE: %s", p.name, r)
		}
	}
	var lines [][]string
	for _, l := range strings.Split(notifyScript, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			for i, a := range f {
				if a == `""` {
					f[i] = "" // an empty argument
				}
			}
			lines = append(lines, f)
		}
	}
	failures := 0
	for _, setting := range notifySettings {
		for _, p := range peers {
			p.cmd.do(t, "SELECT", "0")
			p.cmd.do(t, "FLUSHALL")
			if r := p.cmd.do(t, "CONFIG", "SET", "notify-keyspace-events", setting); r != "+OK" {
				t.Fatalf("%s: CONFIG SET %q: %s", p.name, setting, r)
			}
			p.sync(t)
		}
		for _, args := range lines {
			if args[0] == "SLEEP" {
				// The keys given 100 ms to live are then expired on both.
				// (Not 1 ms: PEXPIRE k 1 may already count as in the past
				// when a loaded machine delays the command by a
				// millisecond, and then Redis deletes instead of setting
				// an expiry, on one server and not the other.)
				time.Sleep(150 * time.Millisecond)
				continue
			}
			cmpReply := true
			if strings.HasPrefix(args[0], "?") {
				cmpReply = false
				args = append([]string{args[0][1:]}, args[1:]...)
			}
			rr, rev := rp.step(t, args)
			kr, kev := kp.step(t, args)
			line := strings.Join(args, " ")
			if os.Getenv("NOTIFY_DEBUG") != "" {
				t.Logf("[%s] %s -> %q %q | %q %q", setting, line, rr, rev, kr, kev)
			}
			if cmpReply && rr != kr {
				t.Errorf("[%s] %s: reply %q, redis %q", setting, line, kr, rr)
				failures++
			}
			if fmt.Sprint(rev) != fmt.Sprint(kev) {
				t.Errorf("[%s] %s:\n  kvd   %q\n  redis %q", setting, line, kev, rev)
				failures++
			}
			if failures > 40 {
				t.Fatal("too many differences")
			}
		}
	}
}

// TestNotifyDiffRedis: the notifications of every command family, under
// ten notify-keyspace-events settings, are exactly Redis 7.0's (channel,
// message and order), with one worker and with keys spread over several
// (cross-worker RENAME, SMOVE, LMOVE, COPY... run as barriers).
func TestNotifyDiffRedis(t *testing.T) {
	t.Run("workers=1", func(t *testing.T) { notifyDiff(t, servertest.Workers(1)) })
	t.Run("workers=3", func(t *testing.T) { notifyDiff(t, servertest.Workers(3)) })
}

// TestNotifyConfig: CONFIG SET notify-keyspace-events accepts and refuses
// exactly what Redis does, with its error, and CONFIG GET reports Redis's
// canonical form.
func TestNotifyConfig(t *testing.T) {
	sock := redistest.Start(t)
	rc := notifyDial(t, "unix", sock)
	kc := servertest.Start(t).Raw()
	for _, v := range []string{"", "KEA", "AKE", "g$lshzxetdKE", "A", "Ag$", "nmEKgd", "AKEnm", "An",
		"x", "K", "E", "m", "lK", "$E", "tKE", "eK", "Ex", "EKxegt", "KEA m", "gq", "KEA ", "a", "1", "kea", "Ad", "dn"} {
		want := rc.do(t, "CONFIG", "SET", "notify-keyspace-events", v)
		if got := kc.Do("CONFIG", "SET", "notify-keyspace-events", v); got != want {
			t.Errorf("CONFIG SET notify-keyspace-events %q: %q, redis %q", v, got, want)
		}
		want = rc.do(t, "CONFIG", "GET", "notify-keyspace-events")
		if got := kc.Do("CONFIG", "GET", "notify-keyspace-events"); got != want {
			t.Errorf("after SET %q: CONFIG GET %q, redis %q", v, got, want)
		}
	}
	want := "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
	if got := kc.Do("CONFIG", "SET", "notify-keyspace-events", "KEQ"); got != want {
		t.Errorf("invalid class: %q", got)
	}

	// The configuration file and the command line go through the same
	// validation.
	cfg := server.DefaultConfig()
	if err := cfg.Load(strings.NewReader("notify-keyspace-events KEx\n"), "test.conf"); err != nil {
		t.Fatal(err)
	}
	if v, _ := cfg.Get("notify-keyspace-events"); v != "xKE" {
		t.Errorf("from file: %q, want xKE", v)
	}
	if err := cfg.Load(strings.NewReader("notify-keyspace-events KEy\n"), "test.conf"); err == nil || !strings.Contains(err.Error(), "Invalid event class character") {
		t.Errorf("invalid class in file: %v", err)
	}
}

// TestNotifyParse: the class parser and printer (Redis's
// keyspaceEventsStringToFlags / keyspaceEventsFlagsToString).
func TestNotifyParse(t *testing.T) {
	for _, c := range []struct {
		in, out string
		ok      bool
	}{
		{"", "", true}, {"KEA", "AKE", true}, {"g$lshzxetd", "A", true}, {"g$lshzxet", "g$lshzxet", true},
		{"An", "A", true}, {"nA", "A", true}, {"mn", "nm", true}, {"EK", "KE", true}, {"Q", "", false}, {"K E", "", false},
	} {
		f, ok := server.ParseNotifyClasses(c.in)
		if ok != c.ok || (ok && f.String() != c.out) {
			t.Errorf("%q: %q %v, want %q %v", c.in, f.String(), ok, c.out, c.ok)
		}
	}
	if f, _ := server.ParseNotifyClasses("An"); f&server.NotifyNew == 0 {
		t.Error("A then n: the n class is lost")
	}
}

// TestNotifyExpiryClock: with an injected clock, a key past its time is
// reclaimed with "expired" when a command finds it (lazily: then "keymiss"
// for a read) and by the active expiry cycle; nothing is published for a
// key whose time has not come.
func TestNotifyExpiryClock(t *testing.T) {
	var now atomic.Int64
	now.Store(1_700_000_000_000)
	s := servertest.Start(t, servertest.Workers(2), servertest.Clock(now.Load))
	p := newNotifyPeer(t, "kvd", "tcp", s.Addr)
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got  %q\n want %q", what, got, want)
		}
	}
	p.cmd.do(t, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	p.cmd.do(t, "CONFIG", "SET", "notify-keyspace-events", "KEA")
	p.sync(t)

	// Lazy expiry: a read sees "expired" (and, with m, "keymiss").
	p.cmd.do(t, "SET", "k1", "v", "PX", "100")
	p.cmd.do(t, "HSET", "k2", "f", "v")
	p.cmd.do(t, "PEXPIRE", "k2", "100")
	p.sync(t)
	_, ev := p.step(t, []string{"GET", "k1"})
	check("GET before the time", ev)
	now.Add(100)
	_, ev = p.step(t, []string{"GET", "k1"})
	check("GET at the time", ev, "__keyspace@0__:k1 expired", "__keyevent@0__:expired k1")
	p.cmd.do(t, "CONFIG", "SET", "notify-keyspace-events", "KEAm")
	_, ev = p.step(t, []string{"HGET", "k2", "f"})
	check("HGET at the time", ev, "__keyspace@0__:k2 expired", "__keyevent@0__:expired k2",
		"__keyspace@0__:k2 keymiss", "__keyevent@0__:keymiss k2")
	_, ev = p.step(t, []string{"HGET", "k2", "f"})
	check("HGET again", ev, "__keyspace@0__:k2 keymiss", "__keyevent@0__:keymiss k2")

	// Active expiry, in several databases and on both workers.
	p.cmd.do(t, "CONFIG", "SET", "notify-keyspace-events", "Ex")
	want := map[string]bool{}
	for db := 0; db < 3; db++ {
		p.cmd.do(t, "SELECT", strconv.Itoa(db))
		for i := 0; i < 20; i++ {
			k := "a" + strconv.Itoa(i)
			p.cmd.do(t, "SET", k, "v", "PX", strconv.Itoa(10+i))
			want[fmt.Sprintf("__keyevent@%d__:expired %s", db, k)] = true
		}
		p.cmd.do(t, "SET", "stays", "v", "PX", "100000")
	}
	p.cmd.do(t, "SELECT", "0")
	p.sync(t)
	s.Engine().RunExpireCycle()
	check("active cycle before the time", p.sync(t))
	now.Add(1000)
	s.Engine().RunExpireCycle()
	got := map[string]bool{}
	for _, e := range p.sync(t) {
		if got[e] {
			t.Errorf("published twice: %q", e)
		}
		got[e] = true
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("active expiry events:\n got  %v\n want %v", got, want)
	}
	if r := p.cmd.do(t, "DBSIZE"); r != ":1" {
		t.Errorf("DBSIZE after the cycle: %s", r)
	}

	// The periodic cycle (DEBUG SET-ACTIVE-EXPIRE 1) publishes too.
	p.cmd.do(t, "SET", "b", "v", "PX", "10")
	p.sync(t)
	now.Add(1000)
	p.cmd.do(t, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
	for deadline := time.Now().Add(10 * time.Second); p.cmd.do(t, "DBSIZE") != ":1"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the active expiry cycle did not run")
		}
	}
	check("periodic cycle", p.sync(t), "__keyevent@0__:expired b")
}

// TestNotifyUnsubscribedOff: nothing reaches a subscriber once
// notify-keyspace-events is cleared, and a client subscribed to one key's
// channel receives only that key's events.
func TestNotifyUnsubscribedOff(t *testing.T) {
	s := servertest.Start(t)
	p := newNotifyPeer(t, "kvd", "tcp", s.Addr)
	one := notifyDial(t, "tcp", s.Addr)
	one.send("SUBSCRIBE", "__keyspace@0__:mykey")
	one.readPush(t)
	p.cmd.do(t, "CONFIG", "SET", "notify-keyspace-events", "K$")
	p.cmd.do(t, "SET", "other", "v")
	p.cmd.do(t, "SET", "mykey", "v")
	if m := one.readPush(t); fmt.Sprint(m) != "[message __keyspace@0__:mykey set]" {
		t.Errorf("SUBSCRIBE to one key: %q", m)
	}
	p.sync(t)
	p.cmd.do(t, "CONFIG", "SET", "notify-keyspace-events", "")
	for _, c := range [][]string{{"SET", "mykey", "w"}, {"DEL", "mykey"}, {"LPUSH", "l", "a"}, {"GET", "nosuch"}} {
		if _, ev := p.step(t, c); len(ev) != 0 {
			t.Errorf("%v with notifications off: %q", c, ev)
		}
	}
}

// TestNotifyConcurrent: clients writing at the same time on several workers
// (with split MSET/DEL turned into barriers while notifications are on)
// lose no event and never reorder one key's events.
func TestNotifyConcurrent(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	p := newNotifyPeer(t, "kvd", "tcp", s.Addr)
	p.cmd.do(t, "CONFIG", "SET", "notify-keyspace-events", "K$g")
	const clients, rounds = 4, 150
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		conn := notifyDial(t, "tcp", s.Addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := "c" + strconv.Itoa(c)
			for i := 0; i < rounds; i++ {
				// Pipelined: INCR, then an MSET and a DEL spanning workers.
				conn.send("INCR", k)
				conn.send("MSET", k+"a", "1", k+"b", "2", k+"c", "3")
				conn.send("DEL", k+"a", k+"b", k+"c")
				for j := 0; j < 3; j++ {
					conn.c.SetReadDeadline(time.Now().Add(10 * time.Second))
					if _, err := servertest.ReadReply(conn.br); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	got := map[string][]string{}
	for _, e := range p.sync(t) {
		ch, ev, _ := strings.Cut(e, " ")
		got[ch] = append(got[ch], ev)
	}
	for c := 0; c < clients; c++ {
		k := "c" + strconv.Itoa(c)
		if n := len(got["__keyspace@0__:"+k]); n != rounds {
			t.Errorf("%s: %d incrby events, want %d", k, n, rounds)
		}
		for _, sfx := range []string{"a", "b", "c"} {
			evs := got["__keyspace@0__:"+k+sfx]
			if len(evs) != 2*rounds {
				t.Errorf("%s%s: %d events, want %d", k, sfx, len(evs), 2*rounds)
				continue
			}
			for i := 0; i < len(evs); i += 2 {
				if evs[i] != "set" || evs[i+1] != "del" {
					t.Fatalf("%s%s: events %d..%d are %q, want set then del", k, sfx, i, i+1, evs[i:i+2])
				}
			}
		}
	}
}
