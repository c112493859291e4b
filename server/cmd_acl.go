package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server/cmdspec"
)

// ACL introspection for the one user kvd has: "default", allowed every
// command, key and channel, with requirepass (if set) as its password.
// The subcommands that only read (WHOAMI, USERS, LIST, GETUSER, CAT,
// GENPASS, DRYRUN, HELP) answer as Redis 7.0 does for that user. Those
// that would create, change, load or save users (SETUSER, DELUSER, LOAD,
// SAVE) and the ACL LOG are not there: they answer Redis's unknown
// subcommand error, so a client learns they are missing.

// aclCategories are Redis 7.0's ACL categories in ACL CAT's order.
var aclCategories = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
	"connection", "transaction", "scripting"}

func registerACL(r *Registry) {
	const ro = NoScript | Loading | Stale
	r.AddContainer("acl", -2, 0)
	r.Add(&Command{Name: "acl|whoami", Arity: 2, Flags: ro, RunConn: cmdACLWhoami})
	r.Add(&Command{Name: "acl|users", Arity: 2, Flags: Admin | ro, RunConn: cmdACLUsers})
	r.Add(&Command{Name: "acl|list", Arity: 2, Flags: Admin | ro, RunConn: cmdACLList})
	r.Add(&Command{Name: "acl|getuser", Arity: 3, Flags: Admin | ro, RunConn: cmdACLGetUser})
	r.Add(&Command{Name: "acl|cat", Arity: -2, Flags: ro, RunConn: cmdACLCat})
	r.Add(&Command{Name: "acl|genpass", Arity: -2, Flags: ro, RunConn: cmdACLGenPass})
	r.Add(&Command{Name: "acl|dryrun", Arity: -4, Flags: Admin | ro, RunConn: cmdACLDryRun})
	r.Add(&Command{Name: "acl|help", Arity: 2, Flags: Loading | Stale, RunConn: cmdACLHelp})
}

func cmdACLWhoami(c *Conn, args [][]byte, w *proto.Writer) { w.BulkString("default") }

func cmdACLUsers(c *Conn, args [][]byte, w *proto.Writer) { w.StringArray([]string{"default"}) }

// aclPasswordHash is the SHA-256 of requirepass in hex, as ACL shows
// passwords, or "" when there is none (nopass).
func (c *Conn) aclPasswordHash() string {
	p := c.srv.cfg.RequirePass()
	if p == "" {
		return ""
	}
	h := sha256.Sum256([]byte(p))
	return hex.EncodeToString(h[:])
}

func cmdACLList(c *Conn, args [][]byte, w *proto.Writer) {
	pass := "nopass"
	if h := c.aclPasswordHash(); h != "" {
		pass = "#" + h
	}
	w.StringArray([]string{"user default on " + pass + " ~* &* +@all"})
}

func cmdACLGetUser(c *Conn, args [][]byte, w *proto.Writer) {
	if string(args[2]) != "default" {
		w.Null()
		return
	}
	flags, passwords := []string{"on", "nopass"}, []string{}
	if h := c.aclPasswordHash(); h != "" {
		flags, passwords = []string{"on"}, []string{h}
	}
	w.Map(6)
	w.BulkString("flags")
	w.StringSet(flags)
	w.BulkString("passwords")
	w.StringArray(passwords)
	w.BulkString("commands")
	w.BulkString("+@all")
	w.BulkString("keys")
	w.BulkString("~*")
	w.BulkString("channels")
	w.BulkString("&*")
	w.BulkString("selectors")
	w.Array(0)
}

// cmdACLCat lists the categories, or the commands (and subcommands, as
// "container|sub") of one, among those kvd has, in the registry's order.
func cmdACLCat(c *Conn, args [][]byte, w *proto.Writer) {
	switch len(args) {
	case 2:
		w.StringArray(aclCategories)
		return
	case 3:
	default:
		w.Error(adminSyntaxError(args))
		return
	}
	cat := strings.ToLower(string(args[2]))
	known := false
	for _, k := range aclCategories {
		known = known || k == cat
	}
	if !known {
		w.Error("ERR Unknown category '" + truncate(string(args[2]), 128) + "'")
		return
	}
	var names []string
	add := func(cmd *Command) {
		if spec := cmdspec.Lookup(cmd.Name); spec != nil {
			for _, a := range spec.ACLCategories {
				if a == "@"+cat {
					names = append(names, cmd.Name)
					return
				}
			}
		}
	}
	for _, cmd := range c.srv.reg.All() {
		add(cmd)
		for _, sub := range cmd.Subcommands() {
			add(sub)
		}
	}
	w.StringArray(names)
}

func cmdACLGenPass(c *Conn, args [][]byte, w *proto.Writer) {
	bits := int64(256)
	if len(args) > 3 {
		w.Error(adminSyntaxError(args))
		return
	}
	if len(args) == 3 {
		n, ok := strictInt64(args[2])
		if !ok {
			w.Error(ErrNotInteger)
			return
		}
		if n <= 0 || n > 4096 {
			w.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
			return
		}
		bits = n
	}
	chars := (bits + 3) / 4
	buf := make([]byte, (chars+1)/2)
	rand.Read(buf)
	w.BulkString(hex.EncodeToString(buf)[:chars])
}

// cmdACLDryRun: the default user may run everything, so the answer is OK
// once the command exists and its arity fits, as in Redis's checks.
func cmdACLDryRun(c *Conn, args [][]byte, w *proto.Writer) {
	if string(args[2]) != "default" {
		w.Error("ERR User '" + truncate(string(args[2]), 128) + "' not found")
		return
	}
	argv := args[3:]
	cmd := c.srv.reg.Lookup(argv[0])
	if cmd != nil && cmd.IsContainer() && len(argv) >= 2 {
		cmd = cmd.Sub(argv[1])
	}
	if cmd == nil {
		w.Error("ERR Command '" + truncate(string(argv[0]), 128) + "' not found")
		return
	}
	if !cmd.CheckArity(len(argv)) {
		w.Error(WrongArgs(cmd.Name))
		return
	}
	w.OK()
}

func cmdACLHelp(c *Conn, args [][]byte, w *proto.Writer) {
	adminHelp(w, args[0], []string{
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
		"(kvd has only the default user: no SETUSER, DELUSER, LOAD, SAVE or LOG.)",
	})
}
