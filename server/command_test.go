package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

// cmdtVal is a parsed RESP reply that keeps every type: typ is the RESP
// type byte, str the text of simple/bulk/number replies, elems the items of
// aggregates (maps flattened to key, value, ...).
type cmdtVal struct {
	typ   byte
	str   string
	elems []cmdtVal
}

// String renders v unambiguously: type byte, then quoted text or [items].
func (v cmdtVal) String() string {
	switch v.typ {
	case '*', '%', '~', '>':
		parts := make([]string, len(v.elems))
		for i, e := range v.elems {
			parts[i] = e.String()
		}
		return string(v.typ) + "[" + strings.Join(parts, " ") + "]"
	case '_':
		return "_"
	}
	return string(v.typ) + strconv.Quote(v.str)
}

func (v cmdtVal) isNull() bool {
	return v.typ == '_' || ((v.typ == '$' || v.typ == '*') && v.str == "-1" && v.elems == nil)
}

func cmdtRead(br *bufio.Reader) (cmdtVal, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return cmdtVal{}, err
	}
	if len(line) < 3 {
		return cmdtVal{}, io.ErrUnexpectedEOF
	}
	typ, text := line[0], line[1:len(line)-2]
	switch typ {
	case '$', '=':
		n, _ := strconv.Atoi(text)
		if n < 0 {
			return cmdtVal{typ: typ, str: "-1"}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return cmdtVal{}, err
		}
		return cmdtVal{typ: typ, str: string(buf[:n])}, nil
	case '*', '%', '~', '>':
		n, _ := strconv.Atoi(text)
		if n < 0 {
			return cmdtVal{typ: typ, str: "-1"}, nil
		}
		if typ == '%' {
			n *= 2
		}
		v := cmdtVal{typ: typ, elems: []cmdtVal{}}
		for i := 0; i < n; i++ {
			e, err := cmdtRead(br)
			if err != nil {
				return cmdtVal{}, err
			}
			v.elems = append(v.elems, e)
		}
		return v, nil
	}
	return cmdtVal{typ: typ, str: text}, nil
}

// cmdtConn is a raw RESP connection to kvd or to the real Redis.
type cmdtConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func cmdtDial(t *testing.T, network, addr string, resp int) *cmdtConn {
	t.Helper()
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &cmdtConn{t: t, nc: nc, br: bufio.NewReader(nc)}
	if resp == 3 {
		if v := c.do("HELLO", "3"); v.typ != '%' {
			t.Fatalf("HELLO 3 on %s: %v", addr, v)
		}
	}
	return c
}

func (c *cmdtConn) do(args ...string) cmdtVal {
	c.t.Helper()
	var w proto.Writer
	w.Array(len(args))
	for _, a := range args {
		w.BulkString(a)
	}
	if _, err := c.nc.Write(w.B); err != nil {
		c.t.Fatal(err)
	}
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	v, err := cmdtRead(c.br)
	if err != nil {
		c.t.Fatalf("%v: %v", args, err)
	}
	return v
}

// cmdtPair is the kvd/Redis pair of raw connections of one protocol.
type cmdtPair struct {
	srv       *servertest.Server
	kvd, real *cmdtConn
	resp      int
}

func cmdtPairs(t *testing.T) []cmdtPair {
	sock := redistest.Start(t)
	s := servertest.Start(t, servertest.Workers(2))
	var out []cmdtPair
	for _, resp := range []int{2, 3} {
		out = append(out, cmdtPair{
			srv:  s,
			kvd:  cmdtDial(t, "tcp", s.Addr, resp),
			real: cmdtDial(t, "unix", sock, resp),
			resp: resp,
		})
	}
	return out
}

// cmdtNames lists every command and subcommand kvd registers.
func cmdtNames(reg *server.Registry) []string {
	var names []string
	for _, c := range reg.All() {
		names = append(names, c.Name)
		for _, s := range c.Subcommands() {
			names = append(names, s.Name)
		}
	}
	return names
}

// 7.2 subcommands a Redis 7.0 server does not have.
var cmdtNot70 = map[string]bool{"client|no-touch": true, "client|setinfo": true}

// cmdtComparable reports whether name is part of a comparison with Redis
// 7.0: kvd registers it and Redis 7.0 has it.
func cmdtComparable(reg *server.Registry, name string) bool {
	return reg.LookupName(name) != nil && !cmdtNot70[name]
}

// cmdtNormInfo prepares a COMMAND INFO entry for comparison: the
// subcommand entries (nondeterministic order in Redis) are sorted by name
// and reduced to those kvd registers.
func cmdtNormInfo(v cmdtVal, reg *server.Registry) cmdtVal {
	if v.typ != '*' || len(v.elems) != 10 {
		return v
	}
	out := v
	out.elems = append([]cmdtVal(nil), v.elems...)
	subs := v.elems[9]
	if subs.typ == '*' {
		var keep []cmdtVal
		for _, e := range subs.elems {
			if len(e.elems) > 0 && cmdtComparable(reg, e.elems[0].str) {
				keep = append(keep, e)
			}
		}
		sort.Slice(keep, func(i, j int) bool { return keep[i].elems[0].str < keep[j].elems[0].str })
		out.elems[9] = cmdtVal{typ: '*', elems: keep}
	}
	return out
}

// cmdtNormDocs does the same for a COMMAND DOCS value (a map, or its RESP2
// flat array): the "subcommands" map is sorted and reduced to kvd's.
func cmdtNormDocs(v cmdtVal, reg *server.Registry) cmdtVal {
	out := v
	out.elems = append([]cmdtVal(nil), v.elems...)
	for i := 0; i+1 < len(out.elems); i += 2 {
		if out.elems[i].str != "subcommands" {
			continue
		}
		m := out.elems[i+1]
		type kv struct{ k, v cmdtVal }
		var pairs []kv
		for j := 0; j+1 < len(m.elems); j += 2 {
			if cmdtComparable(reg, m.elems[j].str) {
				pairs = append(pairs, kv{m.elems[j], m.elems[j+1]})
			}
		}
		sort.Slice(pairs, func(a, b int) bool { return pairs[a].k.str < pairs[b].k.str })
		nm := cmdtVal{typ: m.typ, elems: []cmdtVal{}}
		for _, p := range pairs {
			nm.elems = append(nm.elems, p.k, p.v)
		}
		out.elems[i+1] = nm
	}
	return out
}

// TestCommandInfoMatchesRedis compares COMMAND INFO of every command kvd
// registers with the real Redis 7.0.15 reply, in RESP2 and RESP3.
func TestCommandInfoMatchesRedis(t *testing.T) {
	for _, p := range cmdtPairs(t) {
		t.Run(fmt.Sprintf("RESP%d", p.resp), func(t *testing.T) {
			reg := p.srv.Registry()
			for _, name := range cmdtNames(reg) {
				got := p.kvd.do("COMMAND", "INFO", name)
				if cmdtNot70[name] {
					if len(got.elems) != 1 || got.elems[0].isNull() || got.elems[0].elems[0].str != name {
						t.Errorf("COMMAND INFO %s: %v", name, got)
					}
					continue
				}
				want := p.real.do("COMMAND", "INFO", name)
				if len(got.elems) != 1 || len(want.elems) != 1 {
					t.Fatalf("COMMAND INFO %s: kvd %v, redis %v", name, got, want)
				}
				g, w := cmdtNormInfo(got.elems[0], reg), cmdtNormInfo(want.elems[0], reg)
				if g.String() != w.String() {
					t.Errorf("COMMAND INFO %s:\n kvd   %v\n redis %v", name, g, w)
				}
			}
			// Several names, an unknown one, case and subcommand syntax.
			args := []string{"COMMAND", "INFO", "get", "SET", "mget", "Client|List", "config|get", "nosuch",
				"get|x", "client|", "client|nosuch", "a|b|c", ""}
			got, want := p.kvd.do(args...), p.real.do(args...)
			if len(got.elems) != len(want.elems) {
				t.Fatalf("%v: kvd %v, redis %v", args, got, want)
			}
			for i := range got.elems {
				g, w := cmdtNormInfo(got.elems[i], reg), cmdtNormInfo(want.elems[i], reg)
				if g.String() != w.String() {
					t.Errorf("%v item %d:\n kvd   %v\n redis %v", args, i, g, w)
				}
			}
		})
	}
}

// TestCommandAllAndCount checks COMMAND, COMMAND INFO without names and
// COMMAND COUNT against the registry.
func TestCommandAllAndCount(t *testing.T) {
	s := servertest.Start(t)
	reg := s.Registry()
	for _, resp := range []int{2, 3} {
		c := cmdtDial(t, "tcp", s.Addr, resp)
		all := c.do("COMMAND")
		if all.typ != '*' || len(all.elems) != len(reg.All()) {
			t.Fatalf("RESP%d COMMAND: %d entries, registry has %d", resp, len(all.elems), len(reg.All()))
		}
		if n := c.do("COMMAND", "COUNT"); n.typ != ':' || n.str != strconv.Itoa(len(reg.All())) {
			t.Errorf("RESP%d COMMAND COUNT = %v, want %d", resp, n, len(reg.All()))
		}
		if info := c.do("COMMAND", "INFO"); info.String() != all.String() {
			t.Errorf("RESP%d COMMAND INFO without names differs from COMMAND", resp)
		}
		for i, cmd := range reg.All() {
			e := all.elems[i]
			if len(e.elems) != 10 || e.elems[0].str != cmd.Name {
				t.Fatalf("RESP%d COMMAND entry %d: %v, want %s", resp, i, e, cmd.Name)
			}
			if one := c.do("COMMAND", "INFO", cmd.Name); one.elems[0].String() != e.String() {
				t.Errorf("RESP%d COMMAND entry of %s differs from COMMAND INFO %s", resp, cmd.Name, cmd.Name)
			}
			if cmd.IsContainer() {
				if subs := e.elems[9]; subs.typ != '*' || len(subs.elems) != len(cmd.Subcommands()) {
					t.Errorf("RESP%d %s: subcommands %v, want %d", resp, cmd.Name, subs, len(cmd.Subcommands()))
				}
			}
		}
	}
	r := s.Raw()
	for _, c := range []struct{ args []string }{{[]string{"COMMAND", "COUNT", "x"}}} {
		if got := r.Do(c.args...); got != "-ERR wrong number of arguments for 'command|count' command" {
			t.Errorf("%v = %q", c.args, got)
		}
	}
}

// TestCommandDocsMatchesRedis compares COMMAND DOCS of every command kvd
// registers with the real Redis reply, in RESP2 and RESP3.
func TestCommandDocsMatchesRedis(t *testing.T) {
	for _, p := range cmdtPairs(t) {
		t.Run(fmt.Sprintf("RESP%d", p.resp), func(t *testing.T) {
			reg := p.srv.Registry()
			for _, name := range cmdtNames(reg) {
				if cmdtNot70[name] {
					continue
				}
				got, want := p.kvd.do("COMMAND", "DOCS", name), p.real.do("COMMAND", "DOCS", name)
				if len(got.elems) != 2 || len(want.elems) != 2 {
					t.Fatalf("COMMAND DOCS %s: kvd %v, redis %v", name, got, want)
				}
				g := cmdtVal{typ: got.typ, elems: []cmdtVal{got.elems[0], cmdtNormDocs(got.elems[1], reg)}}
				w := cmdtVal{typ: want.typ, elems: []cmdtVal{want.elems[0], cmdtNormDocs(want.elems[1], reg)}}
				if g.String() != w.String() {
					t.Errorf("COMMAND DOCS %s:\n kvd   %v\n redis %v", name, g, w)
				}
			}
			for _, args := range [][]string{
				{"COMMAND", "DOCS", "get", "nosuch", "SET", "get", "client|list"},
				{"COMMAND", "DOCS", "nosuch"},
				{"COMMAND", "DOCS", "mget", "config|get", "get|x"},
			} {
				got, want := p.kvd.do(args...), p.real.do(args...)
				if got.String() != want.String() {
					t.Errorf("%v:\n kvd   %v\n redis %v", args, got, want)
				}
			}
			all := p.kvd.do("COMMAND", "DOCS")
			if len(all.elems) != 2*len(reg.All()) {
				t.Fatalf("COMMAND DOCS: %d items, want %d", len(all.elems), 2*len(reg.All()))
			}
			for i, cmd := range reg.All() {
				if all.elems[2*i].str != cmd.Name {
					t.Errorf("COMMAND DOCS key %d = %v, want %s", i, all.elems[2*i], cmd.Name)
				}
			}
		})
	}
}

func cmdtStrings(v cmdtVal) []string {
	var out []string
	for _, e := range v.elems {
		out = append(out, e.str)
	}
	sort.Strings(out)
	return out
}

// TestCommandList compares COMMAND LIST and its filters with Redis's reply
// reduced to the commands kvd registers.
func TestCommandList(t *testing.T) {
	for _, p := range cmdtPairs(t) {
		t.Run(fmt.Sprintf("RESP%d", p.resp), func(t *testing.T) {
			reg := p.srv.Registry()
			all := cmdtNames(reg)
			sort.Strings(all)
			if got := cmdtStrings(p.kvd.do("COMMAND", "LIST")); !reflect.DeepEqual(got, all) {
				t.Errorf("COMMAND LIST = %v\nwant %v", got, all)
			}
			for _, args := range [][]string{
				{"COMMAND", "LIST"},
				{"COMMAND", "LIST", "FILTERBY", "PATTERN", "c*"},
				{"COMMAND", "LIST", "filterby", "pattern", "*|*"},
				{"COMMAND", "LIST", "FILTERBY", "PATTERN", "GET*"},
				{"COMMAND", "LIST", "FILTERBY", "PATTERN", "[a-e]?t"},
				{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection"},
				{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "Read"},
				{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "keyspace"},
				{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "admin"},
				{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "@read"},
				{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"},
				{"COMMAND", "LIST", "FILTERBY", "MODULE", "x"},
			} {
				want := p.real.do(args...)
				var keep []string
				for _, n := range cmdtStrings(want) {
					if reg.LookupName(n) != nil {
						keep = append(keep, n)
					}
				}
				got := p.kvd.do(args...)
				var have []string
				for _, n := range cmdtStrings(got) {
					if !cmdtNot70[n] {
						have = append(have, n)
					}
				}
				if got.typ != '*' || !reflect.DeepEqual(have, keep) {
					t.Errorf("%v = %v\nwant %v", args, got, keep)
				}
			}
			for _, args := range [][]string{
				{"COMMAND", "LIST", "FILTERBY", "foo", "x"},
				{"COMMAND", "LIST", "foo"},
				{"COMMAND", "LIST", "FILTERBY", "pattern"},
				{"COMMAND", "LIST", "FILTERBY", "pattern", "a", "b"},
				{"COMMAND", "LIST", "FILTERBY", "pattern", "a", "FILTERBY", "aclcat", "read"},
			} {
				got, want := p.kvd.do(args...), p.real.do(args...)
				if got.String() != want.String() {
					t.Errorf("%v: kvd %v, redis %v", args, got, want)
				}
			}
		})
	}
}

// TestCommandGetKeysMatchesRedis compares COMMAND GETKEYS and
// GETKEYSANDFLAGS with Redis for command lines of every command kvd
// registers (and the error cases).
func TestCommandGetKeysMatchesRedis(t *testing.T) {
	for _, p := range cmdtPairs(t) {
		t.Run(fmt.Sprintf("RESP%d", p.resp), func(t *testing.T) {
			reg := p.srv.Registry()
			lines := [][]string{
				{"get", "a"}, {"GET", "a"}, {"get", "a", "b"}, {"mget", "a", "b", "c"}, {"mset", "a", "b", "c", "d"},
				{"mset", "a", "b", "c"}, {"set", "a", "b"}, {"set", "a", "b", "get"}, {"set", "a", "b", "EX", "1", "GET"},
				{"del", "a", "b"}, {"client", "list"}, {"client", "nosuch"}, {"config", "get", "x"}, {"ping", "x"},
				{"nosuch", "a"}, {"command", "info"}, {"object", "encoding", "k"}, {"rename", "a", "b"},
			}
			for _, name := range cmdtNames(reg) {
				cmd := reg.LookupName(name)
				if cmd.IsContainer() || cmdtNot70[name] {
					continue
				}
				prefix := strings.Split(name, "|")
				n := cmd.Arity
				if n < 0 {
					n = -n
				}
				for extra := 0; extra < 4; extra++ {
					line := append([]string(nil), prefix...)
					for i := len(prefix); i < n+extra; i++ {
						line = append(line, fmt.Sprintf("k%d", i))
					}
					if len(line) >= 2 {
						lines = append(lines, line)
					}
				}
			}
			for _, line := range lines {
				cmd := reg.LookupName(strings.ToLower(line[0]))
				if cmd != nil && cmd.IsContainer() {
					cmd = reg.LookupName(strings.ToLower(line[0] + "|" + line[1]))
				}
				for _, sub := range []string{"GETKEYS", "GETKEYSANDFLAGS"} {
					args := append([]string{"COMMAND", sub}, line...)
					got := p.kvd.do(args...)
					if cmd == nil {
						// Not implemented by kvd: it says so, whatever Redis knows.
						if got.String() != `-"ERR Invalid command specified"` {
							t.Errorf("%v = %v", args, got)
						}
						continue
					}
					if want := p.real.do(args...); got.String() != want.String() {
						t.Errorf("%v:\n kvd   %v\n redis %v", args, got, want)
					}
				}
			}
			for _, args := range [][]string{{"COMMAND", "GETKEYS"}, {"COMMAND", "GETKEYS", "get"}, {"COMMAND", "GETKEYSANDFLAGS", "get"}} {
				if got, want := p.kvd.do(args...), p.real.do(args...); got.String() != want.String() {
					t.Errorf("%v: kvd %v, redis %v", args, got, want)
				}
			}
		})
	}
}

// TestCommandHelpAndErrors compares COMMAND HELP and the container's errors
// with Redis.
func TestCommandHelpAndErrors(t *testing.T) {
	for _, p := range cmdtPairs(t) {
		for _, args := range [][]string{
			{"COMMAND", "HELP"}, {"command", "help", "x"}, {"COMMAND", "FOO"}, {"COMMAND", "COUNT", "x"},
			{"COMMAND", "DOCS"}, {"COMMAND", "INFO", "command"},
		} {
			got, want := p.kvd.do(args...), p.real.do(args...)
			if args[1] == "DOCS" {
				// Every command: compare only the shape (a map / flat array).
				if got.typ != want.typ {
					t.Errorf("RESP%d %v: type %c, redis %c", p.resp, args, got.typ, want.typ)
				}
				continue
			}
			reg := p.srv.Registry()
			if len(got.elems) == 1 {
				got.elems[0], want.elems[0] = cmdtNormInfo(got.elems[0], reg), cmdtNormInfo(want.elems[0], reg)
			}
			if got.String() != want.String() {
				t.Errorf("RESP%d %v:\n kvd   %v\n redis %v", p.resp, args, got, want)
			}
		}
	}
	s := servertest.Start(t)
	r := s.Raw()
	if got := r.Do("COMMAND", "NOPE"); got != "-ERR unknown subcommand 'NOPE'. Try COMMAND HELP." {
		t.Errorf("COMMAND NOPE = %q", got)
	}
	if got := r.Do("COMMAND", "GETKEYS", "nosuch", "x"); got != "-ERR Invalid command specified" {
		t.Errorf("GETKEYS nosuch = %q", got)
	}
	if got := r.Do("COMMAND", "GETKEYS", "ping", "x"); got != "-ERR The command has no key arguments" {
		t.Errorf("GETKEYS ping = %q", got)
	}
	if got := r.Do("COMMAND", "GETKEYS", "get", "a", "b"); got != "-ERR Invalid number of arguments specified for command" {
		t.Errorf("GETKEYS get a b = %q", got)
	}
	if got := r.Do("COMMAND", "GETKEYS", "mset", "a", "b", "c"); got != "*[$a $c]" {
		t.Errorf("GETKEYS mset a b c = %q", got)
	}
	if got := r.Do("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "get"); got != "*[*[$a *[+RW +access +update]]]" {
		t.Errorf("GETKEYSANDFLAGS set a b get = %q", got)
	}
	const infoGet = "*[*[$get :2 *[+readonly +fast] :1 :1 :1 *[+@read +@string +@fast] *[] " +
		"*[*[$flags *[+RO +access] $begin_search *[$type $index $spec *[$index :1]] " +
		"$find_keys *[$type $range $spec *[$lastkey :0 $keystep :1 $limit :0]]]] *[]]]"
	if got := r.Do("COMMAND", "INFO", "get"); got != infoGet {
		t.Errorf("COMMAND INFO get = %q, want %q", got, infoGet)
	}
	if got := r.Do("COMMAND", "INFO", "nosuch"); got != "*[(nil)]" {
		t.Errorf("COMMAND INFO nosuch = %q", got)
	}
}

// TestCommandGoRedis checks that go-redis (RESP2 and RESP3) reads kvd's
// COMMAND replies and gets what it gets from Redis.
func TestCommandGoRedis(t *testing.T) {
	sock := redistest.Start(t)
	s := servertest.Start(t)
	reg := s.Registry()
	ctx := context.Background()
	for _, resp := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", resp), func(t *testing.T) {
			kc := s.Client(resp)
			rc := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, Protocol: resp, DisableIndentity: true})
			t.Cleanup(func() { rc.Close() })

			kinfo, err := kc.Command(ctx).Result()
			if err != nil {
				t.Fatalf("kvd COMMAND: %v", err)
			}
			rinfo, err := rc.Command(ctx).Result()
			if err != nil {
				t.Fatalf("redis COMMAND: %v", err)
			}
			if len(kinfo) != len(reg.All()) {
				t.Errorf("COMMAND: %d commands, registry %d", len(kinfo), len(reg.All()))
			}
			for name, ki := range kinfo {
				if cmdtNot70[name] { // not a Redis 7.0 command (kvd's own)
					continue
				}
				if !reflect.DeepEqual(ki, rinfo[name]) {
					t.Errorf("COMMAND %s: kvd %+v, redis %+v", name, ki, rinfo[name])
				}
			}
			if n, err := kc.Do(ctx, "COMMAND", "COUNT").Int64(); err != nil || n != int64(len(reg.All())) {
				t.Errorf("COMMAND COUNT = %d, %v", n, err)
			}

			for _, f := range []*redis.FilterBy{{Pattern: "c*"}, {ACLCat: "read"}, {Module: "x"}} {
				kl, err := kc.CommandList(ctx, f).Result()
				if err != nil {
					t.Fatalf("COMMAND LIST %+v: %v", f, err)
				}
				rl, _ := rc.CommandList(ctx, f).Result()
				var want, have []string
				for _, n := range rl {
					if reg.LookupName(n) != nil {
						want = append(want, n)
					}
				}
				for _, n := range kl {
					if !cmdtNot70[n] {
						have = append(have, n)
					}
				}
				kl = have
				sort.Strings(kl)
				sort.Strings(want)
				if len(kl)+len(want) > 0 && !reflect.DeepEqual(kl, want) {
					t.Errorf("COMMAND LIST %+v = %v, want %v", f, kl, want)
				}
			}

			for _, line := range [][]interface{}{{"get", "a"}, {"mset", "a", "b", "c", "d"}, {"set", "a", "b", "get"}} {
				kk, err := kc.CommandGetKeys(ctx, line...).Result()
				rk, _ := rc.CommandGetKeys(ctx, line...).Result()
				if err != nil || !reflect.DeepEqual(kk, rk) {
					t.Errorf("COMMAND GETKEYS %v = %v, %v; redis %v", line, kk, err, rk)
				}
				kf, err := kc.CommandGetKeysAndFlags(ctx, line...).Result()
				rf, _ := rc.CommandGetKeysAndFlags(ctx, line...).Result()
				if err != nil || !reflect.DeepEqual(kf, rf) {
					t.Errorf("COMMAND GETKEYSANDFLAGS %v = %v, %v; redis %v", line, kf, err, rf)
				}
			}
			_, err = kc.CommandGetKeys(ctx, "nosuch", "a").Result()
			if err == nil || err.Error() != "ERR Invalid command specified" {
				t.Errorf("COMMAND GETKEYS nosuch: %v", err)
			}

			for _, args := range [][]interface{}{
				{"COMMAND", "DOCS", "get", "set", "mget"},
				{"COMMAND", "INFO", "get", "set", "mget", "client|list", "config|get", "nosuch"},
				{"COMMAND", "DOCS", "client|list", "config|get"},
			} {
				kv, err := kc.Do(ctx, args...).Result()
				if err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				rv, _ := rc.Do(ctx, args...).Result()
				if !reflect.DeepEqual(kv, rv) {
					t.Errorf("%v:\n kvd   %#v\n redis %#v", args, kv, rv)
				}
			}
		})
	}
}

// TestCommandRedisCli runs redis-cli against kvd: COMMAND DOCS get prints
// what it prints against Redis, and the interactive-style start (which
// fetches COMMAND DOCS for its hints) works.
func TestCommandRedisCli(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if servertest.RequireTools() {
			t.Fatalf("redis-cli is required (KVD_REQUIRE_TOOLS=1): %v", err)
		}
		t.Skip("redis-cli not installed")
	}
	sock := redistest.Start(t)
	s := servertest.Start(t)
	host, port, _ := net.SplitHostPort(s.Addr)
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, args...)
		if stdin != "" {
			cmd.Stdin = strings.NewReader(stdin)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, c := range [][]string{
		{"COMMAND", "DOCS", "get"},
		{"COMMAND", "INFO", "get"},
		{"COMMAND", "GETKEYS", "mset", "a", "b", "c", "d"},
		{"COMMAND", "DOCS", "client|list"},
	} {
		got := run("", append([]string{"-h", host, "-p", port}, c...)...)
		want := run("", append([]string{"-s", sock}, c...)...)
		if got != want {
			t.Errorf("redis-cli %v:\n kvd:\n%s\n redis:\n%s", c, got, want)
		}
		if strings.Contains(got, "ERR") {
			t.Errorf("redis-cli %v: %s", c, got)
		}
	}
	// Without a command on the command line redis-cli sends COMMAND DOCS
	// first, then the piped commands.
	out := run("COMMAND COUNT\nCOMMAND DOCS get\n", "-h", host, "-p", port)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != strconv.Itoa(len(s.Registry().All())) || !strings.Contains(out, "Get the value of a key") {
		t.Errorf("piped redis-cli output:\n%s", out)
	}
}
