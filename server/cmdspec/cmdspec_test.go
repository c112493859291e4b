package cmdspec

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

var validGroups = map[string]bool{
	"string": true, "generic": true, "connection": true, "server": true, "hash": true,
	"list": true, "set": true, "sorted-set": true, "bitmap": true, "hyperloglog": true,
	"geo": true, "pubsub": true, "transactions": true, "scripting": true, "stream": true,
	"cluster": true, "sentinel": true,
}

var validArgTypes = map[string]bool{
	"key": true, "string": true, "integer": true, "double": true, "pattern": true,
	"unix-time": true, "pure-token": true, "oneof": true, "block": true,
}

func isOrdered(list, order []string) bool {
	last := -1
	for _, w := range list {
		r := -1
		for i, o := range order {
			if o == w {
				r = i
			}
		}
		if r <= last {
			return false
		}
		last = r
	}
	return true
}

func TestSpecInvariants(t *testing.T) {
	specs := All()
	if len(specs) < 300 {
		t.Fatalf("only %d specs registered", len(specs))
	}
	if !sort.SliceIsSorted(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name }) {
		t.Error("All() is not sorted by name")
	}
	seen := map[string]bool{}
	for _, s := range specs {
		if seen[s.Name] {
			t.Errorf("duplicate spec %q", s.Name)
		}
		seen[s.Name] = true
		if s.Name != strings.ToLower(s.Name) || s.Name == "" {
			t.Errorf("%q: name must be non-empty lower case", s.Name)
		}
		if Lookup(s.Name) != s {
			t.Errorf("%q: Lookup does not return the registered spec", s.Name)
		}
		if s.Group == "" || s.Since == "" || s.Summary == "" {
			t.Errorf("%q: empty group/since/summary", s.Name)
		}
		if !validGroups[s.Group] {
			t.Errorf("%q: unknown group %q", s.Name, s.Group)
		}
		if s.Arity == 0 {
			t.Errorf("%q: arity 0", s.Name)
		}
		if parent, _, ok := strings.Cut(s.Name, "|"); ok {
			if s.Container != parent {
				t.Errorf("%q: Container %q, want %q", s.Name, s.Container, parent)
			}
			if Lookup(parent) == nil {
				t.Errorf("%q: container %q not registered", s.Name, parent)
			}
			if strings.Count(s.Name, "|") != 1 {
				t.Errorf("%q: nested subcommand", s.Name)
			}
			found := false
			for _, sub := range Subcommands(parent) {
				found = found || sub == s
			}
			if !found {
				t.Errorf("%q: missing from Subcommands(%q)", s.Name, parent)
			}
		} else if s.Container != "" {
			t.Errorf("%q: top-level command with Container %q", s.Name, s.Container)
		}
		if (s.DeprecatedSince != "") != hasString(s.DocFlags, "deprecated") || (s.ReplacedBy != "") != (s.DeprecatedSince != "") {
			t.Errorf("%q: inconsistent deprecation %v %q %q", s.Name, s.DocFlags, s.DeprecatedSince, s.ReplacedBy)
		}
		for _, h := range s.History {
			if h[0] == "" || h[1] == "" {
				t.Errorf("%q: empty history entry %v", s.Name, h)
			}
		}
		checkArgs(t, s, s.Args)
	}
}

func hasString(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

func checkArgs(t *testing.T, s *Spec, args []Arg) {
	t.Helper()
	for _, a := range args {
		if a.Name == "" || !validArgTypes[a.Type] {
			t.Errorf("%q: bad argument %+v", s.Name, a)
		}
		if a.KeySpecIndex >= len(s.KeySpecs) || a.KeySpecIndex < -1 {
			t.Errorf("%q: argument %q points at key spec %d of %d", s.Name, a.Name, a.KeySpecIndex, len(s.KeySpecs))
		}
		if a.Type == "key" && a.KeySpecIndex < 0 {
			t.Errorf("%q: key argument %q has no key spec", s.Name, a.Name)
		}
		if (a.Type == "oneof" || a.Type == "block") != (len(a.Args) > 0) {
			t.Errorf("%q: argument %q of type %s has %d sub-arguments", s.Name, a.Name, a.Type, len(a.Args))
		}
		if a.MultipleToken && !a.Multiple {
			t.Errorf("%q: argument %q multiple_token without multiple", s.Name, a.Name)
		}
		if a.Deprecated != (a.DeprecatedSince != "") {
			t.Errorf("%q: argument %q deprecated inconsistently", s.Name, a.Name)
		}
		checkArgs(t, s, a.Args)
	}
}

func TestFlagsAndCategories(t *testing.T) {
	for _, s := range All() {
		if !isOrdered(s.Flags, flagOrder) {
			t.Errorf("%q: flags %v not known or not in COMMAND INFO order", s.Name, s.Flags)
		}
		if !isOrdered(s.HiddenFlags, hiddenFlagOrder) {
			t.Errorf("%q: hidden flags %v", s.Name, s.HiddenFlags)
		}
		var cats []string
		for _, c := range s.ACLCategories {
			if !strings.HasPrefix(c, "@") {
				t.Errorf("%q: category %q without '@'", s.Name, c)
			}
			cats = append(cats, strings.TrimPrefix(c, "@"))
		}
		if !isOrdered(cats, ACLCategoryNames) {
			t.Errorf("%q: categories %v not known or not in Redis order", s.Name, s.ACLCategories)
		}
		// The categories Redis derives from flags (setImplicitACLCategories).
		has := s.HasFlag
		cat := s.HasCategory
		if cat("@write") != has("write") {
			t.Errorf("%q: @write vs write flag", s.Name)
		}
		if cat("@read") != (has("readonly") && !cat("@scripting")) {
			t.Errorf("%q: @read vs readonly flag", s.Name)
		}
		if cat("@fast") != has("fast") || cat("@slow") == cat("@fast") {
			t.Errorf("%q: @fast/@slow vs fast flag", s.Name)
		}
		if cat("@blocking") != has("blocking") {
			t.Errorf("%q: @blocking vs blocking flag", s.Name)
		}
		if has("admin") && !(cat("@admin") && cat("@dangerous")) {
			t.Errorf("%q: admin without @admin @dangerous", s.Name)
		}
		if has("pubsub") && !cat("pubsub") {
			t.Errorf("%q: pubsub without @pubsub", s.Name)
		}
		if has("movablekeys") != movableFromKeySpecs(s) {
			t.Errorf("%q: movablekeys flag disagrees with the key specs", s.Name)
		}
	}
}

// movableFromKeySpecs is Redis' rule (populateCommandLegacyRangeSpec) for
// adding "movablekeys" to a native command.
func movableFromKeySpecs(s *Spec) bool {
	ks := s.KeySpecs
	if len(ks) == 0 {
		return false
	}
	plain := func(k KeySpec) bool { return k.BeginSearch.Type == "index" && k.FindKeys.Type == "range" }
	if len(ks) == 1 && plain(ks[0]) {
		return ks[0].Has("incomplete")
	}
	movable, found, prevLast := false, false, 0
	for _, k := range ks {
		if !plain(k) || k.FindKeys.KeyStep != 1 || (prevLast != 0 && prevLast != k.BeginSearch.Index-1) {
			movable = true
			continue
		}
		if k.Has("incomplete") {
			movable = true
		}
		found = true
		last := k.FindKeys.LastKey
		if last >= 0 {
			last += k.BeginSearch.Index
		}
		if uint32(last) > uint32(prevLast) {
			prevLast = last
		}
	}
	return movable || !found
}

func TestKeySpecs(t *testing.T) {
	for _, s := range All() {
		for i, k := range s.KeySpecs {
			if len(k.Flags) == 0 || !isOrdered(k.Flags, keyFlagOrder) {
				t.Errorf("%q spec %d: flags %v", s.Name, i, k.Flags)
			}
			switch k.BeginSearch.Type {
			case "index":
				if k.BeginSearch.Index <= 0 {
					t.Errorf("%q spec %d: index %d", s.Name, i, k.BeginSearch.Index)
				}
			case "keyword":
				if k.BeginSearch.Keyword == "" {
					t.Errorf("%q spec %d: empty keyword", s.Name, i)
				}
			case "unknown":
			default:
				t.Errorf("%q spec %d: begin_search type %q", s.Name, i, k.BeginSearch.Type)
			}
			switch k.FindKeys.Type {
			case "range", "keynum":
				if k.FindKeys.KeyStep <= 0 {
					t.Errorf("%q spec %d: keystep %d", s.Name, i, k.FindKeys.KeyStep)
				}
			case "unknown":
			default:
				t.Errorf("%q spec %d: find_keys type %q", s.Name, i, k.FindKeys.Type)
			}
		}
		if len(s.KeySpecs) > 0 && len(Subcommands(s.Name)) > 0 {
			t.Errorf("%q: container with key specs", s.Name)
		}
	}
	if !Lookup("set").KeySpecs[0].Has("ACCESS") || !Lookup("set").KeySpecs[0].Has("variable_flags") {
		t.Error("KeySpec.Has is not case-insensitive")
	}
}

func TestWellKnownFacts(t *testing.T) {
	type triple struct{ first, last, step int }
	for _, c := range []struct {
		name  string
		arity int
		flags []string // nil: not checked
		rng   triple
	}{
		{"get", 2, []string{"readonly", "fast"}, triple{1, 1, 1}},
		{"mget", -2, []string{"readonly", "fast"}, triple{1, -1, 1}},
		{"mset", -3, []string{"write", "denyoom"}, triple{1, -1, 2}},
		{"set", -3, []string{"write", "denyoom"}, triple{1, 1, 1}},
		{"object|encoding", 3, []string{"readonly"}, triple{2, 2, 1}},
		{"ping", -1, []string{"fast"}, triple{0, 0, 0}},
		{"config|get", -3, []string{"admin", "noscript", "loading", "stale"}, triple{0, 0, 0}},
		{"lcs", -3, []string{"readonly"}, triple{1, 2, 1}},
		{"del", -2, []string{"write"}, triple{1, -1, 1}},
		{"blpop", -3, []string{"write", "noscript", "blocking"}, triple{1, -2, 1}},
		{"bitop", -4, []string{"write", "denyoom"}, triple{2, -1, 1}},
		{"copy", -3, []string{"write", "denyoom"}, triple{1, 2, 1}},
		{"migrate", -6, []string{"write", "movablekeys"}, triple{3, 3, 1}},
		{"zunionstore", -4, []string{"write", "denyoom", "movablekeys"}, triple{1, 1, 1}},
		{"sort", -2, []string{"write", "denyoom", "movablekeys"}, triple{1, 1, 1}},
		{"eval", -3, []string{"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"}, triple{0, 0, 0}},
		{"xread", -4, []string{"readonly", "blocking", "movablekeys"}, triple{0, 0, 0}},
		{"xreadgroup", -7, []string{"write", "blocking", "movablekeys"}, triple{0, 0, 0}},
		{"client|list", -2, []string{"admin", "noscript", "loading", "stale"}, triple{0, 0, 0}},
		{"exec", 1, []string{"noscript", "loading", "stale", "skip_slowlog"}, triple{0, 0, 0}},
		{"command", -1, []string{"loading", "stale"}, triple{0, 0, 0}},
		{"debug", -2, []string{"admin", "noscript", "loading", "stale"}, triple{0, 0, 0}},
		{"memory|usage", -3, []string{"readonly"}, triple{2, 2, 1}},
	} {
		s := Lookup(c.name)
		if s == nil {
			t.Errorf("%s: missing", c.name)
			continue
		}
		if s.Arity != c.arity {
			t.Errorf("%s: arity %d, want %d", c.name, s.Arity, c.arity)
		}
		if c.flags != nil && !reflect.DeepEqual(s.Flags, c.flags) {
			t.Errorf("%s: flags %v, want %v", c.name, s.Flags, c.flags)
		}
		if f, l, st := s.LegacyRange(); (triple{f, l, st}) != c.rng {
			t.Errorf("%s: legacy range %d,%d,%d, want %v", c.name, f, l, st, c.rng)
		}
	}

	get := Lookup("GET") // Lookup folds case
	if get == nil || !reflect.DeepEqual(get.ACLCategories, []string{"@read", "@string", "@fast"}) {
		t.Errorf("get categories: %v", get.ACLCategories)
	}
	if ks := get.KeySpecs; len(ks) != 1 || !reflect.DeepEqual(ks[0].Flags, []string{"RO", "access"}) ||
		ks[0].BeginSearch != (BeginSearch{Type: "index", Index: 1}) ||
		ks[0].FindKeys != (FindKeys{Type: "range", LastKey: 0, KeyStep: 1, Limit: 0}) {
		t.Errorf("get key specs: %+v", ks)
	}
	if ks := Lookup("xread").KeySpecs[0]; ks.BeginSearch != (BeginSearch{Type: "keyword", Keyword: "STREAMS", StartFrom: 1}) ||
		ks.FindKeys != (FindKeys{Type: "range", LastKey: -1, KeyStep: 1, Limit: 2}) {
		t.Errorf("xread key spec: %+v", ks)
	}
	if ks := Lookup("eval").KeySpecs[0]; ks.FindKeys != (FindKeys{Type: "keynum", KeyNumIdx: 0, FirstKey: 1, KeyStep: 1}) {
		t.Errorf("eval key spec: %+v", ks)
	}
	if s := Lookup("keys"); !reflect.DeepEqual(s.ACLCategories, []string{"@keyspace", "@read", "@slow", "@dangerous"}) ||
		!reflect.DeepEqual(s.Tips, []string{"request_policy:all_shards", "nondeterministic_output_order"}) {
		t.Errorf("keys: %v %v", s.ACLCategories, s.Tips)
	}
	if s := Lookup("eval_ro"); s.HasCategory("read") {
		t.Error("eval_ro must not be in @read (scripting commands are excluded)")
	}
	if s := Lookup("getset"); !reflect.DeepEqual(s.DocFlags, []string{"deprecated"}) || s.DeprecatedSince != "6.2.0" ||
		s.ReplacedBy != "`SET` with the `!GET` argument" {
		t.Errorf("getset docs: %v %q %q", s.DocFlags, s.DeprecatedSince, s.ReplacedBy)
	}
	if s := Lookup("publish"); !s.HasFlag("may_replicate") || hasString(s.Flags, "may_replicate") {
		t.Errorf("publish: may_replicate must be a hidden flag: %v %v", s.Flags, s.HiddenFlags)
	}
	if s := Lookup("set"); len(s.History) != 4 || s.Args[2].Type != "oneof" || s.Args[2].Since != "2.6.12" {
		t.Errorf("set docs: %+v", s.History)
	}
	if len(Subcommands("debug")) != 0 || Lookup("debug") == nil {
		t.Error("DEBUG must be a bare container")
	}
	if got := len(Subcommands("object")); got != 5 {
		t.Errorf("object has %d subcommands", got)
	}
	subs := Subcommands("client")
	if !sort.SliceIsSorted(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name }) {
		t.Error("Subcommands not sorted")
	}
	if Lookup("nosuchcommand") != nil || len(Subcommands("get")) != 0 {
		t.Error("unexpected lookup result")
	}
}

// TestCoverage pins the commands the brief requires.
func TestCoverage(t *testing.T) {
	names := `ping echo quit reset hello auth select
client client|id client|setname client|getname client|list client|info client|kill client|setinfo
client|no-evict client|no-touch client|reply client|pause client|unpause client|unblock client|tracking
client|caching client|getredir client|trackinginfo client|help
info dbsize flushdb flushall time config config|get config|set config|resetstat config|rewrite config|help
command command|count command|info command|docs command|list command|getkeys command|getkeysandflags command|help
shutdown lolwut monitor slowlog slowlog|get slowlog|len slowlog|reset slowlog|help
latency latency|latest latency|history latency|reset latency|doctor latency|graph latency|histogram latency|help debug
get set setnx setex psetex getex getdel getset mget mset msetnx incr decr incrby decrby incrbyfloat
append strlen getrange substr setrange lcs
del unlink exists touch type expire pexpire expireat pexpireat ttl pttl expiretime pexpiretime persist
rename renamenx copy move swapdb keys scan randomkey
object object|encoding object|idletime object|freq object|refcount object|help
multi exec discard watch unwatch
hset hget hmset hmget hdel hexists hlen hkeys hvals hgetall hincrby hincrbyfloat hsetnx hstrlen hrandfield hscan
lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos lmove blmove lmpop blmpop
blpop brpop rpoplpush brpoplpush
sadd srem smembers sismember smismember scard spop srandmember smove sinter sintercard sinterstore
sunion sunionstore sdiff sdiffstore sscan
zadd zrem zscore zmscore zincrby zcard zcount zlexcount zrange zrangestore zrangebyscore zrangebylex
zrevrange zrevrangebyscore zrevrangebylex zrank zrevrank zremrangebyrank zremrangebyscore zremrangebylex
zpopmin zpopmax bzpopmin bzpopmax zmpop bzmpop zunion zunionstore zinter zinterstore zintercard zdiff
zdiffstore zrandmember zscan
setbit getbit bitcount bitpos bitop bitfield bitfield_ro pfadd pfcount pfmerge
geoadd geodist geohash geopos georadius georadiusbymember georadius_ro georadiusbymember_ro geosearch geosearchstore
sort sort_ro
publish subscribe unsubscribe psubscribe punsubscribe spublish ssubscribe sunsubscribe
pubsub pubsub|channels pubsub|numsub pubsub|numpat pubsub|shardchannels pubsub|shardnumsub pubsub|help
xadd xlen xrange xrevrange xdel xtrim xread xreadgroup xack xpending xclaim xautoclaim xsetid
xgroup xgroup|create xgroup|destroy xgroup|setid xgroup|createconsumer xgroup|delconsumer
xinfo xinfo|stream xinfo|groups xinfo|consumers
eval evalsha eval_ro evalsha_ro script script|load script|exists script|flush script|kill
dump restore`
	for _, n := range strings.Fields(names) {
		if Lookup(n) == nil {
			t.Errorf("missing %s", n)
		}
	}
}

func TestLegacyRangeSynthetic(t *testing.T) {
	spec := func(kss ...KeySpec) *Spec { return &Spec{KeySpecs: kss} }
	r := func(s *Spec) [3]int { f, l, st := s.LegacyRange(); return [3]int{f, l, st} }
	if got := r(spec()); got != [3]int{0, 0, 0} {
		t.Errorf("no specs: %v", got)
	}
	// Consecutive ranges glue; a gap stops the gluing.
	if got := r(spec(ks("RW", index(1), rangeFK(0, 1, 0)), ks("RO", index(2), rangeFK(1, 1, 0)))); got != [3]int{1, 3, 1} {
		t.Errorf("glued: %v", got)
	}
	if got := r(spec(ks("RW", index(1), rangeFK(0, 1, 0)), ks("RO", index(3), rangeFK(0, 1, 0)))); got != [3]int{1, 1, 1} {
		t.Errorf("gap: %v", got)
	}
	if got := r(spec(ks("RW", unknownBS(), unknownFK()), ks("RO", keyword("X", 1), rangeFK(-1, 1, 0)))); got != [3]int{0, 0, 0} {
		t.Errorf("no range spec: %v", got)
	}
}

func TestDuplicateRegistrationPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	register(&Spec{Name: "get"})
}

func TestHelpersRejectTypos(t *testing.T) {
	for _, f := range []func(){
		func() { flags("wrtie") },
		func() { flags("may_replicate") },
		func() { acl("@reed") },
		func() { acl("read") },
		func() { ks("RW accesss", index(1), rangeFK(0, 1, 0)) },
		func() { flags("write write") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("helper accepted an invalid name")
				}
			}()
			f()
		}()
	}
	if got := flags("denyoom write"); !reflect.DeepEqual(got, []string{"write", "denyoom"}) {
		t.Errorf("flags not reordered: %v", got)
	}
	if got := ks("update ACCESS rw", index(1), rangeFK(0, 1, 0)).Flags; !reflect.DeepEqual(got, []string{"RW", "access", "update"}) {
		t.Errorf("key spec flags not normalised: %v", got)
	}
}
