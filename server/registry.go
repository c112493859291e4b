package server

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
)

// Flags describe how a command is dispatched and what COMMAND INFO says.
type Flags uint32

// Command flags. The first group mirrors Redis; the second is kvd's own
// dispatch information.
const (
	Write Flags = 1 << iota
	ReadOnly
	DenyOOM
	Admin
	PubSub
	NoScript
	Blocking
	Loading
	Stale
	SkipMonitor
	SkipSlowlog
	Fast
	NoAuth
	MayReplicate
	NoMulti
	AllowBusy

	// Local commands run on the connection's IO goroutine (RunConn).
	Local
	// AllWorkers commands hold every worker and see the whole keyspace.
	AllWorkers
)

// Split describes a multi-key command whose keys are processed one by one
// and can therefore run as parallel per-worker parts (see KeyFn).
type Split uint8

const (
	// NoSplit: a command whose keys span workers runs as one function on
	// the last worker to reach the barrier, with every held worker's data.
	NoSplit Split = iota
	// SplitSum: the reply is the sum of KeyFn's results (DEL, EXISTS, ...).
	SplitSum
	// SplitArray: the reply is an array of what KeyFn wrote per key (MGET).
	SplitArray
	// SplitOK: the reply is +OK (MSET).
	SplitOK
)

// Command is one entry of the command table.
type Command struct {
	Name  string // lower case; subcommands "container|sub"
	Arity int    // Redis arity: >0 exact, <0 at least -Arity
	Flags Flags
	// Legacy key range as COMMAND INFO reports it; FirstKey 0 = no keys.
	FirstKey, LastKey, Step int
	// Keys overrides the key range for commands with movable keys.
	Keys func(args [][]byte) [][]byte

	// Exactly one of the following runs the command.
	Run     func(x *Ctx)                                  // on the owning worker(s)
	RunConn func(c *Conn, args [][]byte, w *proto.Writer) // Local: on the IO goroutine

	// Split commands also set KeyFn: it handles one key group (key followed
	// by Step-1 further arguments) and returns its count for SplitSum.
	Split Split
	KeyFn func(x *Ctx, key []byte, rest [][]byte) int64

	// Container commands dispatch on their first argument.
	subs map[string]*Command
	// Parent is the container of a subcommand.
	Parent *Command

	id    int // index into Registry.byID, for statistics
	stats cmdStats
}

// IsContainer reports whether the command has subcommands.
func (c *Command) IsContainer() bool { return c.subs != nil }

// Subcommands returns the subcommands sorted by name.
func (c *Command) Subcommands() []*Command {
	out := make([]*Command, 0, len(c.subs))
	for _, s := range c.subs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Registry is the command table. It is built once at start-up and read-only
// afterwards.
type Registry struct {
	cmds map[string]*Command
	byID []*Command
}

func newRegistry() *Registry { return &Registry{cmds: make(map[string]*Command)} }

// Add registers a command or, for names "container|sub", a subcommand of an
// already registered container. Registering a name twice panics.
func (r *Registry) Add(c *Command) {
	if c.Name != strings.ToLower(c.Name) {
		panic("command name must be lower case: " + c.Name)
	}
	if (c.Run == nil) == (c.RunConn == nil) && !c.IsContainer() {
		panic("command needs exactly one of Run and RunConn: " + c.Name)
	}
	if c.RunConn != nil {
		c.Flags |= Local
	}
	if c.Split != NoSplit && c.KeyFn == nil {
		panic("split command without KeyFn: " + c.Name)
	}
	c.id = len(r.byID)
	r.byID = append(r.byID, c)
	if parent, sub, ok := strings.Cut(c.Name, "|"); ok {
		p := r.cmds[parent]
		if p == nil || p.subs == nil {
			panic("subcommand before its container: " + c.Name)
		}
		if p.subs[sub] != nil {
			panic("command registered twice: " + c.Name)
		}
		c.Parent = p
		p.subs[sub] = c
		return
	}
	if r.cmds[c.Name] != nil {
		panic("command registered twice: " + c.Name)
	}
	r.cmds[c.Name] = c
}

// AddContainer registers a container command (CLIENT, CONFIG, ...).
func (r *Registry) AddContainer(name string, arity int, flags Flags) {
	c := &Command{Name: name, Arity: arity, Flags: flags, subs: make(map[string]*Command)}
	c.id = len(r.byID)
	r.byID = append(r.byID, c)
	if r.cmds[name] != nil {
		panic("command registered twice: " + name)
	}
	r.cmds[name] = c
}

// Lookup finds a top-level command by name, case-insensitively, without
// allocating.
func (r *Registry) Lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return r.cmds[strings.ToLower(string(name))]
	}
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return r.cmds[string(buf[:len(name)])]
}

// LookupName finds a command or subcommand by its full lower-case name.
func (r *Registry) LookupName(full string) *Command {
	parent, sub, ok := strings.Cut(full, "|")
	c := r.cmds[parent]
	if !ok || c == nil {
		return c
	}
	return c.subs[sub]
}

// Sub finds a subcommand of c, case-insensitively.
func (c *Command) Sub(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return c.subs[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return c.subs[string(buf[:len(name)])]
}

// All returns every top-level command, sorted by name.
func (r *Registry) All() []*Command {
	out := make([]*Command, 0, len(r.cmds))
	for _, c := range r.cmds {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CheckArity reports whether n arguments (command name included) fit.
func (c *Command) CheckArity(n int) bool {
	if c.Arity >= 0 {
		return n == c.Arity
	}
	return n >= -c.Arity
}

// KeyPositions appends the argument indexes of the command's keys to dst.
func (c *Command) KeyPositions(args [][]byte, dst []int) []int {
	if c.FirstKey <= 0 || c.Keys != nil {
		return dst
	}
	last := c.LastKey
	if last < 0 {
		last = len(args) + last
	}
	for i := c.FirstKey; i <= last && i < len(args); i += c.Step {
		dst = append(dst, i)
	}
	return dst
}

// GetKeys returns the keys of a call (COMMAND GETKEYS and routing).
func (c *Command) GetKeys(args [][]byte) [][]byte {
	if c.Keys != nil {
		return c.Keys(args)
	}
	var pos [16]int
	var keys [][]byte
	for _, i := range c.KeyPositions(args, pos[:0]) {
		keys = append(keys, args[i])
	}
	return keys
}

// FullName is the name COMMAND and error messages use ("client|list").
func (c *Command) FullName() string { return c.Name }

func (c *Command) String() string { return fmt.Sprintf("command %s", c.Name) }

// Ctx is what a command sees while it runs on a worker.
//
// Args and the byte slices in them are valid only while the command runs.
// W is the reply; write exactly one RESP value.
type Ctx struct {
	Args   [][]byte
	W      *proto.Writer
	DB     shard.DB
	Worker *shard.Worker
	Client *ClientInfo
	Srv    *Server

	req *request // the request being run (slow log, client fields)
}

// ClientInfo is the part of a connection a command on a worker may read:
// fixed for the duration of the batch.
type ClientInfo struct {
	ID      int64
	Resp3   bool
	NoTouch bool
}

// Reply helpers used across families.

// ErrWrongType is Redis's WRONGTYPE error text.
const ErrWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"

// Common error texts, exactly as Redis 7 writes them.
const (
	ErrSyntax       = "ERR syntax error"
	ErrNotInteger   = "ERR value is not an integer or out of range"
	ErrNotFloat     = "ERR value is not a valid float"
	ErrNoSuchKey    = "ERR no such key"
	ErrOverflow     = "ERR increment or decrement would overflow"
	ErrInvalidExp   = "ERR invalid expire time in '%s' command"
	ErrDBIndex      = "ERR DB index is out of range"
	ErrInt32Range   = "ERR value is out of range, value must between -2147483648 and 2147483647"
	ErrNoAuth       = "NOAUTH Authentication required."
	ErrWrongPass    = "WRONGPASS invalid username-password pair or user is disabled."
	ErrSameObject   = "ERR source and destination objects are the same"
	ErrStringTooBig = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
)

// WrongArgs is the arity error for a command.
func WrongArgs(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}
