package server

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unsafe"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
)

// Copier is implemented by the Val of value kinds that COPY can duplicate.
// Copy must return a deep copy: nothing the copy holds may be shared with
// the original, since either can be modified afterwards.
type Copier interface{ Copy() any }

// EncodingNamer is implemented by the Val of value kinds that want OBJECT
// ENCODING to report their current internal representation ("listpack",
// "intset", "quicklist", ...). Kinds whose Val does not implement it report
// Redis's encoding for a large value of that kind.
type EncodingNamer interface{ Encoding() string }

// registerKeys registers the generic keyspace family (DEL, EXISTS, EXPIRE,
// RENAME, SCAN, ...).
func registerKeys(r *Registry) {
	r.Add(&Command{Name: "del", Arity: -2, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1,
		Split: SplitSum, KeyFn: delKey, Run: splitRun})
	r.Add(&Command{Name: "unlink", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Split: SplitSum, KeyFn: delKey, Run: splitRun})
	r.Add(&Command{Name: "exists", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Split: SplitSum, KeyFn: existsKey, Run: splitRun})
	r.Add(&Command{Name: "touch", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Split: SplitSum, KeyFn: touchKey, Run: splitRun})
	r.Add(&Command{Name: "type", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdType})

	r.Add(&Command{Name: "expire", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { expireGeneric(x, "expire", true, true) }})
	r.Add(&Command{Name: "pexpire", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { expireGeneric(x, "pexpire", true, false) }})
	r.Add(&Command{Name: "expireat", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { expireGeneric(x, "expireat", false, true) }})
	r.Add(&Command{Name: "pexpireat", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { expireGeneric(x, "pexpireat", false, false) }})
	r.Add(&Command{Name: "ttl", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { ttlGeneric(x, false, false) }})
	r.Add(&Command{Name: "pttl", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { ttlGeneric(x, true, false) }})
	r.Add(&Command{Name: "expiretime", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { ttlGeneric(x, false, true) }})
	r.Add(&Command{Name: "pexpiretime", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { ttlGeneric(x, true, true) }})
	r.Add(&Command{Name: "persist", Arity: 2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPersist})

	r.Add(&Command{Name: "rename", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1,
		Run: func(x *Ctx) { renameGeneric(x, false) }})
	r.Add(&Command{Name: "renamenx", Arity: 3, Flags: Write | Fast, FirstKey: 1, LastKey: 2, Step: 1,
		Run: func(x *Ctx) { renameGeneric(x, true) }})
	r.Add(&Command{Name: "copy", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdCopy})
	r.Add(&Command{Name: "move", Arity: 3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdMove})

	r.Add(&Command{Name: "swapdb", Arity: 3, Flags: Write | Fast | AllWorkers, Run: cmdSwapDB})
	r.Add(&Command{Name: "flushdb", Arity: -1, Flags: Write | AllWorkers, Run: cmdFlushDB})
	r.Add(&Command{Name: "flushall", Arity: -1, Flags: Write | AllWorkers, Run: cmdFlushAll})
	r.Add(&Command{Name: "dbsize", Arity: 1, Flags: ReadOnly | Fast | AllWorkers, Run: cmdDBSize})
	r.Add(&Command{Name: "keys", Arity: 2, Flags: ReadOnly | AllWorkers, Run: cmdKeys})
	r.Add(&Command{Name: "scan", Arity: -2, Flags: ReadOnly | AllWorkers, Run: cmdScan})
	r.Add(&Command{Name: "randomkey", Arity: 1, Flags: ReadOnly | AllWorkers, Run: cmdRandomKey})

	r.AddContainer("object", -2, 0)
	r.Add(&Command{Name: "object|encoding", Arity: 3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1, Run: cmdObjectEncoding})
	r.Add(&Command{Name: "object|freq", Arity: 3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1, Run: cmdObjectFreq})
	r.Add(&Command{Name: "object|idletime", Arity: 3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1, Run: cmdObjectIdleTime})
	r.Add(&Command{Name: "object|refcount", Arity: 3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1, Run: cmdObjectRefcount})
	r.Add(&Command{Name: "object|help", Arity: 2, Flags: Loading | Stale, RunConn: cmdObjectHelp})
}

// allSlots lists every slot, for commands holding every worker.
func allSlots() []int { return shard.AllSlots }

// keysLookupNoTouch looks key up for reading the way Redis's
// lookupKeyReadWithFlags(LOOKUP_NOTOUCH) does: keyspace hits/misses are
// counted, the access time is left alone (EXISTS, TYPE, TTL, OBJECT).
func keysLookupNoTouch(x *Ctx, key []byte) *shard.Object {
	nt := x.DB.NoTouch
	x.DB.NoTouch = true
	o := x.DB.LookupRead(key)
	x.DB.NoTouch = nt
	return o
}

// keysLookupNoTouchMiss is keysLookupNoTouch plus the "keymiss" event of
// Redis's lookupKeyReadWithFlags (EXISTS, TYPE, TTL; OBJECT passes
// LOOKUP_NONOTIFY and uses keysLookupNoTouch).
func keysLookupNoTouchMiss(x *Ctx, key []byte) *shard.Object {
	o := keysLookupNoTouch(x, key)
	if o == nil {
		x.notify(NotifyKeyMiss, "keymiss", key)
	}
	return o
}

// parseInt32 is Redis's getIntFromObjectOrReply: the value, or the error
// to reply for a non-integer or one outside int32.
func parseInt32(b []byte) (int, string) {
	v, ok := strictInt64(b)
	switch {
	case !ok:
		return 0, ErrNotInteger
	case v < math.MinInt32 || v > math.MaxInt32:
		return 0, ErrInt32Range
	}
	return int(v), ""
}

// keysBytes views a string as bytes without copying, for read-only use.
func keysBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// ---- DEL / UNLINK / EXISTS / TOUCH / TYPE ----

func delKey(x *Ctx, key []byte, _ [][]byte) int64 {
	if x.DB.Delete(key) {
		x.changed(NotifyGeneric, "del", key)
		return 1
	}
	return 0
}

func existsKey(x *Ctx, key []byte, _ [][]byte) int64 {
	if keysLookupNoTouchMiss(x, key) != nil {
		return 1
	}
	return 0
}

// touchKey refreshes the access time, even for a CLIENT NO-TOUCH client
// (Redis exempts TOUCH from no-touch).
func touchKey(x *Ctx, key []byte, _ [][]byte) int64 {
	nt := x.DB.NoTouch
	x.DB.NoTouch = false
	o := x.lookupRead(key)
	x.DB.NoTouch = nt
	if o != nil {
		return 1
	}
	return 0
}

func cmdType(x *Ctx) {
	o := keysLookupNoTouchMiss(x, x.Args[1])
	if o == nil {
		x.W.Simple("none")
		return
	}
	x.W.Simple(o.Kind.String())
}

// ---- EXPIRE family ----

const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// expireGeneric is EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT (Redis's
// expireGenericCommand): relative adds the current time, seconds scales
// the argument to milliseconds.
func expireGeneric(x *Ctx, name string, relative, seconds bool) {
	flags := 0
	for _, a := range x.Args[3:] {
		switch strings.ToLower(string(a)) {
		case "nx":
			flags |= expireNX
		case "xx":
			flags |= expireXX
		case "gt":
			flags |= expireGT
		case "lt":
			flags |= expireLT
		default:
			x.W.Error("ERR Unsupported option " + string(a))
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		x.W.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		x.W.Error("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := strictInt64(x.Args[2])
	if !ok {
		x.W.Error(ErrNotInteger)
		return
	}
	invalid := func() string { return "ERR invalid expire time in '" + name + "' command" } // built only when needed: EXPIRE allocates nothing
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			x.W.Error(invalid())
			return
		}
		when *= 1000
	}
	var base int64
	if relative {
		base = x.DB.Now()
	}
	if when > math.MaxInt64-base {
		x.W.Error(invalid())
		return
	}
	when += base

	key := x.Args[1]
	o := x.DB.Lookup(key)
	if o == nil {
		x.W.Int(0)
		return
	}
	if flags != 0 {
		cur := o.Expire // 0: no expiry (Redis's -1, an infinite TTL)
		switch {
		case flags&expireNX != 0 && cur != 0,
			flags&expireXX != 0 && cur == 0,
			flags&expireGT != 0 && (cur == 0 || when <= cur),
			flags&expireLT != 0 && cur != 0 && when >= cur:
			x.W.Int(0)
			return
		}
	}
	if when <= x.DB.Now() {
		// A time in the past deletes the key (a deletion, not an expiry:
		// expired_keys is not counted, as in Redis).
		x.DB.Delete(key)
		x.changed(NotifyGeneric, "del", key)
		x.W.Int(1)
		return
	}
	x.DB.SetExpire(key, o, when)
	x.changed(NotifyGeneric, "expire", key)
	x.W.Int(1)
}

// ttlGeneric is TTL, PTTL, EXPIRETIME and PEXPIRETIME.
func ttlGeneric(x *Ctx, ms, abs bool) {
	o := keysLookupNoTouchMiss(x, x.Args[1])
	if o == nil {
		x.W.Int(-2)
		return
	}
	if o.Expire == 0 {
		x.W.Int(-1)
		return
	}
	t := o.Expire
	if !abs {
		t -= x.DB.Now()
	}
	t = max(t, 0)
	if !ms {
		t = t/1000 + (t%1000+500)/1000 // (t+500)/1000 without overflow
	}
	x.W.Int(t)
}

func cmdPersist(x *Ctx) {
	o := x.DB.Lookup(x.Args[1])
	if o == nil || o.Expire == 0 {
		x.W.Int(0)
		return
	}
	x.DB.SetExpire(x.Args[1], o, 0)
	x.changed(NotifyGeneric, "persist", x.Args[1])
	x.W.Int(1)
}

// ---- RENAME / RENAMENX / COPY / MOVE ----
//
// Keys of one call on different workers run as a barrier holding all of
// them, so these need no cross-worker code.

func renameGeneric(x *Ctx, nx bool) {
	src, dst := x.Args[1], x.Args[2]
	o := x.DB.Lookup(src)
	if o == nil {
		x.W.Error(ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			x.W.Int(0)
		} else {
			x.W.OK()
		}
		return
	}
	if x.DB.Lookup(dst) != nil {
		if nx {
			x.W.Int(0)
			return
		}
		x.DB.Delete(dst) // Redis deletes the old value first: dst is "new"
	}
	// The object itself moves: its value, expiry and access time go with it.
	x.DB.Delete(src)
	x.dbAdd(dst, o)
	x.keyModified(src)
	x.keyModified(dst)
	x.notify(NotifyGeneric, "rename_from", src)
	x.notify(NotifyGeneric, "rename_to", dst)
	if nx {
		x.W.Int(1)
	} else {
		x.W.OK()
	}
}

func cmdCopy(x *Ctx) {
	dbIdx := x.DB.Index()
	replace := false
	for j := 3; j < len(x.Args); j++ {
		switch opt := strings.ToLower(string(x.Args[j])); {
		case opt == "replace":
			replace = true
		case opt == "db" && j+1 < len(x.Args):
			id, e := parseInt32(x.Args[j+1])
			if e != "" {
				x.W.Error(e)
				return
			}
			if id < 0 || id >= x.DB.Engine().Databases() {
				x.W.Error(ErrDBIndex)
				return
			}
			dbIdx = id
			j++
		default:
			x.W.Error(ErrSyntax)
			return
		}
	}
	src, dst := x.Args[1], x.Args[2]
	sameDB := dbIdx == x.DB.Index()
	if sameDB && string(src) == string(dst) {
		x.W.Error(ErrSameObject)
		return
	}
	o := x.lookupRead(src)
	if o == nil {
		x.W.Int(0)
		return
	}
	dstDB := &x.DB
	if !sameDB {
		d := x.DB.Engine().DB(x.Worker, dbIdx)
		dstDB = &d
	}
	if dstDB.Lookup(dst) != nil && !replace {
		x.W.Int(0)
		return
	}
	n, ok := copyObject(o)
	if !ok {
		x.W.Error("ERR COPY does not support values of type " + o.Kind.String())
		return
	}
	if replace {
		dstDB.Delete(dst) // Redis deletes first: the copy is a "new" key
	}
	dstDB.Add(dst, n)
	x.Srv.notifyKeyspaceEvent(NotifyNew, "new", dst, dbIdx)
	x.keyModified(dst)
	x.Srv.notifyKeyspaceEvent(NotifyGeneric, "copy_to", dst, dbIdx)
	x.W.Int(1)
}

// copyObject deep-copies a stored value for COPY: the string bytes, and
// Val through its Copier. The copy keeps the expiry and gets a fresh
// access time (it is a new object, as in Redis).
func copyObject(o *shard.Object) (*shard.Object, bool) {
	n := &shard.Object{Expire: o.Expire, Kind: o.Kind, Enc: o.Enc}
	if o.Str != nil {
		n.Str = append(make([]byte, 0, len(o.Str)), o.Str...)
	}
	if o.Val != nil {
		c, ok := o.Val.(Copier)
		if !ok {
			return nil, false
		}
		n.Val = c.Copy()
	}
	return n, true
}

// cmdMove moves a key to another database. The key's slot, and so its
// worker, are the same in every database: MOVE runs on one worker.
func cmdMove(x *Ctx) {
	id, e := parseInt32(x.Args[2])
	if e != "" {
		x.W.Error(e)
		return
	}
	if id < 0 || id >= x.DB.Engine().Databases() {
		x.W.Error(ErrDBIndex)
		return
	}
	if id == x.DB.Index() {
		x.W.Error(ErrSameObject)
		return
	}
	key := x.Args[1]
	o := x.DB.Lookup(key)
	if o == nil {
		x.W.Int(0)
		return
	}
	dst := x.DB.Engine().DB(x.Worker, id)
	if dst.Lookup(key) != nil {
		x.W.Int(0)
		return
	}
	dst.Add(key, o)
	x.Srv.notifyKeyspaceEvent(NotifyNew, "new", key, id)
	x.DB.Delete(key)
	x.keyModified(key)
	x.notify(NotifyGeneric, "move_from", key)
	x.Srv.notifyKeyspaceEvent(NotifyGeneric, "move_to", key, id)
	x.W.Int(1)
}

// ---- whole-keyspace commands (AllWorkers: every worker is held) ----

func cmdSwapDB(x *Ctx) {
	a, e := parseInt32(x.Args[1])
	if e != "" {
		x.W.Error("ERR invalid first DB index")
		return
	}
	b, e := parseInt32(x.Args[2])
	if e != "" {
		x.W.Error("ERR invalid second DB index")
		return
	}
	n := x.DB.Engine().Databases()
	if a < 0 || a >= n || b < 0 || b >= n {
		x.W.Error(ErrDBIndex)
		return
	}
	if a != b {
		x.DB.Engine().SwapDB(a, b)
	}
	x.W.OK()
}

// keysFlushArgs accepts FLUSHDB/FLUSHALL's optional SYNC or ASYNC. kvd
// always frees synchronously: dropping the tables is O(slots) and the Go
// collector reclaims the memory in the background anyway.
func keysFlushArgs(x *Ctx) bool {
	if len(x.Args) == 1 {
		return true
	}
	if len(x.Args) == 2 {
		switch strings.ToLower(string(x.Args[1])) {
		case "sync", "async":
			return true
		}
	}
	x.W.Error(ErrSyntax)
	return false
}

func cmdFlushDB(x *Ctx) {
	if !keysFlushArgs(x) {
		return
	}
	x.DB.Flush(allSlots())
	x.trackingFlushed() // tracking.go
	x.W.OK()
}

func cmdFlushAll(x *Ctx) {
	if !keysFlushArgs(x) {
		return
	}
	e := x.DB.Engine()
	for i := 0; i < e.Databases(); i++ {
		d := e.DB(x.Worker, i)
		d.Flush(allSlots())
	}
	x.trackingFlushed() // tracking.go
	x.W.OK()
}

func cmdDBSize(x *Ctx) {
	x.W.Int(int64(x.DB.Len(allSlots())))
}

func cmdKeys(x *Ctx) {
	pat := x.Args[1]
	all := len(pat) == 1 && pat[0] == '*'
	var keys []string
	for _, s := range allSlots() {
		x.DB.ForEach(s, func(k string, _ *shard.Object) bool {
			if all || GlobMatch(pat, keysBytes(k), false) {
				keys = append(keys, k)
			}
			return true
		})
	}
	x.W.StringArray(keys)
}

// cmdScan is SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].
//
// Design: the cursor is the number of the next slot to visit; 0 starts a
// scan and, when returned, means the scan is complete. SCAN is an
// AllWorkers command, so each call holds every worker and sees a frozen
// keyspace. It walks the slots from the cursor on, returns every key of
// each visited slot that passes the MATCH and TYPE filters, stops after the
// slot at which it has looked at COUNT (default 10) keys or more, and
// returns the next slot, or 0 after slot 16383. A slot is always reported
// whole within one call and slots are visited in order exactly once per
// scan, so a key that exists during the whole scan is returned (exactly
// once, as long as it does not move slot, which it cannot). Keys added or
// removed during the scan may or may not be returned, as in Redis. Any
// cursor past the last slot ends the scan.
func cmdScan(x *Ctx) {
	cursor, ok := keysParseCursor(x.Args[1])
	if !ok {
		x.W.Error("ERR invalid cursor")
		return
	}
	count := int64(10)
	var pat, typ []byte
	usePat := false
	for i := 2; i < len(x.Args); {
		opt := strings.ToLower(string(x.Args[i]))
		more := len(x.Args) - i
		switch {
		case opt == "count" && more >= 2:
			n, ok := strictInt64(x.Args[i+1])
			if !ok {
				x.W.Error(ErrNotInteger)
				return
			}
			if n < 1 {
				x.W.Error(ErrSyntax)
				return
			}
			count = n
		case opt == "match" && more >= 2:
			pat = x.Args[i+1]
			usePat = !(len(pat) == 1 && pat[0] == '*')
		case opt == "type" && more >= 2:
			typ = x.Args[i+1]
		default:
			x.W.Error(ErrSyntax)
			return
		}
		i += 2
	}
	var keys []string
	next := uint64(0)
	if cursor < shard.NumSlots {
		var looked int64
		s := int(cursor)
		for s < shard.NumSlots {
			x.DB.ForEach(s, func(k string, o *shard.Object) bool {
				looked++
				if usePat && !GlobMatch(pat, keysBytes(k), false) {
					return true
				}
				if typ != nil {
					// Redis looks the key up (counting a keyspace hit) to
					// learn its type.
					keysLookupNoTouch(x, keysBytes(k))
					if !strings.EqualFold(string(typ), o.Kind.String()) {
						return true
					}
				}
				keys = append(keys, k)
				return true
			})
			s++
			if looked >= count {
				break
			}
		}
		if s < shard.NumSlots {
			next = uint64(s)
		}
	}
	x.W.Array(2)
	var tmp [24]byte
	x.W.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	x.W.StringArray(keys)
}

// keysParseCursor parses a SCAN cursor as Redis's parseScanCursorOrReply
// does with strtoul: no leading space, an optional sign ('-' wraps
// around), decimal digits, no overflow; the empty string is 0.
func keysParseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return 0, false
	}
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

func cmdRandomKey(x *Ctx) {
	k, ok := x.DB.RandomKey(allSlots(), rand.IntN)
	if !ok {
		x.W.Null()
		return
	}
	x.W.BulkString(k)
}

// ---- OBJECT ----
//
// OBJECT looks keys up without refreshing their access time (keyspace
// hits and misses are counted, as in Redis).

// sharedIntegers is Redis's OBJ_SHARED_INTEGERS: strings holding an
// integer in [0, sharedIntegers) share one object (OBJECT REFCOUNT
// reports INT_MAX) unless an LRU/LFU maxmemory policy is in force.
const sharedIntegers = 10000

func (s *Server) keysPolicy() string {
	p, _ := s.cfg.Get("maxmemory-policy")
	return p
}

func keysLFU(x *Ctx) bool { return strings.Contains(x.Srv.keysPolicy(), "lfu") }

// stringEncoding is the encoding Redis gives a string value: "raw" once
// modified in place (APPEND, SETRANGE), "int" for a canonical int64 unless
// INCRBYFLOAT made it, "embstr" up to 44 bytes, "raw" beyond.
func stringEncoding(o *shard.Object) string {
	switch {
	case o.Enc == shard.EncRaw:
		return "raw"
	case o.Enc == shard.EncAuto && len(o.Str) <= 20 && isCanonicalInt(o.Str):
		return "int"
	case len(o.Str) <= 44:
		return "embstr"
	}
	return "raw"
}

func isCanonicalInt(b []byte) bool {
	_, ok := strictInt64(b)
	return ok
}

// objectEncoding is what OBJECT ENCODING reports for o.
func objectEncoding(o *shard.Object) string {
	if o.Kind == shard.KindString {
		return stringEncoding(o)
	}
	if e, ok := o.Val.(EncodingNamer); ok {
		return e.Encoding()
	}
	switch o.Kind {
	case shard.KindList:
		return "quicklist"
	case shard.KindSet, shard.KindHash:
		return "hashtable"
	case shard.KindZSet:
		return "skiplist"
	case shard.KindStream:
		return "stream"
	}
	return "unknown"
}

func cmdObjectEncoding(x *Ctx) {
	o := keysLookupNoTouch(x, x.Args[2])
	if o == nil {
		x.W.Null()
		return
	}
	x.W.BulkString(objectEncoding(o))
}

func cmdObjectRefcount(x *Ctx) {
	o := keysLookupNoTouch(x, x.Args[2])
	if o == nil {
		x.W.Null()
		return
	}
	if o.Kind == shard.KindString && stringEncoding(o) == "int" {
		v, _ := strictInt64(o.Str)
		policy := x.Srv.keysPolicy()
		maxmem, _ := x.Srv.cfg.Get("maxmemory")
		shared := maxmem == "0" || !(strings.Contains(policy, "lru") || strings.Contains(policy, "lfu"))
		if shared && v >= 0 && v < sharedIntegers {
			x.W.Int(math.MaxInt32)
			return
		}
	}
	x.W.Int(1)
}

const (
	errLFUSelected    = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	errLFUNotSelected = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)

func cmdObjectIdleTime(x *Ctx) {
	o := keysLookupNoTouch(x, x.Args[2])
	if o == nil {
		x.W.Null()
		return
	}
	if keysLFU(x) {
		x.W.Error(errLFUSelected)
		return
	}
	x.W.Int(max(x.DB.Now()-o.Atime, 0) / 1000)
}

// lfuInitVal is Redis's LFU_INIT_VAL, the counter of a new key.
const lfuInitVal = 5

// cmdObjectFreq answers under an LFU policy only, as Redis does. kvd keeps
// no per-key access counter, so the frequency reported is Redis's counter
// of a key not read since it was last touched: LFU_INIT_VAL decayed by one
// per idle minute (lfu-decay-time 1).
func cmdObjectFreq(x *Ctx) {
	o := keysLookupNoTouch(x, x.Args[2])
	if o == nil {
		x.W.Null()
		return
	}
	if !keysLFU(x) {
		x.W.Error(errLFUNotSelected)
		return
	}
	idleMin := max(x.DB.Now()-o.Atime, 0) / 60000
	x.W.Int(max(lfuInitVal-idleMin, 0))
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

func cmdObjectHelp(_ *Conn, _ [][]byte, w *proto.Writer) {
	w.Array(len(objectHelp))
	for _, l := range objectHelp {
		w.Simple(l)
	}
}
