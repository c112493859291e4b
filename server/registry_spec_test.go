package server

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server/cmdspec"
	"github.com/kvd/kvd/server/redistest"
)

// kvdOnlyCommands lists commands kvd registers that Redis 7.0 does not
// have. Adding one is a deliberate decision: it must be listed here.
var kvdOnlyCommands = map[string]bool{
	"workers": true, "workers|list": true, "workers|slots": true, "workers|hotslots": true, "workers|move": true, "workers|balance": true, "workers|help": true, // cmd_workers.go
}

// registryCommands returns every registered command and subcommand.
func registryCommands(r *Registry) []*Command {
	var out []*Command
	for _, c := range r.All() {
		out = append(out, c)
		if c.IsContainer() {
			out = append(out, c.Subcommands()...)
		}
	}
	return out
}

// TestRegistryMatchesCmdspec checks every command and subcommand kvd
// registers against the Redis 7.0.15 metadata: it must exist, and its arity,
// legacy key range and Redis flags must be Redis's. COMMAND INFO prints
// kvd's values, so a drift here is a wrong COMMAND INFO reply (and usually
// wrong behaviour: Write decides CLIENT PAUSE WRITE, NoAuth the auth check,
// the key range the routing).
func TestRegistryMatchesCmdspec(t *testing.T) {
	r := newRegistry()
	registerAll(r)
	for _, cmd := range registryCommands(r) {
		t.Run(cmd.Name, func(t *testing.T) {
			for _, d := range commandDrifts(cmd) {
				t.Error(d)
			}
		})
	}
}

// commandDrifts lists how cmd differs from its Redis 7.0 spec.
func commandDrifts(cmd *Command) []string {
	spec := cmdspec.Lookup(cmd.Name)
	if spec == nil {
		if kvdOnlyCommands[cmd.Name] {
			return nil
		}
		return []string{cmd.Name + ": not a Redis 7.0 command (not in cmdspec); list it in kvdOnlyCommands if intended"}
	}
	var out []string
	if cmd.Arity != spec.Arity {
		out = append(out, fmt.Sprintf("%s: arity %d, Redis %d", cmd.Name, cmd.Arity, spec.Arity))
	}
	f, l, s := cmd.FirstKey, cmd.LastKey, cmd.Step
	if f <= 0 {
		f, l, s = 0, 0, 0
	}
	if wf, wl, ws := spec.LegacyRange(); f != wf || l != wl || s != ws {
		out = append(out, fmt.Sprintf("%s: first/last/step %d,%d,%d, Redis %d,%d,%d", cmd.Name, f, l, s, wf, wl, ws))
	}
	var missing, extra []string
	for _, fl := range redisFlagNames {
		have, want := cmd.Flags&fl.bit != 0, spec.HasFlag(fl.name)
		switch {
		case want && !have:
			missing = append(missing, fl.name)
		case have && !want:
			extra = append(extra, fl.name)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		out = append(out, fmt.Sprintf("%s: flags differ from Redis: missing %v, extra %v", cmd.Name, missing, extra))
	}
	return out
}

// TestRegistryDetectsDrift makes sure the check above catches each kind of
// drift (and accepts a correct entry).
func TestRegistryDetectsDrift(t *testing.T) {
	nop := func(*Ctx) {}
	cases := []struct {
		cmd  *Command
		want []string
	}{
		{&Command{Name: "get", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: nop}, nil},
		{&Command{Name: "get", Arity: 2, Flags: ReadOnly | Fast | Local | AllWorkers, FirstKey: 1, LastKey: 1, Step: 1, Run: nop}, nil},
		{&Command{Name: "get", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: nop}, []string{"arity -2, Redis 2"}},
		{&Command{Name: "get", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1, Run: nop}, []string{"first/last/step 1,-1,1, Redis 1,1,1"}},
		{&Command{Name: "get", Arity: 2, Flags: ReadOnly | Fast, Run: nop}, []string{"first/last/step 0,0,0, Redis 1,1,1"}},
		{&Command{Name: "get", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: nop}, []string{"missing [fast], extra []"}},
		{&Command{Name: "get", Arity: 2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: nop}, []string{"missing [readonly], extra [write]"}},
		{&Command{Name: "publish", Arity: 3, Flags: PubSub | Loading | Stale | Fast, Run: nop}, []string{"missing [may_replicate], extra []"}},
		{&Command{Name: "mset", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, Run: nop}, nil},
		{&Command{Name: "client|list", Arity: -2, Flags: Admin | NoScript | Loading | Stale, Run: nop}, nil},
		{&Command{Name: "nosuchcommand", Arity: 1, Run: nop}, []string{"not a Redis 7.0 command"}},
	}
	for _, c := range cases {
		got := commandDrifts(c.cmd)
		if len(got) != len(c.want) {
			t.Errorf("%s %+v: drifts %q, want %q", c.cmd.Name, c.cmd, got, c.want)
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], c.want[i]) {
				t.Errorf("%s: drift %q does not mention %q", c.cmd.Name, got[i], c.want[i])
			}
		}
	}
}

// TestRegistryMovableKeys checks that a command whose keys Redis cannot
// locate from a fixed range ("movablekeys") has a Keys function or holds
// every worker: routing by the legacy range alone would miss keys.
func TestRegistryMovableKeys(t *testing.T) {
	r := newRegistry()
	registerAll(r)
	for _, cmd := range registryCommands(r) {
		spec := cmdspec.Lookup(cmd.Name)
		if spec == nil || !hasString(spec.Flags, "movablekeys") {
			continue
		}
		if cmd.Keys == nil && cmd.Flags&AllWorkers == 0 {
			t.Errorf("%s: Redis marks it movablekeys, but it has neither Keys nor AllWorkers", cmd.Name)
		}
	}
}

// TestRegistryFlagNames checks the COMMAND INFO flag tables of
// cmd_command.go against the Flags constants and cmdspec's order.
func TestRegistryFlagNames(t *testing.T) {
	seen := Flags(0)
	for _, f := range redisFlagNames {
		if seen&f.bit != 0 {
			t.Errorf("flag bit of %s listed twice", f.name)
		}
		seen |= f.bit
		if f.name != "may_replicate" && !hasString(infoFlagOrder, f.name) {
			t.Errorf("%s missing from infoFlagOrder", f.name)
		}
	}
	if want := Flags(AllowBusy<<1) - 1; seen != want {
		t.Errorf("redisFlagNames covers %b, want every Redis-mirroring flag %b", seen, want)
	}
	// Every printed flag of every spec must be in infoFlagOrder, and each
	// spec's Flags must already be in that order.
	for _, s := range cmdspec.All() {
		last := -1
		for _, f := range s.Flags {
			i := indexOf(infoFlagOrder, f)
			if i < 0 {
				t.Errorf("%s: flag %q unknown to infoFlagOrder", s.Name, f)
			} else if i <= last {
				t.Errorf("%s: flags %v not in COMMAND INFO order", s.Name, s.Flags)
			}
			last = i
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// commandsMDUpdate is the -update flag: rewrite COMMANDS.md. It is defined
// only if no other test file of the package defined it first.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite generated files (COMMANDS.md)")
	}
}

func updateRequested() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestCommandsMD fails when COMMANDS.md at the repository root is not what
// renderCommandsMD produces for the current registry; run
// `go test ./server -run TestCommandsMD -update` to rewrite it.
func TestCommandsMD(t *testing.T) {
	r := newRegistry()
	registerAll(r)
	want := renderCommandsMD(r)
	path := filepath.Join("..", "COMMANDS.md")
	if updateRequested() {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with: go test ./server -run TestCommandsMD -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("COMMANDS.md is stale; regenerate it with: go test ./server -run TestCommandsMD -update")
	}
}

func TestCommandsMDContent(t *testing.T) {
	r := newRegistry()
	registerAll(r)
	md := string(renderCommandsMD(r))
	if !strings.Contains(md, "go test ./server -run TestCommandsMD -update") {
		t.Error("header does not say how the file is generated")
	}
	for _, s := range cmdspec.All() {
		row := "| " + commandsMDName(s.Name) + " | "
		i := strings.Index(md, row)
		if i < 0 {
			t.Errorf("%s: no row", s.Name)
			continue
		}
		status := "no"
		if r.LookupName(s.Name) != nil {
			status = "yes"
		}
		if !strings.HasPrefix(md[i+len(row):], status+" |") {
			t.Errorf("%s: status is not %q", s.Name, status)
		}
	}
	for _, c := range registryCommands(r) {
		if !strings.Contains(md, "| "+commandsMDName(c.Name)+" | yes |") {
			t.Errorf("%s: registered but not listed as yes", c.Name)
		}
	}
}

// --- COMMAND GETKEYS against a real redis-server -------------------------

// specRegistry builds a registry holding every Redis 7.0 command of
// cmdspec, with the spec's arity and legacy range, so that kvd's GETKEYS
// logic can be compared with Redis's on every command, implemented or not.
func specRegistry() *Registry {
	r := newRegistry()
	nop := func(*Ctx) {}
	for _, s := range cmdspec.All() {
		if s.Container != "" {
			continue
		}
		if subs := cmdspec.Subcommands(s.Name); len(subs) > 0 {
			r.AddContainer(s.Name, s.Arity, 0)
			for _, sub := range subs {
				f, l, st := sub.LegacyRange()
				r.Add(&Command{Name: sub.Name, Arity: sub.Arity, FirstKey: f, LastKey: l, Step: st, Run: nop})
			}
			continue
		}
		f, l, st := s.LegacyRange()
		r.Add(&Command{Name: s.Name, Arity: s.Arity, FirstKey: f, LastKey: l, Step: st, Run: nop})
	}
	return r
}

// getKeysCases lists command lines for every spec: the arity's minimum and
// a few more arguments, letters and numbers (numkeys), plus hand-written
// lines for the getkeys procedures.
func getKeysCases() [][]string {
	cases := [][]string{
		{"get", "a"}, {"get", "a", "b"}, {"mset", "a", "b", "c"}, {"mset", "a", "b", "c", "d"},
		{"set", "a", "b"}, {"set", "a", "b", "get"}, {"set", "a", "b", "GeT", "ex", "1"}, {"set", "a", "b", "getx"},
		{"bitfield", "k", "get", "u8", "0"}, {"bitfield", "k", "get", "u8", "0", "set", "u8", "0", "1"},
		{"bitfield", "k", "overflow", "wrap", "incrby", "u8", "0", "1"}, {"bitfield", "k", "set", "u8", "0"},
		{"bitfield_ro", "k", "get", "u8", "0"},
		{"sort", "k"}, {"sort", "k", "store", "d"}, {"sort", "k", "by", "store", "get", "store", "store", "x", "store", "y"},
		{"sort", "k", "limit", "0", "store", "store", "d"}, {"sort", "k", "store"}, {"sort_ro", "k", "by", "x"},
		{"migrate", "h", "1", "k", "0", "0"}, {"migrate", "h", "1", "", "0", "0", "keys", "a", "b"},
		{"migrate", "h", "1", "k", "0", "0", "keys", "a"}, {"migrate", "h", "1", "", "0", "0", "auth2", "keys", "p", "keys", "a"},
		{"migrate", "h", "1", "", "0", "0", "copy", "replace", "auth", "keys", "keys", "x"}, {"migrate", "h", "1", "", "0", "0"},
		{"eval", "s", "0"}, {"eval", "s", "1", "a"}, {"eval", "s", "2", "a", "b", "c"}, {"eval", "s", "3", "a"},
		{"eval", "s", "-1", "a"}, {"eval", "s", "x", "a"}, {"eval", "s", "4294967297", "a"}, {"evalsha_ro", "s", "1", "a"},
		{"fcall", "f", "2", "a", "b"}, {"fcall_ro", "f", "0"}, {"fcall", "f", " 1", "a"},
		{"zunionstore", "d", "2", "a", "b", "weights", "1", "2"}, {"zunionstore", "d", "0", "a"}, {"zunionstore", "d", "5", "a"},
		{"zunionstore", "d", "1x", "a"}, {"zinterstore", "d", "+1", "a"}, {"zdiffstore", "d", "1", "a"},
		{"zunion", "2", "a", "b"}, {"zinter", "1", "a", "withscores"}, {"zdiff", "3", "a", "b"}, {"zintercard", "2", "a", "b", "limit", "1"},
		{"sintercard", "2", "a", "b", "limit", "1"}, {"sintercard", "0", "a"},
		{"lmpop", "2", "a", "b", "left"}, {"lmpop", "3", "a", "left"}, {"blmpop", "0", "2", "a", "b", "left", "count", "1"},
		{"zmpop", "1", "a", "min"}, {"bzmpop", "1", "1", "a", "min"}, {"bzmpop", "1", "x", "a", "min"},
		{"xread", "streams", "a", "0"}, {"xread", "count", "1", "block", "0", "streams", "a", "b", "0", "0"},
		{"xread", "streams", "a", "b", "c"}, {"xread", "streams", "a"}, {"xread", "noack", "streams", "a", "0"},
		{"xreadgroup", "group", "g", "c", "streams", "a", "0"}, {"xreadgroup", "group", "g", "c", "streams", "a"},
		{"xreadgroup", "group", "streams", "c", "streams", "a", "b", "0", "0"},
		{"georadius", "k", "1", "2", "3", "m", "store", "d"}, {"georadius", "k", "1", "2", "3", "m", "storedist", "d", "store", "e"},
		{"georadius", "k", "1", "2", "3", "m", "store"}, {"georadiusbymember", "k", "m", "1", "km", "store", "d"},
		{"georadius_ro", "k", "1", "2", "3", "m"}, {"geosearchstore", "d", "s", "frommember", "m", "byradius", "1", "m"},
		{"lmove", "a", "b", "left", "right"}, {"rename", "a", "b"}, {"object", "encoding", "k"}, {"memory", "usage", "k"},
		{"del", "a", "b", "c"}, {"pfcount", "a", "b"}, {"spublish", "ch", "msg"}, {"ssubscribe", "a", "b"},
		{"xinfo", "stream", "k"}, {"bitop", "and", "d", "a", "b"}, {"lcs", "a", "b"}, {"pfdebug", "getreg", "k"},
		{"blpop", "a", "b", "0"}, {"brpoplpush", "a", "b", "0"}, {"wait", "0", "0"}, {"ping", "x"},
		{"client", "list"}, {"client", "nosuch"}, {"config", "get", "x"}, {"nosuch", "a"}, {"GET", "a"}, {"Object", "ENCODING", "k"},
		{"xgroup", "create", "k", "g", "$"}, {"xclaim", "k", "g", "c", "0", "0-1"},
		{"migrate", "h", "1", "", "0", "0", "keys"}, {"migrate", "h", "1", "", "0", "KEYS", "a"},
		{"georadius", "k", "1", "2", "3", "m", "x", "STORE"}, {"georadius", "k", "1", "2", "3", "STORE", "d"},
		{"georadiusbymember", "k", "m", "1", "store", "d"}, {"xread", "STREAMS", "streams", "streams", "0", "0"},
		{"eval", "s", "01", "a"}, {"eval", "s", "-0", "a"}, {"eval", "s", "1 ", "a"}, {"zunion", "1", "a", "weights", "1"},
		{"bitfield", "k", "get", "u8"}, {"bitfield", "k", "overflow"}, {"bitfield", "k", "get", "u8", "0", "foo"},
		{"sort", "k", "LIMIT", "0", "1", "STORE", "d", "GET", "#"}, {"sort", "k", "get", "store", "d"},
	}
	for _, s := range cmdspec.All() {
		if cmdspec.Subcommands(s.Name) != nil && len(cmdspec.Subcommands(s.Name)) > 0 {
			continue
		}
		prefix := strings.Split(s.Name, "|")
		n := s.Arity
		if n < 0 {
			n = -n
		}
		for _, extra := range []int{0, 1, 2, 3, 4} {
			if s.Arity > 0 && extra > 1 {
				break
			}
			for _, numeric := range []bool{false, true} {
				line := append([]string(nil), prefix...)
				for i := len(prefix); i < n+extra; i++ {
					if numeric {
						line = append(line, strconv.Itoa(1+(i%3)))
					} else {
						line = append(line, fmt.Sprintf("k%d", i))
					}
				}
				if len(line) >= 2 {
					cases = append(cases, line)
				}
			}
		}
	}
	return cases
}

// TestCommandGetKeysAllSpecs compares COMMAND GETKEYS and GETKEYSANDFLAGS,
// byte for byte, with a real redis-server 7.0 for every Redis command (kvd's
// key-extraction logic run over the full cmdspec table).
func TestCommandGetKeysAllSpecs(t *testing.T) {
	sock := redistest.Start(t)
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	reg := specRegistry()
	cases := getKeysCases()
	// 7.2-only subcommands: a 7.0 server does not know them.
	skip := map[string]bool{"client|no-touch": true, "client|setinfo": true}

	var req proto.Writer
	type sent struct {
		line []string
		sub  string
	}
	var order []sent
	for _, line := range cases {
		if len(line) >= 2 && skip[strings.ToLower(line[0]+"|"+line[1])] {
			continue
		}
		for _, sub := range []string{"GETKEYS", "GETKEYSANDFLAGS"} {
			req.Array(len(line) + 2)
			req.BulkString("COMMAND")
			req.BulkString(sub)
			for _, a := range line {
				req.BulkString(a)
			}
			order = append(order, sent{line, sub})
		}
	}
	go func() { conn.Write(req.B) }()
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for _, c := range order {
		want, err := redistest.ReadRaw(br)
		if err != nil {
			t.Fatalf("reading redis reply: %v", err)
		}
		argv := make([][]byte, len(c.line))
		for i, a := range c.line {
			argv[i] = []byte(a)
		}
		var w proto.Writer
		commandGetKeys(reg, argv, c.sub == "GETKEYSANDFLAGS", &w)
		if string(w.B) != want {
			t.Errorf("COMMAND %s %q:\n kvd   %q\n redis %q", c.sub, c.line, w.B, want)
		}
	}
}

// TestCommandKvdOnlyEntries covers what COMMAND reports for a command Redis
// does not have (kvdOnlyCommands): kvd's own arity, flags and key range.
func TestCommandKvdOnlyEntries(t *testing.T) {
	r := newRegistry()
	nop := func(*Ctx) {}
	r.Add(&Command{Name: "kvdtest", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: -1, Step: 2, Run: nop})
	r.Add(&Command{Name: "kvdmove", Arity: -3, Flags: ReadOnly, Run: nop,
		Keys: func(args [][]byte) [][]byte { return args[2:] }})
	cmd := r.LookupName("kvdtest")

	var w proto.Writer
	writeCommandInfo(&w, cmd)
	want := "*10\r\n$7\r\nkvdtest\r\n:-2\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:-1\r\n:2\r\n*2\r\n+@write\r\n+@fast\r\n*0\r\n" +
		"*1\r\n*6\r\n$5\r\nflags\r\n*0\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n" +
		"$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:2\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
	if string(w.B) != want {
		t.Errorf("INFO kvdtest:\n got %q\nwant %q", w.B, want)
	}
	w.Reset()
	writeCommandDocs(&w, cmd)
	if string(w.B) != "*2\r\n$5\r\ngroup\r\n$6\r\nserver\r\n" {
		t.Errorf("DOCS kvdtest: %q", w.B)
	}
	w.Reset()
	writeCommandInfo(&w, r.LookupName("kvdmove"))
	if !bytes.Contains(w.B, []byte("*2\r\n+readonly\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@read\r\n+@slow\r\n*0\r\n*0\r\n*0\r\n")) {
		t.Errorf("INFO kvdmove: %q", w.B)
	}

	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{"kvdtest", "a", "b", "c"}, "*2\r\n$1\r\na\r\n$1\r\nc\r\n"},
		{[]string{"kvdmove", "x", "a", "b"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"kvdmove", "x"}, "-ERR Invalid number of arguments specified for command\r\n"},
	} {
		argv := make([][]byte, len(c.argv))
		for i, a := range c.argv {
			argv[i] = []byte(a)
		}
		w.Reset()
		commandGetKeys(r, argv, false, &w)
		if string(w.B) != c.want {
			t.Errorf("GETKEYS %q = %q, want %q", c.argv, w.B, c.want)
		}
	}
}
