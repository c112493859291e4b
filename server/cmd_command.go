package server

import (
	"strconv"
	"strings"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server/cmdspec"
)

// registerCommand registers the COMMAND container: COMMAND, COMMAND COUNT,
// INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS and HELP.
//
// Everything COMMAND reports describes what kvd has registered: only the
// commands and subcommands in the Registry are listed, arity, the legacy key
// range and the flags kvd dispatches on come from kvd's own Command entries,
// and the rest (ACL categories, tips, key specs, documentation) comes from
// the Redis 7.0 metadata in package cmdspec. registry_spec_test.go checks
// that the two agree.
func registerCommand(r *Registry) {
	r.AddContainer("command", -1, Loading|Stale)
	// COMMAND without a subcommand is a command of its own (all INFO
	// entries), so the container itself runs.
	c := r.LookupName("command")
	c.RunConn = cmdCommandAll
	c.Flags |= Local
	r.Add(&Command{Name: "command|count", Arity: 2, Flags: Loading | Stale, RunConn: cmdCommandCount})
	r.Add(&Command{Name: "command|docs", Arity: -2, Flags: Loading | Stale, RunConn: cmdCommandDocs})
	r.Add(&Command{Name: "command|getkeys", Arity: -4, Flags: Loading | Stale, RunConn: cmdCommandGetKeys})
	r.Add(&Command{Name: "command|getkeysandflags", Arity: -4, Flags: Loading | Stale, RunConn: cmdCommandGetKeysAndFlags})
	r.Add(&Command{Name: "command|help", Arity: 2, Flags: Loading | Stale, RunConn: cmdCommandHelp})
	r.Add(&Command{Name: "command|info", Arity: -2, Flags: Loading | Stale, RunConn: cmdCommandInfo})
	r.Add(&Command{Name: "command|list", Arity: -2, Flags: Loading | Stale, RunConn: cmdCommandList})
}

var commandHelp = []string{
	"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
	"HELP",
	"    Prints this help.",
}

func cmdCommandHelp(_ *Conn, _ [][]byte, w *proto.Writer) {
	w.Array(len(commandHelp))
	for _, l := range commandHelp {
		w.Simple(l)
	}
}

// cmdCommandAll is COMMAND without arguments: the INFO entry of every
// top-level command (subcommands are nested in their container's entry).
func cmdCommandAll(c *Conn, _ [][]byte, w *proto.Writer) {
	all := c.srv.reg.All()
	w.Array(len(all))
	for _, cmd := range all {
		writeCommandInfo(w, cmd)
	}
}

func cmdCommandCount(c *Conn, _ [][]byte, w *proto.Writer) {
	w.Int(int64(len(c.srv.reg.cmds)))
}

// cmdCommandInfo is COMMAND INFO [name ...]: one entry per name, nil for a
// name kvd does not know. Without names it is COMMAND.
func cmdCommandInfo(c *Conn, args [][]byte, w *proto.Writer) {
	if len(args) == 2 {
		cmdCommandAll(c, args, w)
		return
	}
	w.Array(len(args) - 2)
	for _, name := range args[2:] {
		if cmd := lookupCommandBySds(c.srv.reg, string(name)); cmd != nil {
			writeCommandInfo(w, cmd)
		} else {
			w.Null()
		}
	}
}

// cmdCommandDocs is COMMAND DOCS [name ...]: a map of full name to
// documentation, unknown names left out. Without names: every top-level
// command.
func cmdCommandDocs(c *Conn, args [][]byte, w *proto.Writer) {
	var cmds []*Command
	if len(args) == 2 {
		cmds = c.srv.reg.All()
	} else {
		for _, name := range args[2:] {
			if cmd := lookupCommandBySds(c.srv.reg, string(name)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	w.Map(len(cmds))
	for _, cmd := range cmds {
		w.BulkString(cmd.Name)
		writeCommandDocs(w, cmd)
	}
}

// cmdCommandList is COMMAND LIST [FILTERBY MODULE m|ACLCAT c|PATTERN p]:
// the full names of every command and subcommand.
func cmdCommandList(c *Conn, args [][]byte, w *proto.Writer) {
	filter := func(*Command) bool { return true }
	for i := 2; i < len(args); i++ {
		if !strings.EqualFold(string(args[i]), "filterby") || len(args)-1-i != 2 {
			w.Error(ErrSyntax)
			return
		}
		arg := args[i+2]
		switch strings.ToLower(string(args[i+1])) {
		case "module":
			// kvd has no modules: no command belongs to any.
			filter = func(*Command) bool { return false }
		case "aclcat":
			cat := ""
			for _, name := range cmdspec.ACLCategoryNames {
				if strings.EqualFold(name, string(arg)) {
					cat = "@" + name
				}
			}
			filter = func(cmd *Command) bool {
				if cat == "" {
					return false
				}
				for _, have := range commandCategories(cmd, cmdspec.Lookup(cmd.Name)) {
					if have == cat {
						return true
					}
				}
				return false
			}
		case "pattern":
			filter = func(cmd *Command) bool { return GlobMatch(arg, []byte(cmd.Name), true) }
		default:
			w.Error(ErrSyntax)
			return
		}
		i += 2
	}
	var names []string
	for _, cmd := range c.srv.reg.All() {
		if filter(cmd) {
			names = append(names, cmd.Name)
		}
		if cmd.IsContainer() {
			for _, sub := range cmd.Subcommands() {
				if filter(sub) {
					names = append(names, sub.Name)
				}
			}
		}
	}
	w.StringArray(names)
}

func cmdCommandGetKeys(c *Conn, args [][]byte, w *proto.Writer) {
	commandGetKeys(c.srv.reg, args[2:], false, w)
}

func cmdCommandGetKeysAndFlags(c *Conn, args [][]byte, w *proto.Writer) {
	commandGetKeys(c.srv.reg, args[2:], true, w)
}

// lookupCommandBySds finds a command by a name as COMMAND INFO and DOCS
// take it: "get" or "container|sub", case-insensitively (Redis's
// lookupCommandBySds: one level of subcommands, strict).
func lookupCommandBySds(r *Registry, name string) *Command {
	name = strings.ToLower(name)
	if name == "" {
		return nil
	}
	parts := strings.Split(name, "|")
	if len(parts) > 2 {
		return nil
	}
	base := r.cmds[parts[0]]
	if base == nil || len(parts) == 1 {
		return base
	}
	if !base.IsContainer() {
		return nil
	}
	return base.subs[parts[1]]
}

// redisFlagNames maps kvd's Redis-mirroring flag bits to the names COMMAND
// INFO prints.
var redisFlagNames = []struct {
	bit  Flags
	name string
}{
	{Write, "write"}, {ReadOnly, "readonly"}, {DenyOOM, "denyoom"}, {Admin, "admin"},
	{PubSub, "pubsub"}, {NoScript, "noscript"}, {Blocking, "blocking"}, {Loading, "loading"},
	{Stale, "stale"}, {SkipMonitor, "skip_monitor"}, {SkipSlowlog, "skip_slowlog"},
	{Fast, "fast"}, {NoAuth, "no_auth"}, {MayReplicate, "may_replicate"}, {NoMulti, "no_multi"},
	{AllowBusy, "allow_busy"},
}

// infoFlagOrder is the order in which COMMAND INFO prints command flags.
var infoFlagOrder = []string{
	"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
	"blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
	"fast", "no_auth", "no_mandatory_keys", "no_async_loading", "no_multi",
	"movablekeys", "allow_busy",
}

// commandFlags lists the flags COMMAND INFO prints for cmd: the ones kvd
// dispatches on from cmd.Flags, the others (no_mandatory_keys,
// no_async_loading, movablekeys, ...) from the Redis spec. may_replicate is
// never printed, as in Redis.
func commandFlags(cmd *Command, spec *cmdspec.Spec) []string {
	var out []string
	for _, name := range infoFlagOrder {
		kvdFlag, have := Flags(0), false
		for _, f := range redisFlagNames {
			if f.name == name {
				kvdFlag = f.bit
			}
		}
		switch {
		case kvdFlag != 0:
			have = cmd.Flags&kvdFlag != 0
		case spec != nil:
			for _, f := range spec.Flags {
				have = have || f == name
			}
		case name == "movablekeys":
			have = cmd.Keys != nil
		}
		if have {
			out = append(out, name)
		}
	}
	return out
}

// commandCategories lists cmd's ACL categories: Redis's, or for a command
// Redis does not have the ones Redis would derive from its flags.
func commandCategories(cmd *Command, spec *cmdspec.Spec) []string {
	if spec != nil {
		return spec.ACLCategories
	}
	var out []string
	add := func(cond bool, cat string) {
		if cond {
			out = append(out, cat)
		}
	}
	add(cmd.Flags&Write != 0, "@write")
	add(cmd.Flags&ReadOnly != 0, "@read")
	add(cmd.Flags&PubSub != 0, "@pubsub")
	add(cmd.Flags&Admin != 0, "@admin")
	add(cmd.Flags&Fast != 0, "@fast")
	add(cmd.Flags&Fast == 0, "@slow")
	add(cmd.Flags&Blocking != 0, "@blocking")
	add(cmd.Flags&Admin != 0, "@dangerous")
	return out
}

// commandKeySpecs returns cmd's key specs: Redis's, or for a command Redis
// does not have one spec built from kvd's legacy key range.
func commandKeySpecs(cmd *Command, spec *cmdspec.Spec) []cmdspec.KeySpec {
	if spec != nil {
		return spec.KeySpecs
	}
	if cmd.FirstKey <= 0 {
		return nil
	}
	last := cmd.LastKey
	if last >= 0 {
		last -= cmd.FirstKey
	}
	return []cmdspec.KeySpec{{
		BeginSearch: cmdspec.BeginSearch{Type: "index", Index: cmd.FirstKey},
		FindKeys:    cmdspec.FindKeys{Type: "range", LastKey: last, KeyStep: cmd.Step},
	}}
}

// writeCommandInfo writes cmd's COMMAND INFO entry in the Redis 7.0 format:
// [name, arity, flags, first key, last key, step, ACL categories, tips,
// key specs, subcommands].
func writeCommandInfo(w *proto.Writer, cmd *Command) {
	spec := cmdspec.Lookup(cmd.Name)
	w.Array(10)
	w.BulkString(cmd.Name)
	w.Int(int64(cmd.Arity))
	writeStatusSet(w, commandFlags(cmd, spec))
	first, last, step := cmd.FirstKey, cmd.LastKey, cmd.Step
	if first <= 0 {
		first, last, step = 0, 0, 0
	}
	w.Int(int64(first))
	w.Int(int64(last))
	w.Int(int64(step))
	writeStatusSet(w, commandCategories(cmd, spec))
	var tips []string
	if spec != nil {
		tips = spec.Tips
	}
	w.Set(len(tips))
	for _, t := range tips {
		w.BulkString(t)
	}
	ks := commandKeySpecs(cmd, spec)
	w.Set(len(ks))
	for _, k := range ks {
		writeKeySpec(w, k)
	}
	if !cmd.IsContainer() {
		w.Set(0)
		return
	}
	subs := cmd.Subcommands()
	w.Array(len(subs))
	for _, sub := range subs {
		writeCommandInfo(w, sub)
	}
}

func writeStatusSet(w *proto.Writer, items []string) {
	w.Set(len(items))
	for _, s := range items {
		w.Simple(s)
	}
}

func writeKeySpec(w *proto.Writer, k cmdspec.KeySpec) {
	n := 3
	if k.Notes != "" {
		n++
	}
	w.Map(n)
	if k.Notes != "" {
		w.BulkString("notes")
		w.BulkString(k.Notes)
	}
	w.BulkString("flags")
	writeStatusSet(w, k.Flags)

	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	w.BulkString(k.BeginSearch.Type)
	w.BulkString("spec")
	switch k.BeginSearch.Type {
	case "index":
		w.Map(1)
		w.BulkString("index")
		w.Int(int64(k.BeginSearch.Index))
	case "keyword":
		w.Map(2)
		w.BulkString("keyword")
		w.BulkString(k.BeginSearch.Keyword)
		w.BulkString("startfrom")
		w.Int(int64(k.BeginSearch.StartFrom))
	default:
		w.Map(0)
	}

	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	w.BulkString(k.FindKeys.Type)
	w.BulkString("spec")
	switch k.FindKeys.Type {
	case "range":
		w.Map(3)
		w.BulkString("lastkey")
		w.Int(int64(k.FindKeys.LastKey))
		w.BulkString("keystep")
		w.Int(int64(k.FindKeys.KeyStep))
		w.BulkString("limit")
		w.Int(int64(k.FindKeys.Limit))
	case "keynum":
		w.Map(3)
		w.BulkString("keynumidx")
		w.Int(int64(k.FindKeys.KeyNumIdx))
		w.BulkString("firstkey")
		w.Int(int64(k.FindKeys.FirstKey))
		w.BulkString("keystep")
		w.Int(int64(k.FindKeys.KeyStep))
	default:
		w.Map(0)
	}
}

// writeCommandDocs writes cmd's COMMAND DOCS map in the Redis 7.0 format:
// summary, since, group, complexity, doc_flags, deprecated_since,
// replaced_by, history, arguments, subcommands (each only when present,
// group always).
func writeCommandDocs(w *proto.Writer, cmd *Command) {
	spec := cmdspec.Lookup(cmd.Name)
	if spec == nil {
		spec = kvdCommandDocs(cmd.Name) // kvd's own commands (cmd_workers.go)
	}
	if spec == nil {
		// A kvd-only command: Redis has no documentation for it.
		spec = &cmdspec.Spec{Group: "server"}
	}
	n := 1
	for _, present := range []bool{
		spec.Summary != "", spec.Since != "", spec.Complexity != "", len(spec.DocFlags) > 0,
		spec.DeprecatedSince != "", spec.ReplacedBy != "", len(spec.History) > 0,
		len(spec.Args) > 0, cmd.IsContainer(),
	} {
		if present {
			n++
		}
	}
	w.Map(n)
	if spec.Summary != "" {
		w.BulkString("summary")
		w.BulkString(spec.Summary)
	}
	if spec.Since != "" {
		w.BulkString("since")
		w.BulkString(spec.Since)
	}
	w.BulkString("group")
	w.BulkString(spec.Group)
	if spec.Complexity != "" {
		w.BulkString("complexity")
		w.BulkString(spec.Complexity)
	}
	if len(spec.DocFlags) > 0 {
		w.BulkString("doc_flags")
		writeStatusSet(w, spec.DocFlags)
	}
	if spec.DeprecatedSince != "" {
		w.BulkString("deprecated_since")
		w.BulkString(spec.DeprecatedSince)
	}
	if spec.ReplacedBy != "" {
		w.BulkString("replaced_by")
		w.BulkString(spec.ReplacedBy)
	}
	if len(spec.History) > 0 {
		w.BulkString("history")
		w.Set(len(spec.History))
		for _, h := range spec.History {
			w.Array(2)
			w.BulkString(h[0])
			w.BulkString(h[1])
		}
	}
	if len(spec.Args) > 0 {
		w.BulkString("arguments")
		writeCommandArgs(w, spec.Args)
	}
	if cmd.IsContainer() {
		subs := cmd.Subcommands()
		w.BulkString("subcommands")
		w.Map(len(subs))
		for _, sub := range subs {
			w.BulkString(sub.Name)
			writeCommandDocs(w, sub)
		}
	}
}

func writeCommandArgs(w *proto.Writer, args []cmdspec.Arg) {
	w.Array(len(args))
	for _, a := range args {
		var flags []string
		if a.Optional {
			flags = append(flags, "optional")
		}
		if a.Multiple {
			flags = append(flags, "multiple")
		}
		if a.MultipleToken {
			flags = append(flags, "multiple_token")
		}
		hasToken := a.Token != "" || a.Type == "pure-token"
		nested := a.Type == "oneof" || a.Type == "block"
		n := 2
		for _, present := range []bool{
			a.DisplayText != "", a.KeySpecIndex >= 0, hasToken, a.Summary != "", a.Since != "",
			a.DeprecatedSince != "", len(flags) > 0, nested,
		} {
			if present {
				n++
			}
		}
		w.Map(n)
		w.BulkString("name")
		w.BulkString(a.Name)
		w.BulkString("type")
		w.BulkString(a.Type)
		if a.DisplayText != "" {
			w.BulkString("display_text")
			w.BulkString(a.DisplayText)
		}
		if a.KeySpecIndex >= 0 {
			w.BulkString("key_spec_index")
			w.Int(int64(a.KeySpecIndex))
		}
		if hasToken {
			w.BulkString("token")
			w.BulkString(a.Token)
		}
		if a.Summary != "" {
			w.BulkString("summary")
			w.BulkString(a.Summary)
		}
		if a.Since != "" {
			w.BulkString("since")
			w.BulkString(a.Since)
		}
		if a.DeprecatedSince != "" {
			w.BulkString("deprecated_since")
			w.BulkString(a.DeprecatedSince)
		}
		if len(flags) > 0 {
			w.BulkString("flags")
			writeStatusSet(w, flags)
		}
		if nested {
			w.BulkString("arguments")
			writeCommandArgs(w, a.Args)
		}
	}
}

// keyRef is one key COMMAND GETKEYS found: its index in the command's
// argument vector and its key-spec flags (Redis's spelling and order).
type keyRef struct {
	pos   int
	flags []string
}

// Key-spec flag sets the Redis 7.0 getkeys procedures assign.
var (
	keyFlagsROAccess       = []string{"RO", "access"}
	keyFlagsOWUpdate       = []string{"OW", "update"}
	keyFlagsRWAccessUpdate = []string{"RW", "access", "update"}
	keyFlagsRWAccessDelete = []string{"RW", "access", "delete"}
)

// commandGetKeys answers COMMAND GETKEYS / GETKEYSANDFLAGS for the command
// line argv (argv[0] is the command name), exactly as Redis 7.0's
// getKeysSubcommandImpl does.
func commandGetKeys(r *Registry, argv [][]byte, withFlags bool, w *proto.Writer) {
	cmd := r.Lookup(argv[0])
	if cmd != nil && cmd.IsContainer() && len(argv) > 1 {
		cmd = cmd.Sub(argv[1])
	}
	if cmd == nil || cmd.IsContainer() {
		w.Error("ERR Invalid command specified")
		return
	}
	spec := cmdspec.Lookup(cmd.Name)
	if !commandHasKeys(cmd, spec) {
		w.Error("ERR The command has no key arguments")
		return
	}
	if !cmd.CheckArity(len(argv)) {
		w.Error("ERR Invalid number of arguments specified for command")
		return
	}
	keys, ok := getKeysFromCommand(cmd, spec, argv)
	if !ok || len(keys) == 0 {
		if spec != nil && hasString(spec.Flags, "no_mandatory_keys") {
			w.Array(0)
			return
		}
		w.Error("ERR Invalid arguments specified for command")
		return
	}
	w.Array(len(keys))
	for _, k := range keys {
		if !withFlags {
			w.Bulk(argv[k.pos])
			continue
		}
		w.Array(2)
		w.Bulk(argv[k.pos])
		writeStatusSet(w, k.flags)
	}
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// commandHasKeys is Redis's doesCommandHaveKeys: a getkeys procedure or a
// key spec that is not "not_key". A command Redis does not have uses kvd's
// own key information.
func commandHasKeys(cmd *Command, spec *cmdspec.Spec) bool {
	if spec == nil {
		return cmd.FirstKey > 0 || cmd.Keys != nil
	}
	if spec.GetKeys != "" {
		return true
	}
	for _, k := range spec.KeySpecs {
		if !k.Has("not_key") {
			return true
		}
	}
	return false
}

// getKeysFromCommand is Redis's getKeysFromCommandWithSpecs: the key specs
// when they are complete and their flags fixed, else the command's getkeys
// procedure. ok is false for an invalid command line.
func getKeysFromCommand(cmd *Command, spec *cmdspec.Spec, argv [][]byte) ([]keyRef, bool) {
	if spec == nil {
		var keys []keyRef
		for _, p := range cmd.KeyPositions(argv, nil) {
			keys = append(keys, keyRef{pos: p})
		}
		if cmd.Keys != nil {
			// A kvd-only command with movable keys: find each key's
			// position (Keys returns sub-slices of argv).
			next := 1
			for _, k := range cmd.Keys(argv) {
				for p := next; p < len(argv); p++ {
					if string(argv[p]) == string(k) {
						keys = append(keys, keyRef{pos: p})
						next = p + 1
						break
					}
				}
			}
		}
		return keys, len(keys) > 0
	}
	hasKeySpec, hasVarFlags := false, false
	for _, k := range spec.KeySpecs {
		hasKeySpec = hasKeySpec || !k.Has("not_key")
		hasVarFlags = hasVarFlags || k.Has("variable_flags")
	}
	if hasKeySpec && !hasVarFlags {
		if keys, ok := getKeysUsingKeySpecs(spec, argv); ok {
			return keys, true
		}
	}
	if spec.GetKeys == "" {
		return nil, false
	}
	return getKeysProc(spec.GetKeys, argv)
}

// getKeysUsingKeySpecs is Redis 7.0's getKeysUsingKeySpecs with
// GET_KEYSPEC_DEFAULT: ok is false when a spec cannot be applied (unknown,
// out of range, or incomplete), so that the caller falls back to the
// command's getkeys procedure.
func getKeysUsingKeySpecs(spec *cmdspec.Spec, argv [][]byte) ([]keyRef, bool) {
	argc := len(argv)
	var keys []keyRef
	for _, k := range spec.KeySpecs {
		if k.Has("not_key") {
			continue
		}
		first := 0
		switch k.BeginSearch.Type {
		case "index":
			first = k.BeginSearch.Index
		case "keyword":
			from := k.BeginSearch.StartFrom
			start, end := from, argc-1
			if from <= 0 {
				start, end = argc+from, 1
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if strings.EqualFold(string(argv[i]), k.BeginSearch.Keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue // keyword not found: no keys from this spec
			}
		default:
			return nil, false
		}

		var last, step int
		switch k.FindKeys.Type {
		case "range":
			step = k.FindKeys.KeyStep
			switch {
			case k.FindKeys.LastKey >= 0:
				last = first + k.FindKeys.LastKey
			case k.FindKeys.Limit == 0:
				last = argc + k.FindKeys.LastKey
			default:
				last = first + ((argc-first)/k.FindKeys.Limit + k.FindKeys.LastKey)
			}
		case "keynum":
			step = k.FindKeys.KeyStep
			idx := first + k.FindKeys.KeyNumIdx
			if k.FindKeys.KeyNumIdx >= argc || idx >= argc {
				return nil, false
			}
			numkeys, ok := cmdString2ll(argv[idx])
			if !ok || numkeys < 0 {
				return nil, false
			}
			first += k.FindKeys.FirstKey
			last = first + int(int32(numkeys)) - 1 // Redis casts to a C int
		default:
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			return nil, false
		}
		if step <= 0 {
			step = 1
		}
		for i := first; i <= last; i += step {
			keys = append(keys, keyRef{pos: i, flags: k.Flags})
		}
		if k.Has("incomplete") {
			return nil, false
		}
	}
	return keys, true
}

// getKeysProc runs the Redis 7.0 getkeys procedure named by the spec.
func getKeysProc(proc string, argv [][]byte) ([]keyRef, bool) {
	switch proc {
	case "evalGetKeys", "functionGetKeys":
		return genericGetKeys(0, 2, 3, 1, argv)
	case "zunionInterDiffGetKeys", "sintercardGetKeys", "lmpopGetKeys", "zmpopGetKeys":
		return genericGetKeys(0, 1, 2, 1, argv)
	case "zunionInterDiffStoreGetKeys":
		return genericGetKeys(1, 2, 3, 1, argv)
	case "blmpopGetKeys", "bzmpopGetKeys":
		return genericGetKeys(0, 2, 3, 1, argv)
	case "sortROGetKeys":
		return []keyRef{{pos: 1, flags: keyFlagsROAccess}}, true
	case "sortGetKeys":
		return sortGetKeys(argv), true
	case "migrateGetKeys":
		return migrateGetKeys(argv)
	case "georadiusGetKeys":
		return georadiusGetKeys(argv), true
	case "xreadGetKeys":
		return xreadGetKeys(argv)
	case "setGetKeys":
		for _, a := range argv[3:] {
			if strings.EqualFold(string(a), "get") {
				return []keyRef{{pos: 1, flags: keyFlagsRWAccessUpdate}}, true
			}
		}
		return []keyRef{{pos: 1, flags: keyFlagsOWUpdate}}, true
	case "bitfieldGetKeys":
		return bitfieldGetKeys(argv), true
	}
	return nil, false
}

// genericGetKeys handles COMMAND [destkey] <numkeys> <key> ... (Redis's
// genericGetKeys; its flags are left empty, as in Redis).
func genericGetKeys(storeOfs, countOfs, firstOfs, step int, argv [][]byte) ([]keyRef, bool) {
	if countOfs >= len(argv) {
		return nil, false
	}
	num := cAtoi(argv[countOfs])
	if num < 1 || num > (len(argv)-firstOfs)/step {
		return nil, false
	}
	keys := make([]keyRef, 0, num+1)
	for i := 0; i < num; i++ {
		keys = append(keys, keyRef{pos: firstOfs + i*step, flags: []string{}})
	}
	if storeOfs > 0 {
		keys = append(keys, keyRef{pos: storeOfs, flags: []string{}})
	}
	return keys, true
}

// cmdString2ll is Redis's string2ll: an optional '-', then digits without
// leading zeros, fitting in an int64; no spaces, no '+'.
func cmdString2ll(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	s := b
	if s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// cAtoi is C's atoi: leading blanks, an optional sign, then digits up to the
// first non-digit; 0 when there are none.
func cAtoi(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	n := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
		if n > 1<<31 {
			n = 1 << 31
		}
	}
	if neg {
		return -n
	}
	return n
}

func sortGetKeys(argv [][]byte) []keyRef {
	keys := []keyRef{{pos: 1, flags: keyFlagsROAccess}}
	store := 0
	skip := map[string]int{"limit": 2, "get": 1, "by": 1}
	for i := 2; i < len(argv); i++ {
		a := strings.ToLower(string(argv[i]))
		if n, ok := skip[a]; ok {
			i += n
		} else if a == "store" && i+1 < len(argv) {
			// The last STORE wins, as in SORT itself.
			store = i + 1
		}
	}
	if store > 0 {
		keys = append(keys, keyRef{pos: store, flags: keyFlagsOWUpdate})
	}
	return keys
}

func migrateGetKeys(argv [][]byte) ([]keyRef, bool) {
	first, num := 3, 1
	if len(argv) > 6 {
		skip := map[string]int{"copy": 0, "replace": 0, "auth": 1, "auth2": 2}
		for i := 6; i < len(argv); i++ {
			a := strings.ToLower(string(argv[i]))
			if a == "keys" {
				if len(argv[3]) > 0 {
					return nil, false
				}
				first, num = i+1, len(argv)-i-1
				break
			}
			i += skip[a]
		}
	}
	keys := make([]keyRef, 0, num)
	for i := 0; i < num; i++ {
		keys = append(keys, keyRef{pos: first + i, flags: keyFlagsRWAccessDelete})
	}
	return keys, true
}

func georadiusGetKeys(argv [][]byte) []keyRef {
	stored := -1
	for i := 5; i < len(argv); i++ {
		a := strings.ToLower(string(argv[i]))
		if (a == "store" || a == "storedist") && i+1 < len(argv) {
			stored = i + 1
			i++
		}
	}
	keys := []keyRef{{pos: 1, flags: []string{}}}
	if stored > 0 {
		keys = append(keys, keyRef{pos: stored, flags: []string{}})
	}
	return keys
}

func xreadGetKeys(argv [][]byte) ([]keyRef, bool) {
	streams := -1
loop:
	for i := 1; i < len(argv); i++ {
		switch strings.ToLower(string(argv[i])) {
		case "block", "count":
			i++
		case "group":
			i += 2
		case "noack":
		case "streams":
			streams = i
			break loop
		default:
			break loop
		}
	}
	num := len(argv) - streams - 1
	if streams == -1 || num == 0 || num%2 != 0 {
		return nil, false
	}
	num /= 2
	keys := make([]keyRef, 0, num)
	for i := streams + 1; i < len(argv)-num; i++ {
		keys = append(keys, keyRef{pos: i, flags: []string{}})
	}
	return keys, true
}

func bitfieldGetKeys(argv [][]byte) []keyRef {
	readonly := true
	for i := 2; i < len(argv); i++ {
		rem := len(argv) - i - 1
		switch a := strings.ToLower(string(argv[i])); {
		case a == "get" && rem >= 2:
			i += 2
		case (a == "set" || a == "incrby") && rem >= 3:
			readonly = false
		case a == "overflow" && rem >= 1:
			i++
		default:
			readonly = false // a syntax error: assume it writes, as Redis does
		}
		if !readonly {
			break
		}
	}
	if readonly {
		return []keyRef{{pos: 1, flags: keyFlagsROAccess}}
	}
	return []keyRef{{pos: 1, flags: keyFlagsRWAccessUpdate}}
}
