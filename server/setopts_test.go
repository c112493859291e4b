package server

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
)

func setOptsArgs(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

// TestSetOptsParse checks the SET/GETEX option grammar against Redis 7.0's
// parseExtendedStringArgumentsOrReply (cases checked on redis-server 7.0.15).
func TestSetOptsParse(t *testing.T) {
	const (
		S = setOptsModeSet
		G = setOptsModeGetEx
	)
	cases := []struct {
		mode   setOptsMode
		args   string
		ok     bool
		flags  setOptFlags
		expire string
	}{
		{S, "", true, 0, ""},
		{S, "nx", true, setOptNX, ""},
		{S, "NX", true, setOptNX, ""},
		{S, "xX", true, setOptXX, ""},
		{S, "nx nx", true, setOptNX, ""},
		{S, "nx xx", false, 0, ""},
		{S, "xx nx", false, 0, ""},
		{S, "get", true, setOptGet, ""},
		{S, "GET get nx NX", true, setOptGet | setOptNX, ""},
		{S, "nx get", true, setOptNX | setOptGet, ""},
		{S, "xx get ex 10", true, setOptXX | setOptGet | setOptEX, "10"},
		{S, "ex 10", true, setOptEX, "10"},
		{S, "EX 10 ex 20", true, setOptEX, "20"},
		{S, "px 100", true, setOptPX, "100"},
		{S, "exat 1700000000", true, setOptEXAT, "1700000000"},
		{S, "pxat 1700000000000", true, setOptPXAT, "1700000000000"},
		{S, "ex abc", true, setOptEX, "abc"}, // validated later
		{S, "ex abc nx xx", false, 0, ""},
		{S, "ex", false, 0, ""},
		{S, "nx ex", false, 0, ""},
		{S, "ex 10 px 100", false, 0, ""},
		{S, "px 10 ex 100", false, 0, ""},
		{S, "ex 10 exat 100", false, 0, ""},
		{S, "pxat 10 exat 100", false, 0, ""},
		{S, "pxat 10 px 100", false, 0, ""},
		{S, "keepttl", true, setOptKeepTTL, ""},
		{S, "keepttl keepttl", true, setOptKeepTTL, ""},
		{S, "keepttl ex 10", false, 0, ""},
		{S, "ex 10 keepttl", false, 0, ""},
		{S, "pxat 10 keepttl", false, 0, ""},
		{S, "persist", false, 0, ""},
		{S, "foo", false, 0, ""},
		{S, "nxx", false, 0, ""},
		{S, "e", false, 0, ""},
		{G, "", true, 0, ""},
		{G, "persist", true, setOptPersist, ""},
		{G, "PERSIST persist", true, setOptPersist, ""},
		{G, "persist ex 10", false, 0, ""},
		{G, "ex 10 persist", false, 0, ""},
		{G, "ex 10", true, setOptEX, "10"},
		{G, "px 10 px 20", true, setOptPX, "20"},
		{G, "exat 10", true, setOptEXAT, "10"},
		{G, "pxat 10", true, setOptPXAT, "10"},
		{G, "ex 10 pxat 10", false, 0, ""},
		{G, "ex", false, 0, ""},
		{G, "nx", false, 0, ""},
		{G, "xx", false, 0, ""},
		{G, "get", false, 0, ""},
		{G, "keepttl", false, 0, ""},
	}
	for _, c := range cases {
		name := map[setOptsMode]string{S: "set", G: "getex"}[c.mode] + " [" + c.args + "]"
		got, ok := parseSetOpts(setOptsArgs(c.args), c.mode)
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v", name, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if got.Flags != c.flags || string(got.Expire) != c.expire {
			t.Errorf("%s: got flags %b expire %q, want %b %q", name, got.Flags, got.Expire, c.flags, c.expire)
		}
	}
}

// TestSetOptsExpireAt checks the expiry arithmetic, overflow included.
func TestSetOptsExpireAt(t *testing.T) {
	const now = 1_700_000_000_000
	maxSec := strconv.FormatInt(math.MaxInt64/1000, 10)
	cases := []struct {
		flags setOptFlags
		arg   string
		want  int64
		err   setExpireErr
	}{
		{setOptEX, "10", now + 10_000, setExpireOK},
		{setOptPX, "10", now + 10, setExpireOK},
		{setOptEXAT, "10", 10_000, setExpireOK},
		{setOptPXAT, "10", 10, setExpireOK},
		{setOptPXAT, "1", 1, setExpireOK}, // in the past: accepted
		{setOptEX, "abc", 0, setExpireNotInt},
		{setOptEX, "1.5", 0, setExpireNotInt},
		{setOptEX, "+1", 0, setExpireNotInt},
		{setOptEX, "01", 0, setExpireNotInt},
		{setOptEX, "", 0, setExpireNotInt},
		{setOptEX, "99999999999999999999", 0, setExpireNotInt},
		{setOptEX, "0", 0, setExpireBad},
		{setOptEX, "-1", 0, setExpireBad},
		{setOptPX, "0", 0, setExpireBad},
		{setOptPXAT, "0", 0, setExpireBad},
		{setOptEXAT, "-5", 0, setExpireBad},
		// seconds * 1000 overflows
		{setOptEX, strconv.FormatInt(math.MaxInt64/1000+1, 10), 0, setExpireBad},
		{setOptEXAT, strconv.FormatInt(math.MaxInt64/1000+1, 10), 0, setExpireBad},
		// fits after * 1000, but + now overflows
		{setOptEX, maxSec, 0, setExpireBad},
		{setOptPX, strconv.FormatInt(math.MaxInt64, 10), 0, setExpireBad},
		{setOptPX, strconv.FormatInt(math.MaxInt64-now, 10), math.MaxInt64, setExpireOK},
		{setOptPX, strconv.FormatInt(math.MaxInt64-now+1, 10), 0, setExpireBad},
		// absolute times are not added to now
		{setOptEXAT, maxSec, math.MaxInt64 / 1000 * 1000, setExpireOK},
		{setOptPXAT, strconv.FormatInt(math.MaxInt64, 10), math.MaxInt64, setExpireOK},
	}
	for _, c := range cases {
		got, err := setExpireAt(c.flags, []byte(c.arg), now)
		if err != c.err || (err == setExpireOK && got != c.want) {
			t.Errorf("flags %b arg %q: got %d err %d, want %d err %d", c.flags, c.arg, got, err, c.want, c.err)
		}
	}
	if got := setExpireBad.text("getex"); got != "ERR invalid expire time in 'getex' command" {
		t.Errorf("text = %q", got)
	}
	if got := setExpireNotInt.text("set"); got != ErrNotInteger {
		t.Errorf("text = %q", got)
	}
}

// TestSetOptsStrictInt checks Redis's string2ll rules.
func TestSetOptsStrictInt(t *testing.T) {
	good := map[string]int64{
		"0": 0, "1": 1, "-1": -1, "10": 10, "9223372036854775807": math.MaxInt64,
		"-9223372036854775808": math.MinInt64, "123456789": 123456789,
	}
	for s, want := range good {
		if got, ok := strictInt64([]byte(s)); !ok || got != want {
			t.Errorf("%q: got %d %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", "+1", "01", "-0", "00", " 1", "1 ", "1.0", "1e3", "0x10",
		"9223372036854775808", "-9223372036854775809", "18446744073709551616", "99999999999999999999", "abc", "1a"} {
		if got, ok := strictInt64([]byte(s)); ok {
			t.Errorf("%q: accepted as %d", s, got)
		}
	}
}

// TestSetOptsNoAlloc: parsing SET/GETEX options allocates nothing.
func TestSetOptsNoAlloc(t *testing.T) {
	args := setOptsArgs("NX GET PX 1000")
	n := testing.AllocsPerRun(100, func() {
		o, ok := parseSetOpts(args, setOptsModeSet)
		if !ok {
			t.Fatal("parse failed")
		}
		if _, e := setExpireAt(o.Flags, o.Expire, 1000); e != setExpireOK {
			t.Fatal("expire failed")
		}
	})
	if n != 0 {
		t.Errorf("allocations: %v", n)
	}
}

// TestStringGetSetNoAlloc: in steady state GET, SET without options and
// SET with options allocate nothing (the stored buffer is reused).
func TestStringGetSetNoAlloc(t *testing.T) {
	e := shard.New(shard.Config{Workers: 1, Clock: func() int64 { return 1_700_000_000_000 }})
	w := e.Worker(0)
	out := &proto.Writer{}
	x := &Ctx{}
	run := func(fn func(*Ctx), args [][]byte) {
		out.Reset()
		*x = Ctx{Args: args, W: out, DB: e.DB(w, 0), Worker: w}
		fn(x)
	}
	set := setOptsArgs("SET key value1")
	set2 := setOptsArgs("SET key value2")
	setPX := setOptsArgs("SET key value3 XX PX 100000")
	get := setOptsArgs("GET key")
	incr := setOptsArgs("INCR counter")
	run(cmdSet, set)
	run(cmdIncr, incr)
	for _, c := range []struct {
		name string
		fn   func(*Ctx)
		args [][]byte
		want string
	}{
		{"SET", cmdSet, set2, "+OK\r\n"},
		{"SET XX PX", cmdSet, setPX, "+OK\r\n"},
		{"GET", cmdGet, get, "$6\r\nvalue3\r\n"},
		{"INCR", cmdIncr, incr, ""},
	} {
		n := testing.AllocsPerRun(200, func() { run(c.fn, c.args) })
		if n != 0 {
			t.Errorf("%s: %v allocations per call", c.name, n)
		}
		if c.want != "" && string(out.B) != c.want {
			t.Errorf("%s: reply %q, want %q", c.name, out.B, c.want)
		}
	}
}
