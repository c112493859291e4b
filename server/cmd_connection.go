package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/kvd/kvd/proto"
)

// connFlags are the Redis flags AUTH, HELLO, QUIT and RESET share:
// noscript loading stale fast no_auth allow_busy.
const connFlags = NoScript | Loading | Stale | Fast | NoAuth | AllowBusy

// registerConnection registers the connection family (PING, ECHO, HELLO,
// AUTH, SELECT, QUIT, RESET).
func registerConnection(r *Registry) {
	r.Add(&Command{Name: "ping", Arity: -1, Flags: Fast, RunConn: cmdPing})
	r.Add(&Command{Name: "echo", Arity: 2, Flags: Loading | Stale | Fast, RunConn: cmdEcho})
	r.Add(&Command{Name: "select", Arity: 2, Flags: Loading | Stale | Fast, RunConn: cmdSelect})
	r.Add(&Command{Name: "auth", Arity: -2, Flags: connFlags, RunConn: cmdAuth})
	r.Add(&Command{Name: "hello", Arity: -1, Flags: connFlags, RunConn: cmdHello})
	r.Add(&Command{Name: "quit", Arity: -1, Flags: connFlags, RunConn: cmdQuit})
	r.Add(&Command{Name: "reset", Arity: 1, Flags: connFlags, RunConn: cmdReset})
}

// connResetHooks run on RESET, after the connection family has reset its
// own state. Families holding per-connection state (MULTI, Pub/Sub,
// tracking) append to it from their register function; it is read-only
// once the server runs.
var connResetHooks []func(c *Conn)

func cmdPing(c *Conn, args [][]byte, w *proto.Writer) {
	if len(args) <= 2 && c.pubsubPing(args, w) { // RESP2 subscribed mode (pubsub.go)
		return
	}
	switch len(args) {
	case 1:
		w.Simple("PONG")
	case 2:
		w.Bulk(args[1])
	default:
		w.Error(WrongArgs("ping"))
	}
}

func cmdEcho(c *Conn, args [][]byte, w *proto.Writer) { w.Bulk(args[1]) }

// cmdQuit answers +OK; the connection closes once the reply is written.
func cmdQuit(c *Conn, args [][]byte, w *proto.Writer) {
	w.OK()
	c.quit = true
}

func cmdSelect(c *Conn, args [][]byte, w *proto.Writer) {
	id, e := parseInt32(args[1])
	switch {
	case e != "":
		w.Error(e)
	case id < 0 || id >= c.srv.eng.Databases():
		w.Error(ErrDBIndex)
	default:
		c.selectDB(id)
		w.OK()
	}
}

// selectDB switches the connection's database.
func (c *Conn) selectDB(id int) {
	c.db = id
	c.dbShared.Store(int32(id))
}

// setResp switches the protocol of the replies to later commands.
func (c *Conn) setResp(ver int) {
	c.resp3 = ver == 3
	c.info.Resp3 = c.resp3
	c.protoVer.Store(int32(ver))
}

// setAuthed marks the connection (de)authenticated.
func (c *Conn) setAuthed(v bool) {
	c.authed = v
	c.rd.Unauthenticated = !v
}

func cmdAuth(c *Conn, args [][]byte, w *proto.Writer) {
	defer redactInPlace("auth", args)
	var user, pass []byte
	switch len(args) {
	case 2:
		if c.srv.cfg.RequirePass() == "" {
			w.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
		user, pass = []byte("default"), args[1]
	case 3:
		user, pass = args[1], args[2]
	default:
		w.Error(ErrSyntax)
		return
	}
	if !c.authenticate(user, pass) {
		w.Error(ErrWrongPass)
		return
	}
	w.OK()
}

// authenticate checks a user name and password. kvd has one user,
// "default", whose password is requirepass (none: any password is
// accepted, as for Redis's nopass user). On success the connection is
// authenticated; a failure leaves its state unchanged.
func (c *Conn) authenticate(user, pass []byte) bool {
	if string(user) != "default" {
		return false
	}
	if want := c.srv.cfg.RequirePass(); want != "" {
		// Compare digests so that the time taken does not depend on
		// where the passwords differ.
		a, b := sha256.Sum256(pass), sha256.Sum256([]byte(want))
		if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
			return false
		}
	}
	c.setAuthed(true)
	return true
}

func cmdHello(c *Conn, args [][]byte, w *proto.Writer) {
	defer redactInPlace("hello", args)
	var ver int64
	next := 1
	if len(args) >= 2 {
		v, ok := strictInt64(args[1])
		if !ok {
			w.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			w.Error("NOPROTO unsupported protocol version")
			return
		}
		ver = v
		next = 2
	}
	// Redis 7.0 applies the options in order as it parses them: an
	// earlier AUTH or SETNAME stays done when a later option fails.
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		opt := string(args[j])
		switch {
		case strings.EqualFold(opt, "auth") && more >= 2:
			if !c.authenticate(args[j+1], args[j+2]) {
				w.Error(ErrWrongPass)
				return
			}
			j += 2
		case strings.EqualFold(opt, "setname") && more >= 1:
			if !c.setNameOrReply(args[j+1], w) {
				return
			}
			j++
		default:
			w.Error("ERR Syntax error in HELLO option '" + opt + "'")
			return
		}
	}
	if !c.authed {
		w.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if ver != 0 {
		c.setResp(int(ver))
		w.Resp3 = c.resp3 // HELLO's own reply is in the new protocol
	}
	w.Map(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(Version)
	w.BulkString("proto")
	w.Int(int64(c.protoVer.Load()))
	w.BulkString("id")
	w.Int(c.id)
	w.BulkString("mode")
	w.BulkString("standalone")
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.Array(0)
}

// cmdReset returns the connection to its initial state: database 0,
// RESP2, replies on, no name, no NO-EVICT/NO-TOUCH, out of MONITOR, and
// unauthenticated when the default user has a password.
func cmdReset(c *Conn, args [][]byte, w *proto.Writer) {
	if c.replyMode == replyOff {
		// RESET turns replies back on before answering; a reply skipped
		// by CLIENT REPLY SKIP stays skipped.
		c.curReq().noReply = false
	}
	c.replyMode = replyOn
	if c.isMon.Load() {
		c.srv.removeMonitor(c)
		c.isMon.Store(false)
	}
	c.selectDB(0)
	c.setResp(2)
	w.Resp3 = false
	c.setAuthed(c.srv.cfg.RequirePass() == "")
	c.mu.Lock()
	c.name = ""
	c.noEvict = false
	c.noTouch = false
	c.mu.Unlock()
	c.info.NoTouch = false
	for _, h := range connResetHooks {
		h(c)
	}
	w.Simple("RESET")
}

// secretArgs returns the positions of the arguments Redis redacts from
// MONITOR and the slow log ("(redacted)"): AUTH's user and password (when
// the call has a valid form) and the pairs after each HELLO AUTH option up
// to the first option Redis would reject.
func secretArgs(name string, args [][]byte) []int {
	switch name {
	case "auth":
		if len(args) == 2 || len(args) == 3 {
			return []int{1, 2}[:len(args)-1]
		}
	case "hello":
		var pos []int
		for j := 2; j < len(args); j++ {
			more := len(args) - 1 - j
			switch {
			case strings.EqualFold(string(args[j]), "auth") && more >= 2:
				pos = append(pos, j+1, j+2)
				j += 2
			case strings.EqualFold(string(args[j]), "setname") && more >= 1:
				j++
			default:
				return pos
			}
		}
		return pos
	}
	return nil
}

// redactSecrets returns args with the secrets of AUTH and HELLO replaced
// by "(redacted)", for MONITOR; args itself is not modified.
func redactSecrets(cmd *Command, args [][]byte) [][]byte {
	pos := secretArgs(cmd.Name, args)
	if len(pos) == 0 {
		return args
	}
	out := append([][]byte(nil), args...)
	for _, i := range pos {
		out[i] = slowlogRedacted
	}
	return out
}

// redactInPlace hides the secrets from the slow log, which reads the
// request's arguments once the command has run.
func redactInPlace(name string, args [][]byte) {
	for _, i := range secretArgs(name, args) {
		args[i] = slowlogRedacted
	}
}

// curReq is the request a local command is running for: local commands
// run at dispatch, right after their request was added to the batch.
func (c *Conn) curReq() *request { return c.reqs[len(c.reqs)-1] }
