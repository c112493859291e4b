package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/bits"
	"math/rand"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
)

// bmConn is a minimal RESP2 connection used to compare kvd with a real
// redis-server reply for reply (both rendered the same way).
type bmConn struct {
	c net.Conn
	r *bufio.Reader
}

func bmDial(t testing.TB, network, addr string) *bmConn {
	t.Helper()
	var c net.Conn
	var err error
	for i := 0; i < 300; i++ {
		if c, err = net.Dial(network, addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &bmConn{c: c, r: bufio.NewReaderSize(c, 1<<16)}
}

// send writes one command without reading its reply (pipelining).
func (x *bmConn) send(t testing.TB, args ...string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	x.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(x.c, b.String()); err != nil {
		t.Fatal(err)
	}
}

func (x *bmConn) recv(t testing.TB) string {
	t.Helper()
	s, err := x.read()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (x *bmConn) do(t testing.TB, args ...string) string {
	t.Helper()
	x.send(t, args...)
	return x.recv(t)
}

func (x *bmConn) read() (string, error) {
	line, err := x.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", io.ErrUnexpectedEOF
	}
	switch line[0] {
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(x.r, buf); err != nil {
			return "", err
		}
		return "$" + string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)", nil
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = x.read(); err != nil {
				return "", err
			}
		}
		return "*[" + strings.Join(parts, " ") + "]", nil
	}
	return line, nil
}

// bmRedis starts a private redis-server 7.0.15 on a unix socket and returns
// a connection to it; the test is skipped when it is not installed (failed
// under KVD_REQUIRE_TOOLS=1).
func bmRedis(t *testing.T) *bmConn {
	t.Helper()
	c := bmDial(t, "unix", redistest.Start(t))
	if v := c.do(t, "INFO", "server"); !strings.Contains(v, "redis_version:7.0.") {
		t.Logf("redis-server is not 7.0: %.80q", v)
	}
	return c
}

// bmPair is one kvd server and one redis-server fed the same commands.
type bmPair struct {
	redis, kvd *bmConn
	s          *servertest.Server
}

func bmStartPair(t *testing.T, workers int) *bmPair {
	t.Helper()
	r := bmRedis(t)
	s := servertest.Start(t, servertest.Workers(workers))
	return &bmPair{redis: r, kvd: bmDial(t, "tcp", s.Addr), s: s}
}

// both runs a command on both servers and fails the test when the replies
// differ; it returns kvd's reply.
func (p *bmPair) both(t *testing.T, args ...string) string {
	t.Helper()
	want, got := p.redis.do(t, args...), p.kvd.do(t, args...)
	if want != got {
		t.Errorf("%q\n   redis: %.300q\n   kvd:   %.300q", args, want, got)
	}
	return got
}

func bmStart(t *testing.T, workers int) (*servertest.Server, *atomic.Int64) {
	t.Helper()
	now := new(atomic.Int64)
	now.Store(1_700_000_000_000)
	return servertest.Start(t, servertest.Workers(workers), servertest.Clock(now.Load)), now
}

type bmCase struct {
	args []string
	want string
}

func bmRun(t *testing.T, r *servertest.Raw, cases []bmCase) {
	t.Helper()
	for _, c := range cases {
		if got := r.Do(c.args...); got != c.want {
			t.Errorf("%q\n   got  %q\n   want %q", c.args, got, c.want)
		}
	}
}

func bmPutList(s *servertest.Server, key string) {
	e := s.Engine()
	e.Do(func(w *shard.Worker) {
		db := e.DB(w, 0)
		db.Add([]byte(key), &shard.Object{Kind: shard.KindList})
	})
}

// TestBitmapClients runs the family through go-redis in RESP2 and RESP3.
func TestBitmapClients(t *testing.T) {
	s, _ := bmStart(t, 4)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		k := func(n string) string { return fmt.Sprintf("{p%d}%s", proto, n) }
		check := func(what string, got, want any, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("RESP%d %s: %v", proto, what, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("RESP%d %s = %v, want %v", proto, what, got, want)
			}
		}
		v, err := c.SetBit(ctx, k("b"), 7, 1).Result()
		check("setbit", v, 0, err)
		v, err = c.SetBit(ctx, k("b"), 7, 0).Result()
		check("setbit again", v, 1, err)
		c.SetBit(ctx, k("b"), 100, 1)
		v, err = c.GetBit(ctx, k("b"), 100).Result()
		check("getbit", v, 1, err)
		v, err = c.GetBit(ctx, k("b"), 1<<20).Result()
		check("getbit far", v, 0, err)
		v, err = c.StrLen(ctx, k("b")).Result()
		check("strlen", v, 13, err)

		c.Set(ctx, k("s"), "foobar", 0)
		v, err = c.BitCount(ctx, k("s"), nil).Result()
		check("bitcount", v, 26, err)
		v, err = c.BitCount(ctx, k("s"), &redis.BitCount{Start: 1, End: 1}).Result()
		check("bitcount byte", v, 6, err)
		v, err = c.BitCount(ctx, k("s"), &redis.BitCount{Start: 5, End: 30, Unit: "BIT"}).Result()
		check("bitcount bit", v, 17, err)
		v, err = c.BitPos(ctx, k("s"), 1).Result()
		check("bitpos", v, 1, err)
		v, err = c.BitPos(ctx, k("s"), 0, 2, -1).Result()
		check("bitpos range", v, 16, err)
		v, err = c.BitPosSpan(ctx, k("s"), 1, 7, 15, "bit").Result()
		check("bitpos bit", v, 9, err)

		c.Set(ctx, k("x"), "\xff\x0f", 0)
		c.Set(ctx, k("y"), "\x0f", 0)
		v, err = c.BitOpAnd(ctx, k("d"), k("x"), k("y")).Result()
		check("bitop and", v, 2, err)
		sv, err := c.Get(ctx, k("d")).Result()
		check("and result", []byte(sv), []byte("\x0f\x00"), err)
		c.BitOpOr(ctx, k("d"), k("x"), k("y"))
		sv, err = c.Get(ctx, k("d")).Result()
		check("or result", []byte(sv), []byte("\xff\x0f"), err)
		c.BitOpXor(ctx, k("d"), k("x"), k("y"))
		sv, err = c.Get(ctx, k("d")).Result()
		check("xor result", []byte(sv), []byte("\xf0\x0f"), err)
		c.BitOpNot(ctx, k("d"), k("y"))
		sv, err = c.Get(ctx, k("d")).Result()
		check("not result", []byte(sv), []byte("\xf0"), err)
		v, err = c.BitOpOr(ctx, k("d"), k("none")).Result()
		check("bitop empty", v, 0, err)
		v, err = c.Exists(ctx, k("d")).Result()
		check("empty result deleted", v, 0, err)

		vs, err := c.BitField(ctx, k("f"), "SET", "i8", 0, 100, "INCRBY", "i8", 0, 100, "GET", "u4", "#1", "OVERFLOW", "SAT", "INCRBY", "u8", 8, 300).Result()
		check("bitfield", vs, []int64{0, -56, 8, 255}, err)
		vs, err = c.BitFieldRO(ctx, k("f"), "i8", 0, "u8", 8).Result() // go-redis adds GET
		check("bitfield_ro", vs, []int64{-56, 255}, err)
		_, err = c.Do(ctx, "bitfield_ro", k("f"), "SET", "i8", 0, 1).Result()
		if err == nil || err.Error() != "ERR BITFIELD_RO only supports the GET subcommand" {
			t.Errorf("RESP%d bitfield_ro set: %v", proto, err)
		}
	}
}

// TestBitmapErrors checks exact error texts and the order in which Redis
// 7.0 checks arguments, key existence and type.
func TestBitmapErrors(t *testing.T) {
	s, _ := bmStart(t, 2)
	r := s.Raw()
	bmPutList(s, "l")
	r.Do("SET", "s", "foobar")
	const (
		wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"
		offErr    = "-ERR bit offset is not an integer or out of range"
		bitErr    = "-ERR bit is not an integer or out of range"
		notInt    = "-ERR value is not an integer or out of range"
		syntax    = "-ERR syntax error"
		bfType    = "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	)
	bmRun(t, r, []bmCase{
		{[]string{"SETBIT", "k"}, "-ERR wrong number of arguments for 'setbit' command"},
		{[]string{"SETBIT", "k", "4294967296", "1"}, offErr},
		{[]string{"SETBIT", "k", "-1", "1"}, offErr},
		{[]string{"SETBIT", "k", "01", "1"}, offErr},
		{[]string{"SETBIT", "k", "+1", "1"}, offErr},
		{[]string{"SETBIT", "k", " 1", "1"}, offErr},
		{[]string{"SETBIT", "k", "1", "2"}, bitErr},
		{[]string{"SETBIT", "k", "1", "-1"}, bitErr},
		{[]string{"SETBIT", "k", "1", "x"}, bitErr},
		{[]string{"SETBIT", "l", "x", "1"}, offErr},
		{[]string{"SETBIT", "l", "1", "x"}, bitErr},
		{[]string{"SETBIT", "l", "1", "1"}, wrongType},
		{[]string{"EXISTS", "k"}, ":0"},
		{[]string{"GETBIT", "k", "x"}, offErr},
		{[]string{"GETBIT", "l", "x"}, offErr},
		{[]string{"GETBIT", "l", "0"}, wrongType},
		{[]string{"GETBIT", "k", "99999999999999"}, offErr},
		{[]string{"GETBIT", "k", "4294967295"}, ":0"},

		{[]string{"BITCOUNT"}, "-ERR wrong number of arguments for 'bitcount' command"},
		{[]string{"BITCOUNT", "nokey", "a", "b"}, ":0"},
		{[]string{"BITCOUNT", "nokey", "1"}, ":0"},
		{[]string{"BITCOUNT", "l"}, wrongType},
		{[]string{"BITCOUNT", "l", "a"}, wrongType},
		{[]string{"BITCOUNT", "s", "1"}, syntax},
		{[]string{"BITCOUNT", "s", "a", "b"}, notInt},
		{[]string{"BITCOUNT", "s", "1", "b"}, notInt},
		{[]string{"BITCOUNT", "s", "-1", "-5", "foo"}, ":0"},
		{[]string{"BITCOUNT", "s", "0", "-1", "foo"}, syntax},
		{[]string{"BITCOUNT", "s", "0", "-1", "bit", "x"}, syntax},
		{[]string{"BITCOUNT", "s", "0", "-1", "BiT"}, ":26"},
		{[]string{"BITCOUNT", "s", "0", "-1", "byte"}, ":26"},

		{[]string{"BITPOS", "s"}, "-ERR wrong number of arguments for 'bitpos' command"},
		{[]string{"BITPOS", "nokey", "a"}, notInt},
		{[]string{"BITPOS", "nokey", "2"}, "-ERR The bit argument must be 1 or 0."},
		{[]string{"BITPOS", "l", "2"}, "-ERR The bit argument must be 1 or 0."},
		{[]string{"BITPOS", "nokey", "1", "x"}, ":-1"},
		{[]string{"BITPOS", "nokey", "0", "x"}, ":0"},
		{[]string{"BITPOS", "l", "1"}, wrongType},
		{[]string{"BITPOS", "s", "0", "a"}, notInt},
		{[]string{"BITPOS", "s", "0", "a", "b", "foo"}, notInt},
		{[]string{"BITPOS", "s", "0", "1", "x", "foo"}, syntax},
		{[]string{"BITPOS", "s", "0", "1", "x", "bit"}, notInt},
		{[]string{"BITPOS", "s", "0", "1", "2", "3", "4"}, syntax},
		{[]string{"BITPOS", "s", "1", "-1", "-5"}, ":-1"},

		{[]string{"BITOP", "and", "d"}, "-ERR wrong number of arguments for 'bitop' command"},
		{[]string{"BITOP", "nand", "d", "s"}, syntax},
		{[]string{"BITOP", "not", "d", "s", "s"}, "-ERR BITOP NOT must be called with a single source key."},
		{[]string{"BITOP", "not", "d", "l"}, wrongType},
		{[]string{"BITOP", "or", "d", "s", "l"}, wrongType},
		{[]string{"EXISTS", "d"}, ":0"},

		{[]string{"BITFIELD"}, "-ERR wrong number of arguments for 'bitfield' command"},
		{[]string{"BITFIELD", "s"}, "*[]"},
		{[]string{"BITFIELD", "l"}, wrongType},
		{[]string{"BITFIELD", "l", "GET", "u8", "0"}, wrongType},
		{[]string{"BITFIELD", "l", "SET", "u8", "0", "1"}, wrongType},
		{[]string{"BITFIELD", "s", "OVERFLOW", "foo"}, "-ERR Invalid OVERFLOW type specified"},
		{[]string{"BITFIELD", "s", "OVERFLOW"}, syntax},
		{[]string{"BITFIELD", "s", "GET", "u8"}, syntax},
		{[]string{"BITFIELD", "s", "SET", "u8", "0"}, syntax},
		{[]string{"BITFIELD", "s", "FOO", "u8", "0"}, syntax},
		{[]string{"BITFIELD", "s", "GET", "u64", "0"}, bfType},
		{[]string{"BITFIELD", "s", "GET", "i65", "0"}, bfType},
		{[]string{"BITFIELD", "s", "GET", "u0", "0"}, bfType},
		{[]string{"BITFIELD", "s", "GET", "U8", "0"}, bfType},
		{[]string{"BITFIELD", "s", "GET", "u08", "0"}, bfType},
		{[]string{"BITFIELD", "s", "GET", "", "0"}, bfType},
		{[]string{"BITFIELD", "s", "GET", "u8", "#"}, offErr},
		{[]string{"BITFIELD", "s", "GET", "u8", "#-1"}, offErr},
		{[]string{"BITFIELD", "s", "GET", "i64", "#134217728"}, offErr},
		{[]string{"BITFIELD", "s", "GET", "i64", "#67108863"}, "*[:0]"},
		{[]string{"BITFIELD", "s", "GET", "u8", "4294967296"}, offErr},
		{[]string{"BITFIELD", "s", "SET", "u8", "0", "x"}, notInt},
		{[]string{"BITFIELD", "s", "SET", "i8", "0", "99999999999999999999"}, notInt},
		{[]string{"BITFIELD", "s", "GET", "u8", "#1"}, "*[:111]"},
		// Every argument is checked before anything is done.
		{[]string{"BITFIELD", "nk", "SET", "u8", "0", "1", "GET", "u64", "0"}, bfType},
		{[]string{"EXISTS", "nk"}, ":0"},
		{[]string{"BITFIELD", "nk", "GET", "u8", "0"}, "*[:0]"},
		{[]string{"EXISTS", "nk"}, ":0"},
		{[]string{"BITFIELD_RO", "s", "SET", "u8", "0", "1"}, "-ERR BITFIELD_RO only supports the GET subcommand"},
		{[]string{"BITFIELD_RO", "l", "INCRBY", "u8", "0", "1"}, "-ERR BITFIELD_RO only supports the GET subcommand"},
		{[]string{"BITFIELD_RO", "l", "GET", "u8", "0"}, wrongType},
		{[]string{"BITFIELD_RO", "s"}, "*[]"},
		{[]string{"BITFIELD_RO", "s", "GET", "u8", "0", "GET", "i64", "3"}, "*[:102 :3709694039798317056]"},
		// FAIL answers nil and leaves the field alone.
		{[]string{"BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5", "SET", "u2", "0", "4", "SET", "u2", "0", "3", "GET", "u2", "0"}, "*[(nil) (nil) :0 :3]"},
	})
}

// TestBitmapOffsetLimit checks that offsets follow proto-max-bulk-len.
func TestBitmapOffsetLimit(t *testing.T) {
	s, _ := bmStart(t, 1)
	r := s.Raw()
	bmRun(t, r, []bmCase{
		{[]string{"CONFIG", "SET", "proto-max-bulk-len", "1mb"}, "+OK"},
		{[]string{"SETBIT", "k", "8388608", "1"}, "-ERR bit offset is not an integer or out of range"},
		{[]string{"GETBIT", "k", "8388608"}, "-ERR bit offset is not an integer or out of range"},
		{[]string{"BITFIELD", "k", "GET", "u8", "8388608"}, "-ERR bit offset is not an integer or out of range"},
		{[]string{"SETBIT", "k", "8388607", "1"}, ":0"},
		{[]string{"STRLEN", "k"}, ":1048576"},
		{[]string{"BITCOUNT", "k"}, ":1"},
		{[]string{"BITPOS", "k", "1"}, ":8388607"},
		{[]string{"BITPOS", "k", "0", "-1"}, ":8388600"},
		// A field may reach past the limit when its offset is inside it.
		{[]string{"BITFIELD", "k", "SET", "u8", "8388607", "255"}, "*[:128]"},
		{[]string{"STRLEN", "k"}, ":1048577"},
	})
}

// TestBitmapInPlace checks what SETBIT, BITFIELD and BITOP do to the
// stored object: in-place raw strings that keep their expiry, BITOP
// replacing the destination like SET.
func TestBitmapInPlace(t *testing.T) {
	s, now := bmStart(t, 2)
	r := s.Raw()
	bmRun(t, r, []bmCase{
		{[]string{"SET", "k", "12"}, "+OK"},
		{[]string{"OBJECT", "ENCODING", "k"}, "$int"},
		{[]string{"GETBIT", "k", "2"}, ":1"},
		{[]string{"OBJECT", "ENCODING", "k"}, "$int"},
		{[]string{"PEXPIRE", "k", "10000"}, ":1"},
		{[]string{"SETBIT", "k", "15", "1"}, ":0"},
		{[]string{"GET", "k"}, "$13"},
		{[]string{"OBJECT", "ENCODING", "k"}, "$raw"},
		{[]string{"PTTL", "k"}, ":10000"},
		{[]string{"BITFIELD", "k", "SET", "u8", "16", "65"}, "*[:0]"},
		{[]string{"GET", "k"}, "$13A"},
		{[]string{"PTTL", "k"}, ":10000"},
		{[]string{"SETBIT", "new", "0", "0"}, ":0"},
		{[]string{"OBJECT", "ENCODING", "new"}, "$raw"},
		{[]string{"GET", "new"}, "$\x00"},
		{[]string{"SET", "d", "x", "PX", "5000"}, "+OK"},
		{[]string{"BITOP", "NOT", "d", "k"}, ":3"},
		{[]string{"PTTL", "d"}, ":-1"},
		{[]string{"OBJECT", "ENCODING", "d"}, "$raw"},
		{[]string{"BITOP", "AND", "d", "d", "k"}, ":3"},
		{[]string{"GET", "d"}, "$\x00\x00\x00"},
	})
	now.Add(10_000)
	bmRun(t, r, []bmCase{
		{[]string{"GETBIT", "k", "15"}, ":0"},
		{[]string{"EXISTS", "k"}, ":0"},
	})
	// The argument bytes are not kept: overwrite the request buffer.
	r.Do("SETBIT", "z", "3", "1")
	r.Do("SET", "pad", strings.Repeat("y", 100))
	bmRun(t, r, []bmCase{{[]string{"GET", "z"}, "$\x10"}})
}

// TestBitmapCrossWorker runs BITOP with keys owned by different workers:
// the dispatcher makes it one atomic call.
func TestBitmapCrossWorker(t *testing.T) {
	s, _ := bmStart(t, 4)
	c := s.Client(2)
	ctx := context.Background()
	keys := make([]string, 16)
	for i := range keys {
		keys[i] = fmt.Sprintf("src%d", i)
		c.SetBit(ctx, keys[i], int64(i), 1)
	}
	n, err := c.BitOpOr(ctx, "dst", keys...).Result()
	if err != nil || n != 2 {
		t.Fatalf("bitop: %d %v", n, err)
	}
	if v, _ := c.Get(ctx, "dst").Result(); v != "\xff\xff" {
		t.Fatalf("dst = %q", v)
	}
	n, _ = c.BitOpAnd(ctx, "dst", keys...).Result()
	if v, _ := c.Get(ctx, "dst").Result(); n != 2 || v != "\x00\x00" {
		t.Fatalf("and = %d %q", n, v)
	}
}

// bmModel is the reference for the randomized test: a bit array per key.
type bmModel map[string][]bool

func (m bmModel) setbit(k string, off int, v bool) int64 {
	b := m[k]
	if need := (off/8 + 1) * 8; len(b) < need {
		b = append(b, make([]bool, need-len(b))...)
	}
	old := b[off]
	b[off] = v
	m[k] = b
	return bmBool(old)
}

func bmBool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// span turns a Redis start/end pair into a bit range [lo, hi] (hi < lo
// when empty) over a string of nbits bits.
func bmSpan(start, end int64, nbits int, isBit bool) (int64, int64) {
	total := int64(nbits / 8)
	if isBit {
		total = int64(nbits)
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	end = min(end, total-1)
	if !isBit {
		return start * 8, end*8 + 7
	}
	return start, end
}

func (m bmModel) bitcount(k string, rng []int64, isBit bool) int64 {
	b, ok := m[k]
	if !ok {
		return 0
	}
	lo, hi := int64(0), int64(len(b)-1)
	if rng != nil {
		if rng[0] < 0 && rng[1] < 0 && rng[0] > rng[1] {
			return 0
		}
		lo, hi = bmSpan(rng[0], rng[1], len(b), isBit)
	}
	var n int64
	for i := lo; i <= hi; i++ {
		n += bmBool(b[i])
	}
	return n
}

// bitpos: rng holds start, or start and end.
func (m bmModel) bitpos(k string, bit bool, rng []int64, isBit bool) int64 {
	b, ok := m[k]
	if !ok {
		if bit {
			return -1
		}
		return 0
	}
	lo, hi := int64(0), int64(len(b)-1)
	endGiven := len(rng) == 2
	switch len(rng) {
	case 1:
		lo, hi = bmSpan(rng[0], -1, len(b), false)
	case 2:
		lo, hi = bmSpan(rng[0], rng[1], len(b), isBit)
	}
	if lo > hi {
		return -1
	}
	for i := lo; i <= hi; i++ {
		if b[i] == bit {
			return i
		}
	}
	if bit || endGiven {
		return -1
	}
	return hi + 1 // clear bits: the string is zero-padded on the right
}

// TestBitmapModel applies thousands of random SETBIT, GETBIT, BITCOUNT and
// BITPOS calls to kvd (alternating RESP2 and RESP3 clients) and to an
// in-test bit array model, comparing every reply.
func TestBitmapModel(t *testing.T) {
	s, _ := bmStart(t, 4)
	ctx := context.Background()
	clients := []*redis.Client{s.Client(2), s.Client(3)}
	rng := rand.New(rand.NewSource(7))
	model := bmModel{}
	keys := []string{"a", "b", "c", "d", "e"}
	ri := func(n int) int64 { return int64(rng.Intn(2*n+1) - n) }
	units := []string{"", "BYTE", "BIT", "bit"}
	for i := 0; i < 6000; i++ {
		c := clients[i%2]
		k := keys[rng.Intn(len(keys))]
		nbits := len(model[k])
		var got, want int64
		var err error
		var desc string
		switch op := rng.Intn(10); {
		case op < 4:
			off := rng.Intn(300)
			if rng.Intn(20) == 0 {
				off = rng.Intn(5000)
			}
			v := rng.Intn(2)
			desc = fmt.Sprintf("SETBIT %s %d %d", k, off, v)
			got, err = c.SetBit(ctx, k, int64(off), v).Result()
			want = model.setbit(k, off, v == 1)
		case op < 6:
			off := rng.Intn(nbits + 20)
			desc = fmt.Sprintf("GETBIT %s %d", k, off)
			got, err = c.GetBit(ctx, k, int64(off)).Result()
			if off < nbits {
				want = bmBool(model[k][off])
			}
		case op < 8:
			unit := units[rng.Intn(len(units))]
			if rng.Intn(4) == 0 {
				desc = "BITCOUNT " + k
				got, err = c.BitCount(ctx, k, nil).Result()
				want = model.bitcount(k, nil, false)
				break
			}
			lim := nbits/8 + 3
			if unit == "BIT" || unit == "bit" {
				lim = nbits + 10
			}
			st, en := ri(lim), ri(lim)
			desc = fmt.Sprintf("BITCOUNT %s %d %d %s", k, st, en, unit)
			args := []any{"bitcount", k, st, en}
			if unit != "" {
				args = append(args, unit)
			}
			got, err = c.Do(ctx, args...).Int64()
			want = model.bitcount(k, []int64{st, en}, unit == "BIT" || unit == "bit")
		default:
			bit := rng.Intn(2)
			unit := units[rng.Intn(len(units))]
			args := []any{"bitpos", k, bit}
			var r []int64
			switch rng.Intn(3) {
			case 1:
				r = []int64{ri(nbits/8 + 3)}
			case 2:
				lim := nbits/8 + 3
				if unit == "BIT" || unit == "bit" {
					lim = nbits + 10
				}
				r = []int64{ri(lim), ri(lim)}
			}
			for _, v := range r {
				args = append(args, v)
			}
			if len(r) == 2 && unit != "" {
				args = append(args, unit)
			}
			desc = fmt.Sprint(args...)
			got, err = c.Do(ctx, args...).Int64()
			want = model.bitpos(k, bit == 1, r, len(r) == 2 && (unit == "BIT" || unit == "bit"))
		}
		if err != nil {
			t.Fatalf("op %d %s: %v", i, desc, err)
		}
		if got != want {
			t.Fatalf("op %d %s = %d, model %d", i, desc, got, want)
		}
	}
	// The stored strings are the model's bits, MSB first.
	for _, k := range keys {
		v, err := clients[0].Get(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		b := model[k]
		if len(v)*8 != len(b) {
			t.Fatalf("%s: %d bytes for %d model bits", k, len(v), len(b))
		}
		for i := range b {
			if (v[i/8]>>(7-i%8))&1 == 1 != b[i] {
				t.Fatalf("%s: bit %d differs", k, i)
			}
		}
	}
}

// TestBitmapVsRedis compares kvd with a real redis-server 7.0.15: a script
// of edge cases, then random strings probed with random BITCOUNT, BITPOS,
// BITFIELD and BITOP calls, reply by reply and byte by byte.
func TestBitmapVsRedis(t *testing.T) {
	p := bmStartPair(t, 4)
	script := [][]string{
		{"SET", "s", "foobar"},
		{"BITCOUNT", "s", "5", "30", "BIT"},
		{"BITCOUNT", "s", "-9", "-2", "bit"},
		{"BITPOS", "s", "1", "7", "15", "BIT"},
		{"BITPOS", "s", "0", "1", "1", "BIT"},
		{"SET", "ones", "\xff\xff\xff"},
		{"BITPOS", "ones", "0"},
		{"BITPOS", "ones", "0", "1"},
		{"BITPOS", "ones", "0", "1", "-1"},
		{"BITPOS", "ones", "0", "3", "20", "bit"},
		{"SET", "zeros", "\x00\x00\x00"},
		{"BITPOS", "zeros", "1"},
		{"BITPOS", "zeros", "0", "5", "9", "bit"},
		{"SET", "empty", ""},
		{"BITPOS", "empty", "0"},
		{"BITPOS", "empty", "1"},
		{"BITPOS", "empty", "0", "0", "-1", "bit"},
		{"BITCOUNT", "empty"},
		{"BITCOUNT", "empty", "0", "-1", "bit"},
		{"SETBIT", "b", "7", "1"},
		{"SETBIT", "b", "7", "1"},
		{"SETBIT", "b", "0", "0"},
		{"OBJECT", "ENCODING", "b"},
		{"SET", "i", "1234"},
		{"GETBIT", "i", "2"},
		{"SETBIT", "i", "31", "0"},
		{"GET", "i"},
		{"OBJECT", "ENCODING", "i"},
		{"BITOP", "AND", "d", "s", "nokey"},
		{"GET", "d"},
		{"OBJECT", "ENCODING", "d"},
		{"BITOP", "XOR", "d", "s", "ones", "zeros"},
		{"GET", "d"},
		{"BITOP", "NOT", "d", "s"},
		{"GET", "d"},
		{"BITOP", "or", "d", "nokey", "nokey2"},
		{"EXISTS", "d"},
		{"BITFIELD", "bf", "SET", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "-1", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "-1", "GET", "i64", "0"},
		{"BITFIELD", "bf", "OVERFLOW", "WRAP", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1", "INCRBY", "i64", "0", "9223372036854775807"},
		{"BITFIELD", "bf", "SET", "u63", "1", "9223372036854775807", "INCRBY", "u63", "1", "1", "OVERFLOW", "SAT", "INCRBY", "u63", "1", "-5", "INCRBY", "u63", "1", "-9223372036854775808"},
		{"BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "SET", "i8", "8", "-200", "SET", "i8", "8", "200", "OVERFLOW", "WRAP", "SET", "u8", "0", "-1", "SET", "i8", "8", "200"},
		{"BITFIELD", "bf", "SET", "u1", "#100", "1", "GET", "u1", "#100", "GET", "i1", "#100", "INCRBY", "i1", "#100", "1", "INCRBY", "u1", "#100", "1"},
		{"GET", "bf"},
		{"BITFIELD", "bf", "GET", "u8", "#2000", "GET", "i64", "1000"},
		{"BITFIELD", "bf2", "OVERFLOW", "FAIL", "INCRBY", "u8", "100", "300"},
		{"GET", "bf2"},
		{"BITFIELD_RO", "bf", "GET", "i5", "3"},
	}
	for _, args := range script {
		p.both(t, args...)
	}

	rng := rand.New(rand.NewSource(11))
	rs := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			switch rng.Intn(4) {
			case 0:
				b[i] = 0
			case 1:
				b[i] = 0xff
			default:
				b[i] = byte(rng.Intn(256))
			}
		}
		return string(b)
	}
	ri := func(n int) string { return strconv.Itoa(rng.Intn(2*n+1) - n) }
	units := []string{"BYTE", "BIT", "bit", "byte"}
	types := []string{"u1", "u3", "u7", "u8", "u9", "u16", "u31", "u32", "u33", "u63", "i1", "i2", "i7", "i8", "i13", "i32", "i63", "i64"}
	vals := []string{"0", "1", "-1", "127", "128", "-128", "255", "256", "9223372036854775807", "-9223372036854775808", "4611686018427387904", "-4611686018427387905"}
	keys := []string{"r0", "r1", "r2", "r3"}
	for round := 0; round < 300; round++ {
		for _, k := range keys {
			p.both(t, "SET", k, rs(rng.Intn(24)))
		}
		for i := 0; i < 12; i++ {
			k := keys[rng.Intn(len(keys))]
			n := 30
			switch rng.Intn(7) {
			case 0:
				p.both(t, "BITCOUNT", k, ri(n), ri(n))
			case 1:
				p.both(t, "BITCOUNT", k, ri(8*n), ri(8*n), units[rng.Intn(4)])
			case 2:
				p.both(t, "BITPOS", k, strconv.Itoa(rng.Intn(2)), ri(n))
			case 3:
				p.both(t, "BITPOS", k, strconv.Itoa(rng.Intn(2)), ri(n), ri(n))
			case 4:
				p.both(t, "BITPOS", k, strconv.Itoa(rng.Intn(2)), ri(8*n), ri(8*n), units[rng.Intn(4)])
			case 5:
				args := []string{"BITFIELD", k}
				for j := rng.Intn(5); j >= 0; j-- {
					typ := types[rng.Intn(len(types))]
					off := strconv.Itoa(rng.Intn(200))
					if rng.Intn(4) == 0 {
						off = "#" + strconv.Itoa(rng.Intn(6))
					}
					switch rng.Intn(4) {
					case 0:
						args = append(args, "GET", typ, off)
					case 1:
						args = append(args, "SET", typ, off, vals[rng.Intn(len(vals))])
					case 2:
						args = append(args, "INCRBY", typ, off, vals[rng.Intn(len(vals))])
					default:
						args = append(args, "OVERFLOW", []string{"WRAP", "SAT", "FAIL"}[rng.Intn(3)])
					}
				}
				p.both(t, args...)
				p.both(t, "GET", k)
			default:
				op := []string{"AND", "OR", "XOR", "NOT"}[rng.Intn(4)]
				args := []string{"BITOP", op, keys[rng.Intn(len(keys))], k}
				if op != "NOT" {
					for j := rng.Intn(3); j >= 0; j-- {
						args = append(args, keys[rng.Intn(len(keys))])
					}
				}
				p.both(t, args...)
				p.both(t, "GET", args[2])
			}
		}
		if t.Failed() {
			t.Fatalf("stopping after round %d", round)
		}
	}
	// Random SETBIT traffic leaves the same strings.
	for i := 0; i < 2000; i++ {
		k := keys[rng.Intn(len(keys))]
		p.both(t, "SETBIT", k, strconv.Itoa(rng.Intn(400)), strconv.Itoa(rng.Intn(2)))
	}
	for _, k := range keys {
		p.both(t, "GET", k)
		p.both(t, "BITCOUNT", k)
	}
}

// bmPopcount is the test's independent bit count.
func bmPopcount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n += bits.OnesCount8(s[i])
	}
	return n
}

// TestBitmapLargeOps exercises the word-sized fast paths (long strings).
func TestBitmapLargeOps(t *testing.T) {
	s, _ := bmStart(t, 1)
	c := s.Client(2)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(3))
	mk := func(n int) string {
		b := make([]byte, n)
		rng.Read(b)
		return string(b)
	}
	a, b := mk(1000), mk(777)
	c.Set(ctx, "a", a, 0)
	c.Set(ctx, "b", b, 0)
	if n, _ := c.BitCount(ctx, "a", nil).Result(); n != int64(bmPopcount(a)) {
		t.Fatalf("bitcount %d, want %d", n, bmPopcount(a))
	}
	for _, op := range []string{"and", "or", "xor"} {
		n, err := c.Do(ctx, "bitop", op, "d", "a", "b").Int64()
		if err != nil || n != 1000 {
			t.Fatalf("%s: %d %v", op, n, err)
		}
		got, _ := c.Get(ctx, "d").Result()
		for i := 0; i < 1000; i++ {
			var x, y byte = a[i], 0
			if i < len(b) {
				y = b[i]
			}
			var w byte
			switch op {
			case "and":
				w = x & y
			case "or":
				w = x | y
			default:
				w = x ^ y
			}
			if got[i] != w {
				t.Fatalf("%s byte %d: %x, want %x", op, i, got[i], w)
			}
		}
	}
	c.Set(ctx, "z", strings.Repeat("\x00", 999)+"\x01", 0)
	if n, _ := c.BitPos(ctx, "z", 1).Result(); n != 7999 {
		t.Fatalf("bitpos 1 = %d", n)
	}
	c.Set(ctx, "o", strings.Repeat("\xff", 1000), 0)
	if n, _ := c.BitPos(ctx, "o", 0).Result(); n != 8000 {
		t.Fatalf("bitpos 0 = %d", n)
	}
	if n, _ := c.BitPos(ctx, "o", 0, 0, -1).Result(); n != -1 {
		t.Fatalf("bitpos 0 with end = %d", n)
	}
}
