package server

import (
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kvd/kvd/proto"
)

// clientFlags are the Redis flags of most CLIENT subcommands:
// noscript loading stale.
const clientFlags = NoScript | Loading | Stale

// clientAdminFlags are those of the admin subcommands (KILL, LIST, PAUSE,
// UNPAUSE, UNBLOCK, NO-EVICT): admin noscript loading stale.
const clientAdminFlags = Admin | NoScript | Loading | Stale

// registerClient registers the client family.
func registerClient(r *Registry) {
	r.AddContainer("client", -2, 0)
	r.Add(&Command{Name: "client|id", Arity: 2, Flags: clientFlags, RunConn: cmdClientID})
	r.Add(&Command{Name: "client|info", Arity: 2, Flags: clientFlags, RunConn: cmdClientInfo})
	r.Add(&Command{Name: "client|list", Arity: -2, Flags: clientAdminFlags, RunConn: cmdClientList})
	r.Add(&Command{Name: "client|kill", Arity: -3, Flags: clientAdminFlags, RunConn: cmdClientKill})
	r.Add(&Command{Name: "client|setname", Arity: 3, Flags: clientFlags, RunConn: cmdClientSetName})
	r.Add(&Command{Name: "client|getname", Arity: 2, Flags: clientFlags, RunConn: cmdClientGetName})
	r.Add(&Command{Name: "client|setinfo", Arity: 4, Flags: clientFlags, RunConn: cmdClientSetInfo})
	r.Add(&Command{Name: "client|no-evict", Arity: 3, Flags: clientAdminFlags, RunConn: cmdClientNoEvict})
	r.Add(&Command{Name: "client|no-touch", Arity: 3, Flags: clientFlags, RunConn: cmdClientNoTouch})
	r.Add(&Command{Name: "client|reply", Arity: 3, Flags: clientFlags, RunConn: cmdClientReply})
	r.Add(&Command{Name: "client|pause", Arity: -3, Flags: clientAdminFlags, RunConn: cmdClientPause})
	r.Add(&Command{Name: "client|unpause", Arity: 2, Flags: clientAdminFlags, RunConn: cmdClientUnpause})
	r.Add(&Command{Name: "client|unblock", Arity: -3, Flags: clientAdminFlags, RunConn: cmdClientUnblock})
	r.Add(&Command{Name: "client|tracking", Arity: -3, Flags: clientFlags, RunConn: cmdClientTracking}) // tracking.go
	r.Add(&Command{Name: "client|caching", Arity: 3, Flags: clientFlags, RunConn: cmdClientCaching})    // tracking.go
	r.Add(&Command{Name: "client|getredir", Arity: 2, Flags: clientFlags, RunConn: cmdClientGetRedir})
	r.Add(&Command{Name: "client|trackinginfo", Arity: 2, Flags: clientFlags, RunConn: cmdClientTrackingInfo})
	r.Add(&Command{Name: "client|help", Arity: 2, Flags: Loading | Stale, RunConn: cmdClientHelp})
}

// clientState is per-connection state that other families publish for
// CLIENT LIST, CLIENT KILL TYPE and CLIENT UNBLOCK. Every field is safe to
// read from any goroutine.
type clientState struct {
	// Subscription counts, kept by the Pub/Sub family (sub=, psub=,
	// ssub=; a client with any is of type pubsub, flag P).
	subs, psubs, ssubs atomic.Int32
	// multi is 1 + the number of queued commands while in MULTI, 0
	// otherwise (multi=, flag x); kept by the transactions family.
	multi atomic.Int32
	// unblock is set by a blocking command while the connection waits
	// (flag b) and cleared when it stops waiting. CLIENT UNBLOCK calls it
	// from another goroutine; it reports whether the client was woken.
	unblock atomic.Pointer[func(withError bool) bool]
}

func cmdClientID(c *Conn, args [][]byte, w *proto.Writer) { w.Int(c.id) }

func cmdClientInfo(c *Conn, args [][]byte, w *proto.Writer) {
	b := c.appendInfo(nil, c, time.Now())
	b = append(b, '\n')
	w.Verbatim("txt", string(b))
}

// Client types (CLIENT LIST TYPE, CLIENT KILL TYPE).
const (
	clientNormal = iota
	clientReplica
	clientPubSub
	clientMaster
)

func clientTypeByName(name string) int {
	switch strings.ToLower(name) {
	case "normal":
		return clientNormal
	case "slave", "replica":
		return clientReplica
	case "pubsub":
		return clientPubSub
	case "master":
		return clientMaster
	}
	return -1
}

// clientType is the type of a connection: kvd has no replication links,
// so every client is normal or, with subscriptions, pubsub.
func (c *Conn) clientType() int {
	if c.cs.subs.Load()+c.cs.psubs.Load()+c.cs.ssubs.Load() > 0 {
		return clientPubSub
	}
	return clientNormal
}

func cmdClientList(c *Conn, args [][]byte, w *proto.Writer) {
	typ := -1
	var ids []int64
	switch {
	case len(args) == 4 && strings.EqualFold(string(args[2]), "type"):
		typ = clientTypeByName(string(args[3]))
		if typ < 0 {
			w.Error("ERR Unknown client type '" + string(args[3]) + "'")
			return
		}
	case len(args) > 3 && strings.EqualFold(string(args[2]), "id"):
		for _, a := range args[3:] {
			id, ok := strictInt64(a)
			if !ok {
				w.Error("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	case len(args) != 2:
		w.Error(ErrSyntax)
		return
	}
	now := time.Now()
	var b []byte
	if ids != nil {
		for _, id := range ids {
			if t := c.srv.clientByID(id); t != nil {
				b = t.appendInfo(b, c, now)
				b = append(b, '\n')
			}
		}
	} else {
		for _, t := range c.srv.clientsByID() {
			if typ >= 0 && t.clientType() != typ {
				continue
			}
			b = t.appendInfo(b, c, now)
			b = append(b, '\n')
		}
	}
	w.Verbatim("txt", string(b))
}

// clientsByID snapshots the connected clients in creation order.
func (s *Server) clientsByID() []*Conn {
	s.clientsMu.Lock()
	out := make([]*Conn, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.clientsMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// clientByID finds a connected client.
func (s *Server) clientByID(id int64) *Conn {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	return s.clients[id]
}

// peerAddr is the client's address as Redis prints it: ip:port, [ip6]:port
// or, for a Unix socket, path:0.
func (c *Conn) peerAddr() string {
	if _, ok := c.nc.(*net.UnixConn); ok {
		return c.nc.LocalAddr().String() + ":0"
	}
	return c.nc.RemoteAddr().String()
}

// localAddr is the address the client connected to.
func (c *Conn) localAddr() string {
	if _, ok := c.nc.(*net.UnixConn); ok {
		return c.nc.LocalAddr().String() + ":0"
	}
	return c.nc.LocalAddr().String()
}

// fd is the connection's file descriptor, -1 when there is none (closed,
// or not an OS socket).
func (c *Conn) fd() int {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if raw.Control(func(f uintptr) { fd = int(f) }) != nil {
		return -1
	}
	return fd
}

// appendInfo appends the connection's CLIENT LIST line (without the
// newline) in Redis 7.0's format. self is the connection running the
// command: only its own query buffer and arguments can be read safely, so
// other connections, which are between commands or busy on their own
// goroutine, report qbuf=0 argv-mem=0. kvd has no fixed reply buffer
// (rbs, rbp, obl, oll are 0); omem is what waits for the asynchronous
// writer (MONITOR, Pub/Sub).
func (c *Conn) appendInfo(b []byte, self *Conn, now time.Time) []byte {
	c.mu.Lock()
	name, noEvict, noTouch := c.name, c.noEvict, c.noTouch
	c.mu.Unlock()
	lastCmd := "NULL"
	if cmd := c.lastCmd.Load(); cmd != nil {
		lastCmd = cmd.Name
	}
	var qbuf, argvMem int64
	if c == self && len(c.reqs) > 0 {
		args := c.curReq().args
		qbuf = int64(c.rd.Buffered())
		qbuf += int64(1 + len(strconv.Itoa(len(args))) + 2)
		for _, a := range args {
			argvMem += int64(len(a))
			qbuf += int64(1 + len(strconv.Itoa(len(a))) + 2 + len(a) + 2)
		}
	}
	omem := int64(c.async.pending())
	subs, psubs, ssubs := c.cs.subs.Load(), c.cs.psubs.Load(), c.cs.ssubs.Load()
	multi := int64(c.cs.multi.Load()) - 1

	var flags []byte
	if c.isMon.Load() {
		flags = append(flags, 'O')
	}
	if subs+psubs+ssubs > 0 {
		flags = append(flags, 'P')
	}
	if multi >= 0 {
		flags = append(flags, 'x')
	}
	if c.cs.unblock.Load() != nil {
		flags = append(flags, 'b')
	}
	flags = c.trackingFlags(flags) // t R B (tracking.go)
	if _, ok := c.nc.(*net.UnixConn); ok {
		flags = append(flags, 'U')
	}
	if noEvict {
		flags = append(flags, 'e')
	}
	if noTouch {
		flags = append(flags, 'T')
	}
	if len(flags) == 0 {
		flags = append(flags, 'N')
	}
	events := "r"
	if omem > 0 {
		events = "rw"
	}
	idle := now.UnixMilli() - c.lastSeen.Load()
	if idle < 0 {
		idle = 0
	}

	num := func(key string, v int64) {
		b = append(b, ' ')
		b = append(b, key...)
		b = append(b, '=')
		b = strconv.AppendInt(b, v, 10)
	}
	str := func(key, v string) {
		b = append(b, ' ')
		b = append(b, key...)
		b = append(b, '=')
		b = append(b, v...)
	}
	b = append(b, "id="...)
	b = strconv.AppendInt(b, c.id, 10)
	str("addr", c.peerAddr())
	str("laddr", c.localAddr())
	num("fd", int64(c.fd()))
	str("name", name)
	num("age", int64(now.Sub(c.created)/time.Second))
	num("idle", idle/1000)
	str("flags", string(flags))
	num("db", int64(c.dbShared.Load()))
	num("sub", int64(subs))
	num("psub", int64(psubs))
	num("ssub", int64(ssubs))
	num("multi", multi)
	num("qbuf", qbuf)
	num("qbuf-free", 0)
	num("argv-mem", argvMem)
	num("multi-mem", 0)
	num("rbs", 0)
	num("rbp", 0)
	num("obl", 0)
	num("oll", 0)
	num("omem", omem)
	num("tot-mem", qbuf+argvMem+omem)
	str("events", events)
	str("cmd", lastCmd)
	str("user", "default")
	num("redir", c.trackingRedir())
	num("resp", int64(c.protoVer.Load()))
	return b
}

func cmdClientKill(c *Conn, args [][]byte, w *proto.Writer) {
	var addr, laddr *string
	typ := -1
	var id int64
	skipme := true
	if len(args) == 3 {
		// Old form: CLIENT KILL addr, which may kill the caller.
		a := string(args[2])
		addr = &a
		skipme = false
	} else {
		for i := 2; i < len(args); i += 2 {
			opt := strings.ToLower(string(args[i]))
			if i+1 >= len(args) {
				w.Error(ErrSyntax)
				return
			}
			val := string(args[i+1])
			switch opt {
			case "id":
				v, ok := strictInt64(args[i+1])
				if !ok || v < 1 {
					w.Error("ERR client-id should be greater than 0")
					return
				}
				id = v
			case "type":
				typ = clientTypeByName(val)
				if typ < 0 {
					w.Error("ERR Unknown client type '" + val + "'")
					return
				}
			case "addr":
				addr = &val
			case "laddr":
				laddr = &val
			case "user":
				if val != "default" {
					w.Error("ERR No such user '" + val + "'")
					return
				}
			case "skipme":
				switch strings.ToLower(val) {
				case "yes":
					skipme = true
				case "no":
					skipme = false
				default:
					w.Error(ErrSyntax)
					return
				}
			default:
				w.Error(ErrSyntax)
				return
			}
		}
	}
	killed := 0
	for _, t := range c.srv.clientsByID() {
		switch {
		case addr != nil && t.peerAddr() != *addr,
			laddr != nil && t.localAddr() != *laddr,
			typ >= 0 && t.clientType() != typ,
			id != 0 && t.id != id,
			t == c && skipme:
			continue
		}
		if t == c {
			c.quit = true // closed once this reply is written
		} else {
			t.kill()
		}
		killed++
	}
	if len(args) == 3 {
		if killed == 0 {
			w.Error("ERR No such client")
		} else {
			w.OK()
		}
		return
	}
	w.Int(int64(killed))
}

// kill disconnects another client at once: it leaves the client table
// and its socket is closed, which ends its IO goroutine.
func (c *Conn) kill() {
	c.killed.Store(true)
	c.srv.removeConn(c)
	c.nc.Close()
}

// validClientName reports whether s may be a client name or library
// attribute: printable ASCII without spaces (empty is allowed).
func validClientName(s []byte) bool {
	for _, ch := range s {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// setNameOrReply sets the connection name, or answers the error and
// returns false.
func (c *Conn) setNameOrReply(name []byte, w *proto.Writer) bool {
	if !validClientName(name) {
		w.Error("ERR Client names cannot contain spaces, newlines or special characters.")
		return false
	}
	c.mu.Lock()
	c.name = string(name)
	c.mu.Unlock()
	return true
}

func cmdClientSetName(c *Conn, args [][]byte, w *proto.Writer) {
	if c.setNameOrReply(args[2], w) {
		w.OK()
	}
}

func cmdClientGetName(c *Conn, args [][]byte, w *proto.Writer) {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	if name == "" {
		w.Null()
		return
	}
	w.BulkString(name)
}

// cmdClientSetInfo is Redis 7.2's CLIENT SETINFO LIB-NAME|LIB-VER value.
func cmdClientSetInfo(c *Conn, args [][]byte, w *proto.Writer) {
	attr := string(args[2])
	var dst *string
	switch strings.ToLower(attr) {
	case "lib-name":
		dst = &c.libName
	case "lib-ver":
		dst = &c.libVer
	default:
		w.Error("ERR Unrecognized option '" + attr + "'")
		return
	}
	if !validClientName(args[3]) {
		w.Error("ERR " + attr + " cannot contain spaces, newlines or special characters.")
		return
	}
	c.mu.Lock()
	*dst = string(args[3])
	c.mu.Unlock()
	w.OK()
}

// onOff parses ON/OFF; ok is false for anything else.
func onOff(b []byte) (on, ok bool) {
	switch {
	case strings.EqualFold(string(b), "on"):
		return true, true
	case strings.EqualFold(string(b), "off"):
		return false, true
	}
	return false, false
}

func cmdClientNoEvict(c *Conn, args [][]byte, w *proto.Writer) {
	on, ok := onOff(args[2])
	if !ok {
		w.Error(ErrSyntax)
		return
	}
	c.mu.Lock()
	c.noEvict = on
	c.mu.Unlock()
	w.OK()
}

// cmdClientNoTouch is Redis 7.2's CLIENT NO-TOUCH: the client's reads do
// not update access times.
func cmdClientNoTouch(c *Conn, args [][]byte, w *proto.Writer) {
	on, ok := onOff(args[2])
	if !ok {
		w.Error(ErrSyntax)
		return
	}
	c.mu.Lock()
	c.noTouch = on
	c.mu.Unlock()
	c.info.NoTouch = on
	w.OK()
}

func cmdClientReply(c *Conn, args [][]byte, w *proto.Writer) {
	switch strings.ToLower(string(args[2])) {
	case "on":
		// Replies are back on before this command answers, even when it
		// was the command CLIENT REPLY SKIP silenced.
		c.replyMode = replyOn
		c.curReq().noReply = false
		w.OK()
	case "off":
		c.replyMode = replyOff
	case "skip":
		if c.replyMode != replyOff {
			c.replyMode = replySkip
		}
	default:
		w.Error(ErrSyntax)
	}
}

// subcommandSyntaxError is Redis's reply to a known subcommand called with
// an argument count it does not accept.
func subcommandSyntaxError(args [][]byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + truncate(string(args[1]), 128) +
		"'. Try " + strings.ToUpper(string(args[0])) + " HELP."
}

func cmdClientPause(c *Conn, args [][]byte, w *proto.Writer) {
	if len(args) > 4 {
		w.Error(subcommandSyntaxError(args))
		return
	}
	writeOnly := false
	if len(args) == 4 {
		switch strings.ToLower(string(args[3])) {
		case "write":
			writeOnly = true
		case "all":
		default:
			w.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := strictInt64(args[2])
	if !ok {
		w.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		w.Error("ERR timeout is negative")
		return
	}
	d := time.Duration(math.MaxInt64)
	if ms < int64(d/time.Millisecond) {
		d = time.Duration(ms) * time.Millisecond
	}
	c.srv.Pause(d, writeOnly)
	w.OK()
}

func cmdClientUnpause(c *Conn, args [][]byte, w *proto.Writer) {
	c.srv.Unpause()
	w.OK()
}

func cmdClientUnblock(c *Conn, args [][]byte, w *proto.Writer) {
	if len(args) > 4 {
		w.Error(subcommandSyntaxError(args))
		return
	}
	withError := false
	if len(args) == 4 {
		switch strings.ToLower(string(args[3])) {
		case "timeout":
		case "error":
			withError = true
		default:
			w.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := strictInt64(args[2])
	if !ok {
		w.Error(ErrNotInteger)
		return
	}
	if t := c.srv.clientByID(id); t != nil {
		if fn := t.cs.unblock.Load(); fn != nil && (*fn)(withError) {
			w.Int(1)
			return
		}
	}
	w.Int(0)
}

// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO are in tracking.go.

// clientHelp is Redis 7.0.15's CLIENT HELP text.
var clientHelp = []string{
	"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
	"HELP",
	"    Prints this help.",
}

func cmdClientHelp(c *Conn, args [][]byte, w *proto.Writer) {
	w.Array(len(clientHelp))
	for _, l := range clientHelp {
		w.Simple(l)
	}
}
