// Package cmdspec holds the Redis 7 command metadata that kvd serves through
// COMMAND, COMMAND COUNT, COMMAND INFO, COMMAND DOCS, COMMAND LIST and
// COMMAND GETKEYS: arity, command flags, key specs, ACL categories,
// request/response tips and the documentation facts (group, since, summary,
// complexity, history, deprecation and argument trees).
//
// The tables transcribe the facts Redis publishes in its src/commands/*.json
// specs as compiled into Redis 7.0, and were checked field by field against
// the COMMAND INFO and COMMAND DOCS replies of a redis-server 7.0.15, so
// every value is what that server reports, in the order it reports it. Two
// Redis 7.2 subcommands the brief asks for, CLIENT NO-TOUCH and CLIENT
// SETINFO, are added from the 7.2 specs; a 7.0 server does not have them.
// Sentinel-only commands are not included (they exist only in sentinel mode).
//
// The package owns data only. Apart from indexing the tables, the one piece
// of logic is LegacyRange, which derives COMMAND INFO's legacy
// first/last/step triple the way Redis does. It imports nothing from kvd, so
// any kvd package may depend on it. Specs returned by Lookup, All and
// Subcommands are shared and must not be modified.
//
// The data is split into one file per command group (string.go, generic.go,
// connection.go, server.go, hash.go, ...). Each declares a plain slice
// literal of *Spec built with the small constructors at the end of this file
// (flags, acl, ks, key, str, oneof, ...), and the single init function here
// indexes all of them; registering the same name twice panics.
package cmdspec

import (
	"math"
	"sort"
	"strings"
)

// BeginSearch is the "begin_search" half of a key spec: where Redis starts
// looking for keys.
type BeginSearch struct {
	Type      string // "index", "keyword" or "unknown"
	Index     int    // for "index": absolute argv index (argv[0] is the command name)
	Keyword   string // for "keyword": the keyword to search for
	StartFrom int    // for "keyword": argv index to start from; negative counts from the end
}

// FindKeys is the "find_keys" half of a key spec: how many keys follow the
// begin_search position and how they are spaced.
type FindKeys struct {
	Type      string // "range", "keynum" or "unknown"
	LastKey   int    // range: last key relative to the begin_search position; -1 is the last argument
	KeyStep   int    // range and keynum: distance between consecutive keys
	Limit     int    // range: when LastKey is -1, take only 1/Limit of the remaining args (0 = all)
	KeyNumIdx int    // keynum: index of the numkeys argument, relative to the begin_search position
	FirstKey  int    // keynum: index of the first key, relative to the begin_search position
}

// KeySpec is one entry of a command's key specs, as COMMAND INFO prints it.
type KeySpec struct {
	Notes string
	// Flags are spelled and ordered the way Redis 7.0 prints them in COMMAND
	// INFO: "RO", "RW", "OW", "RM" upper case, then "access", "update",
	// "insert", "delete", "not_key", "incomplete", "variable_flags" in lower
	// case. Use Has for a case-insensitive test.
	Flags       []string
	BeginSearch BeginSearch
	FindKeys    FindKeys
}

// Has reports whether the key spec carries flag (case-insensitive, so both
// "ACCESS" and "access" work).
func (k KeySpec) Has(flag string) bool {
	for _, f := range k.Flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

// Arg is one node of a command's argument tree, as COMMAND DOCS prints it.
type Arg struct {
	Name         string
	Type         string // "key","string","integer","double","pattern","unix-time","pure-token","oneof","block"
	KeySpecIndex int    // index into Spec.KeySpecs; -1 when not a key
	// Token is the literal keyword that introduces the argument. A
	// "pure-token" argument always has one and COMMAND DOCS always prints
	// it, even when it is empty (MIGRATE's empty_string in Redis 7.0.15).
	Token           string
	DisplayText     string // Redis 7.2+ only; empty for the 7.0 tables
	Since           string
	Summary         string
	Optional        bool
	Multiple        bool
	MultipleToken   bool
	Deprecated      bool
	DeprecatedSince string // set when Deprecated (COMMAND DOCS prints it as "deprecated_since")
	Args            []Arg  // for oneof/block
}

// Spec is the metadata of one command or subcommand.
type Spec struct {
	Name      string // lower-case; subcommands as "client|list"
	Container string // "client" for "client|list", else ""
	Arity     int
	// Flags are the command flags exactly as Redis 7.0 COMMAND INFO prints
	// them, in its order: write readonly denyoom module admin pubsub noscript
	// blocking loading stale skip_monitor skip_slowlog asking fast no_auth
	// no_mandatory_keys no_async_loading no_multi movablekeys allow_busy.
	// "movablekeys" is included where Redis computes it: when some key spec
	// is not a plain index/range spec, or is marked incomplete (SORT,
	// MIGRATE, EVAL, XREAD, ZUNIONSTORE, ... but not SET or BITFIELD).
	Flags []string
	// HiddenFlags are flags the command has in Redis but that COMMAND INFO
	// deliberately does not print: "may_replicate", "sentinel",
	// "only_sentinel", "protected". Use HasFlag to test either list.
	HiddenFlags []string
	// ACLCategories are the categories with '@', including the implicit
	// ones Redis derives from the flags (@write, @read, @admin, @dangerous,
	// @pubsub, @fast, @slow, @blocking), in the order COMMAND INFO prints
	// them (see ACLCategoryNames).
	ACLCategories []string
	Tips          []string // e.g. "nondeterministic_output", "request_policy:all_shards"
	KeySpecs      []KeySpec
	// GetKeys names the custom key-extraction function of the Redis 7.0
	// command table ("sortGetKeys", "evalGetKeys", ...), or "" when the key
	// specs alone describe the keys. COMMAND GETKEYS needs command-specific
	// logic for these (their key specs are unknown, keynum, incomplete or
	// have variable flags).
	GetKeys         string
	Group           string // "string","generic","connection","server","hash","list","set","sorted-set","bitmap","hyperloglog","geo","pubsub","transactions","scripting","stream","cluster","sentinel"
	Since           string
	Summary         string
	Complexity      string   // "" when Redis has none (COMMAND DOCS then omits it)
	DocFlags        []string // "deprecated","syscmd"
	DeprecatedSince string
	ReplacedBy      string
	History         [][2]string // {version, description}
	Args            []Arg
}

// HasFlag reports whether the command has flag, whether COMMAND INFO prints
// it (Flags) or not (HiddenFlags).
func (s *Spec) HasFlag(flag string) bool {
	for _, f := range s.Flags {
		if f == flag {
			return true
		}
	}
	for _, f := range s.HiddenFlags {
		if f == flag {
			return true
		}
	}
	return false
}

// HasCategory reports whether the command is in the ACL category (given with
// or without the leading '@').
func (s *Spec) HasCategory(cat string) bool {
	if !strings.HasPrefix(cat, "@") {
		cat = "@" + cat
	}
	for _, c := range s.ACLCategories {
		if c == cat {
			return true
		}
	}
	return false
}

// ACLCategoryNames lists the Redis 7.0 ACL categories (without '@') in the
// order Redis uses for ACL CAT and COMMAND INFO.
var ACLCategoryNames = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast",
	"slow", "blocking", "dangerous", "connection", "transaction", "scripting",
}

// flagOrder is the order in which COMMAND INFO prints command flags.
var flagOrder = []string{
	"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
	"blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
	"fast", "no_auth", "no_mandatory_keys", "no_async_loading", "no_multi",
	"movablekeys", "allow_busy",
}

// hiddenFlagOrder lists the flags COMMAND INFO never prints.
var hiddenFlagOrder = []string{"may_replicate", "sentinel", "only_sentinel", "protected"}

// keyFlagOrder is the order (and spelling) in which COMMAND INFO prints key
// spec flags.
var keyFlagOrder = []string{
	"RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
	"not_key", "incomplete", "variable_flags",
}

var (
	registry = map[string]*Spec{}
	all      []*Spec
	children = map[string][]*Spec{}
)

func init() {
	for _, group := range [][]*Spec{
		bitmapSpecs,
		clusterSpecs,
		connectionSpecs,
		genericSpecs,
		geoSpecs,
		hashSpecs,
		hyperloglogSpecs,
		listSpecs,
		pubsubSpecs,
		scriptingSpecs,
		serverSpecs,
		setSpecs,
		sortedSetSpecs,
		streamSpecs,
		stringSpecs,
		transactionsSpecs,
	} {
		for _, s := range group {
			register(s)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	for _, s := range all {
		if s.Container != "" {
			children[s.Container] = append(children[s.Container], s)
		}
	}
}

func register(s *Spec) {
	if _, dup := registry[s.Name]; dup {
		panic("cmdspec: command " + s.Name + " registered twice")
	}
	registry[s.Name] = s
	all = append(all, s)
}

// Lookup returns the spec for a lower-case name ("get", "client|list"), or nil.
func Lookup(name string) *Spec {
	return registry[strings.ToLower(name)]
}

// All returns every spec, sorted by name (containers and subcommands included).
func All() []*Spec {
	out := make([]*Spec, len(all))
	copy(out, all)
	return out
}

// Subcommands returns the subcommand specs of a container, sorted.
func Subcommands(container string) []*Spec {
	subs := children[strings.ToLower(container)]
	out := make([]*Spec, len(subs))
	copy(out, subs)
	return out
}

// LegacyRange derives the legacy (first key, last key, step) triple that
// COMMAND INFO prints, the way Redis 7.0's populateCommandLegacyRangeSpec
// does from the key specs:
//
//   - no key specs: 0,0,0;
//   - exactly one index/range spec: that spec, with a non-negative lastkey
//     made absolute (GET 1,1,1; MSET 1,-1,2; LCS 1,2,1; OBJECT ENCODING 2,2,1);
//   - otherwise the index/range specs with a key step of 1 that follow each
//     other are glued together with step 1: first = smallest begin index,
//     last = largest absolute last key, where a negative (count from the end)
//     value wins (BITOP 2,-1,1). Keyword, keynum and unknown specs are
//     skipped (ZUNIONSTORE 1,1,1, MIGRATE 3,3,1); with no usable range spec
//     the result is 0,0,0 (XREAD, EVAL).
//
// The skipped cases are those for which Redis adds "movablekeys" to Flags.
func (s *Spec) LegacyRange() (first, last, step int) {
	ks := s.KeySpecs
	if len(ks) == 0 {
		return 0, 0, 0
	}
	if len(ks) == 1 && ks[0].BeginSearch.Type == "index" && ks[0].FindKeys.Type == "range" {
		first = ks[0].BeginSearch.Index
		last = ks[0].FindKeys.LastKey
		if last >= 0 {
			last += first
		}
		return first, last, ks[0].FindKeys.KeyStep
	}
	first = math.MaxInt32
	var lastAbs, prevLast int32
	for _, k := range ks {
		if k.BeginSearch.Type != "index" || k.FindKeys.Type != "range" {
			continue
		}
		if k.FindKeys.KeyStep != 1 || (prevLast != 0 && prevLast != int32(k.BeginSearch.Index-1)) {
			continue
		}
		if k.BeginSearch.Index < first {
			first = k.BeginSearch.Index
		}
		abs := int32(k.FindKeys.LastKey)
		if abs >= 0 {
			abs += int32(k.BeginSearch.Index)
		}
		// Redis compares as unsigned so that a negative (from the end)
		// last key beats any positive one.
		if uint32(abs) > uint32(lastAbs) {
			lastAbs = abs
		}
		prevLast = lastAbs
	}
	if first == math.MaxInt32 {
		return 0, 0, 0
	}
	return first, int(lastAbs), 1
}

// ---------------------------------------------------------------------------
// Helpers used by the table literals. They only build values; the ones that
// take flag names validate them (panicking on a typo at package init) and
// put them in the order Redis prints them.

// flags returns command flags in COMMAND INFO order. Hidden flags are not
// accepted here; list them with hidden.
func flags(s string) []string { return ordered(s, flagOrder, "command flag") }

// hidden returns flags COMMAND INFO does not print (may_replicate, ...).
func hidden(s string) []string { return ordered(s, hiddenFlagOrder, "hidden command flag") }

// acl returns '@'-prefixed ACL categories in COMMAND INFO order.
func acl(s string) []string {
	var names []string
	for _, w := range strings.Fields(s) {
		if !strings.HasPrefix(w, "@") {
			panic("cmdspec: ACL category without '@': " + w)
		}
		names = append(names, w[1:])
	}
	out := ordered(strings.Join(names, " "), ACLCategoryNames, "ACL category")
	for i := range out {
		out[i] = "@" + out[i]
	}
	return out
}

// tips splits space-separated command tips, keeping their order.
func tips(s string) []string { return strings.Fields(s) }

func ordered(s string, order []string, what string) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return nil
	}
	rank := func(w string) int {
		for i, o := range order {
			if o == w {
				return i
			}
		}
		panic("cmdspec: unknown " + what + ": " + w)
	}
	seen := map[string]bool{}
	for _, w := range words {
		rank(w)
		if seen[w] {
			panic("cmdspec: duplicate " + what + ": " + w)
		}
		seen[w] = true
	}
	sort.SliceStable(words, func(i, j int) bool { return rank(words[i]) < rank(words[j]) })
	return words
}

// ks builds a key spec. flagList uses the JSON spelling in any case
// ("RW ACCESS UPDATE"); it is converted to COMMAND INFO spelling and order.
func ks(flagList string, bs BeginSearch, fk FindKeys) KeySpec {
	var norm []string
	for _, w := range strings.Fields(flagList) {
		switch u := strings.ToUpper(w); u {
		case "RO", "RW", "OW", "RM":
			norm = append(norm, u)
		default:
			norm = append(norm, strings.ToLower(w))
		}
	}
	return KeySpec{
		Flags:       ordered(strings.Join(norm, " "), keyFlagOrder, "key spec flag"),
		BeginSearch: bs,
		FindKeys:    fk,
	}
}

// note returns k with its notes set.
func (k KeySpec) note(n string) KeySpec { k.Notes = n; return k }

func index(i int) BeginSearch { return BeginSearch{Type: "index", Index: i} }

func keyword(kw string, startFrom int) BeginSearch {
	return BeginSearch{Type: "keyword", Keyword: kw, StartFrom: startFrom}
}

func unknownBS() BeginSearch { return BeginSearch{Type: "unknown"} }

func rangeFK(lastKey, keyStep, limit int) FindKeys {
	return FindKeys{Type: "range", LastKey: lastKey, KeyStep: keyStep, Limit: limit}
}

func keynumFK(keyNumIdx, firstKey, keyStep int) FindKeys {
	return FindKeys{Type: "keynum", KeyNumIdx: keyNumIdx, FirstKey: firstKey, KeyStep: keyStep}
}

func unknownFK() FindKeys { return FindKeys{Type: "unknown"} }

// Argument constructors.

func arg(name, typ string) Arg { return Arg{Name: name, Type: typ, KeySpecIndex: -1} }

func key(name string, spec int) Arg { return Arg{Name: name, Type: "key", KeySpecIndex: spec} }
func str(name string) Arg           { return arg(name, "string") }
func integer(name string) Arg       { return arg(name, "integer") }
func double(name string) Arg        { return arg(name, "double") }
func pattern(name string) Arg       { return arg(name, "pattern") }
func unixTime(name string) Arg      { return arg(name, "unix-time") }

// pure is a "pure-token" argument.
func pure(name, token string) Arg { return arg(name, "pure-token").tok(token) }

func oneof(name string, args ...Arg) Arg { a := arg(name, "oneof"); a.Args = args; return a }
func block(name string, args ...Arg) Arg { a := arg(name, "block"); a.Args = args; return a }

func (a Arg) tok(t string) Arg   { a.Token = t; return a }
func (a Arg) opt() Arg           { a.Optional = true; return a }
func (a Arg) multi() Arg         { a.Multiple = true; return a }
func (a Arg) multiTok() Arg      { a.Multiple = true; a.MultipleToken = true; return a }
func (a Arg) since(v string) Arg { a.Since = v; return a }
func (a Arg) keySpec(i int) Arg  { a.KeySpecIndex = i; return a }
func (a Arg) deprecated(v string) Arg {
	a.Deprecated = true
	a.DeprecatedSince = v
	return a
}
