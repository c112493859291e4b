package server

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"

	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// registerHash registers the hash family.
func registerHash(r *Registry) {
	r.Add(&Command{Name: "hset", Arity: -4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { hashSetGeneric(x, "hset") }})
	r.Add(&Command{Name: "hmset", Arity: -4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { hashSetGeneric(x, "hmset") }})
	r.Add(&Command{Name: "hsetnx", Arity: 4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHSetNX})
	r.Add(&Command{Name: "hget", Arity: 3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHGet})
	r.Add(&Command{Name: "hmget", Arity: -3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHMGet})
	r.Add(&Command{Name: "hdel", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHDel})
	r.Add(&Command{Name: "hlen", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHLen})
	r.Add(&Command{Name: "hstrlen", Arity: 3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHStrlen})
	r.Add(&Command{Name: "hexists", Arity: 3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHExists})
	r.Add(&Command{Name: "hkeys", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { hashGetAll(x, true, false) }})
	r.Add(&Command{Name: "hvals", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { hashGetAll(x, false, true) }})
	r.Add(&Command{Name: "hgetall", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { hashGetAll(x, true, true) }})
	r.Add(&Command{Name: "hincrby", Arity: 4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHIncrBy})
	r.Add(&Command{Name: "hincrbyfloat", Arity: 4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHIncrByFloat})
	r.Add(&Command{Name: "hrandfield", Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHRandField})
	r.Add(&Command{Name: "hscan", Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHScan})
}

// Error texts of the hash family, as Redis 7.0 writes them.
const (
	errHashNotInt     = "ERR hash value is not an integer"
	errHashNotFloat   = "ERR hash value is not a float"
	errHashIncrNaN    = "ERR value is NaN or Infinity"
	errHashRandRange  = "ERR value is out of range"
	errHashRandCount  = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	hashRandWithLimit = math.MaxInt64 / 2 // Redis's LONG_MAX/2 bound with WITHVALUES
)

// hashRead finds key for a read command: (nil, nil, true) when missing,
// false after a WRONGTYPE reply.
func hashRead(x *Ctx, key []byte) (*shard.Object, *types.Hash, bool) {
	o, ok := lookupKind(x, key, shard.KindHash, true)
	if !ok || o == nil {
		return nil, nil, ok
	}
	return o, o.Val.(*types.Hash), true
}

// hashWrite finds key for a write command and, like Redis's
// lookupKeyWrite, refreshes its access time. A missing key gets a new
// empty hash with a nil object: hashStore adds it once something was
// stored, so an error never leaves an empty hash behind.
func hashWrite(x *Ctx, key []byte) (*shard.Object, *types.Hash, bool) {
	o, ok := lookupKind(x, key, shard.KindHash, false)
	if !ok {
		return nil, nil, false
	}
	if o == nil {
		return nil, types.NewHash(), true
	}
	strTouch(x, o)
	return o, o.Val.(*types.Hash), true
}

// hashStore adds a hash created by a write command to the keyspace (an
// existing one is modified in place and needs nothing).
func hashStore(x *Ctx, key []byte, o *shard.Object, h *types.Hash) {
	if o == nil {
		x.dbAdd(key, &shard.Object{Kind: shard.KindHash, Val: h})
	}
}

// hashLimits reads the listpack thresholds.
func hashLimits(x *Ctx) (entries, value int64) {
	enc := &x.Srv.Config().Enc
	return enc.HashMaxListpackEntries.Load(), enc.HashMaxListpackValue.Load()
}

// hashSetGeneric is HSET (reply: the number of new fields) and its
// deprecated form HMSET (reply: +OK).
func hashSetGeneric(x *Ctx, name string) {
	if len(x.Args)%2 == 1 {
		x.W.Error(WrongArgs(name))
		return
	}
	key := x.Args[1]
	o, h, ok := hashWrite(x, key)
	if !ok {
		return
	}
	maxEntries, maxValue := hashLimits(x)
	created := 0
	for j := 2; j < len(x.Args); j += 2 {
		if h.Set(x.Args[j], x.Args[j+1], maxEntries, maxValue) {
			created++
		}
	}
	hashStore(x, key, o, h)
	x.changed(NotifyHash, "hset", key)
	if name == "hmset" {
		x.W.OK()
	} else {
		x.W.Int(int64(created))
	}
}

func cmdHSetNX(x *Ctx) {
	key := x.Args[1]
	o, h, ok := hashWrite(x, key)
	if !ok {
		return
	}
	if h.Exists(x.Args[2]) {
		x.W.Int(0)
		return
	}
	maxEntries, maxValue := hashLimits(x)
	h.Set(x.Args[2], x.Args[3], maxEntries, maxValue)
	hashStore(x, key, o, h)
	x.changed(NotifyHash, "hset", key)
	x.W.Int(1)
}

func cmdHGet(x *Ctx) {
	_, h, ok := hashRead(x, x.Args[1])
	if !ok {
		return
	}
	if h != nil {
		if v, found := h.Get(x.Args[2]); found {
			x.W.BulkString(v)
			return
		}
	}
	x.W.Null()
}

func cmdHMGet(x *Ctx) {
	_, h, ok := hashRead(x, x.Args[1])
	if !ok {
		return
	}
	fields := x.Args[2:]
	x.W.Array(len(fields))
	for _, f := range fields {
		if h != nil {
			if v, found := h.Get(f); found {
				x.W.BulkString(v)
				continue
			}
		}
		x.W.Null()
	}
}

func cmdHDel(x *Ctx) {
	key := x.Args[1]
	o, ok := lookupKind(x, key, shard.KindHash, false)
	if !ok {
		return
	}
	if o == nil {
		x.W.Int(0)
		return
	}
	strTouch(x, o)
	h := o.Val.(*types.Hash)
	deleted := 0
	for _, f := range x.Args[2:] {
		if h.Delete(f) {
			deleted++
			if h.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		x.keyModified(key)
		x.notify(NotifyHash, "hdel", key)
		x.delIfEmpty(key, o)
	}
	x.W.Int(int64(deleted))
}

func cmdHLen(x *Ctx) {
	_, h, ok := hashRead(x, x.Args[1])
	if !ok {
		return
	}
	if h == nil {
		x.W.Int(0)
		return
	}
	x.W.Int(int64(h.Len()))
}

func cmdHStrlen(x *Ctx) {
	_, h, ok := hashRead(x, x.Args[1])
	if !ok {
		return
	}
	var n int
	if h != nil {
		v, _ := h.Get(x.Args[2])
		n = len(v)
	}
	x.W.Int(int64(n))
}

func cmdHExists(x *Ctx) {
	_, h, ok := hashRead(x, x.Args[1])
	if !ok {
		return
	}
	if h != nil && h.Exists(x.Args[2]) {
		x.W.Int(1)
		return
	}
	x.W.Int(0)
}

// hashGetAll is HKEYS, HVALS and HGETALL (a map under RESP3, an empty map
// for a missing key; HKEYS and HVALS reply with arrays).
func hashGetAll(x *Ctx, fields, values bool) {
	_, h, ok := hashRead(x, x.Args[1])
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	if fields && values {
		x.W.Map(n)
	} else {
		x.W.Array(n)
	}
	if h == nil {
		return
	}
	h.Range(func(f, v string) bool {
		if fields {
			x.W.BulkString(f)
		}
		if values {
			x.W.BulkString(v)
		}
		return true
	})
}

// cmdHIncrBy adds an integer to a field (0 when missing), with Redis's
// strict parsing of both operands and its overflow check.
func cmdHIncrBy(x *Ctx) {
	incr, ok := strictInt64(x.Args[3])
	if !ok {
		x.W.Error(ErrNotInteger)
		return
	}
	key, field := x.Args[1], x.Args[2]
	o, h, ok := hashWrite(x, key)
	if !ok {
		return
	}
	var cur int64
	if v, found := h.Get(field); found {
		if cur, ok = strictInt64(keysBytes(v)); !ok {
			x.W.Error(errHashNotInt)
			return
		}
	}
	if addOverflows(cur, incr) {
		x.W.Error(ErrOverflow)
		return
	}
	cur += incr
	var buf [24]byte
	maxEntries, maxValue := hashLimits(x)
	h.Set(field, strconv.AppendInt(buf[:0], cur, 10), maxEntries, maxValue)
	hashStore(x, key, o, h)
	x.changed(NotifyHash, "hincrby", key)
	x.W.Int(cur)
}

// cmdHIncrByFloat adds a float to a field with the long-double arithmetic
// and formatting of INCRBYFLOAT.
func cmdHIncrByFloat(x *Ctx) {
	incr, ok := parseLongDouble(x.Args[3])
	if !ok {
		x.W.Error(ErrNotFloat)
		return
	}
	if incr.IsInf() {
		x.W.Error(errHashIncrNaN)
		return
	}
	key, field := x.Args[1], x.Args[2]
	o, h, ok := hashWrite(x, key)
	if !ok {
		return
	}
	value := new(big.Float).SetPrec(ldMantBits)
	if v, found := h.Get(field); found {
		if value, ok = parseLongDouble(keysBytes(v)); !ok {
			x.W.Error(errHashNotFloat)
			return
		}
	}
	sum, ok := addLongDouble(value, incr)
	if !ok {
		x.W.Error(errIncrFloatNaN)
		return
	}
	s := formatLongDouble(sum)
	maxEntries, maxValue := hashLimits(x)
	h.Set(field, s, maxEntries, maxValue)
	hashStore(x, key, o, h)
	x.changed(NotifyHash, "hincrbyfloat", key)
	x.W.Bulk(s)
}

// cmdHRandField is HRANDFIELD key [count [WITHVALUES]], Redis 7.0's
// hrandfieldCommand: without count one field (or nil); a positive count
// gives distinct fields, a negative one fields that may repeat. WITHVALUES
// replies with a flat array under RESP2 and with [field, value] pairs
// under RESP3.
func cmdHRandField(x *Ctx) {
	if len(x.Args) == 2 {
		_, h, ok := hashRead(x, x.Args[1])
		if !ok {
			return
		}
		if h == nil {
			x.W.Null()
			return
		}
		f, _ := h.Random(rand.IntN)
		x.W.BulkString(f)
		return
	}
	l, ok := strictInt64(x.Args[2])
	if !ok {
		x.W.Error(ErrNotInteger)
		return
	}
	if l == math.MinInt64 {
		x.W.Error(errHashRandCount)
		return
	}
	withValues := false
	if len(x.Args) > 4 || (len(x.Args) == 4 && !optIs(x.Args[3], "withvalues")) {
		x.W.Error(ErrSyntax)
		return
	}
	if len(x.Args) == 4 {
		withValues = true
		if l < -hashRandWithLimit || l > hashRandWithLimit {
			x.W.Error(errHashRandRange)
			return
		}
	}
	_, h, ok := hashRead(x, x.Args[1])
	if !ok {
		return
	}
	if h == nil || l == 0 {
		x.W.Array(0)
		return
	}
	resp3 := x.W.Resp3
	pair := func(f, v string) {
		if withValues && resp3 {
			x.W.Array(2)
		}
		x.W.BulkString(f)
		if withValues {
			x.W.BulkString(v)
		}
	}
	header := func(n int64) {
		if withValues && !resp3 {
			x.W.Array(int(2 * n))
		} else {
			x.W.Array(int(n))
		}
	}
	size := int64(h.Len())

	// Negative count (or 1): independent draws, repetitions allowed.
	if l < 0 || l == 1 {
		count := l
		if count < 0 {
			count = -count
		}
		// Refuse hopeless counts before any work: every element costs at
		// least a "$0\r\n\r\n" bulk (plus a pair header under RESP3), and
		// for big counts at least the smallest element of this hash.
		minElem := int64(6)
		if withValues {
			minElem = 12
			if resp3 {
				minElem += 4
			}
		}
		if !collRandHopeless(count, minElem) && collRandHopeless(count*16, minElem) {
			minElem = math.MaxInt64
			h.Range(func(f, v string) bool {
				n := collBulkLen(len(f))
				if withValues {
					n += collBulkLen(len(v))
					if resp3 {
						n += 4
					}
				}
				minElem = min(minElem, n)
				return true
			})
		}
		if collRandHopeless(count, minElem) {
			x.W.Error(errCollRandTooBig)
			return
		}
		start := len(x.W.B)
		header(count)
		for ; count > 0; count-- {
			pair(h.Random(rand.IntN))
			if len(x.W.B)-start > collRandMaxReply {
				x.W.B = x.W.B[:start]
				x.W.Error(errCollRandTooBig)
				return
			}
		}
		return
	}

	// Positive count: distinct fields, the whole hash when it asks for
	// at least as many as there are.
	if l >= size {
		header(size)
		h.Range(func(f, v string) bool {
			pair(f, v)
			return true
		})
		return
	}
	header(l)
	h.RandomUnique(int(l), rand.IntN, pair)
}

// cmdHScan is HSCAN key cursor [MATCH pattern] [COUNT count].
//
// A small (listpack) hash is returned whole with cursor 0, as Redis does.
// For a large hash the cursor is a position in the hash's insertion-ordered
// entry list (see types.Hash.Scan): each call examines up to COUNT fields
// from the cursor on and returns the matching ones with the position of the
// next field, 0 at the end. Every field present for the whole scan is
// returned exactly once; fields added or deleted meanwhile may or may not
// be. The options are parsed after the key lookup, as in Redis: a missing
// key answers an empty scan whatever follows.
func cmdHScan(x *Ctx) {
	cursor, ok := keysParseCursor(x.Args[2])
	if !ok {
		x.W.Error(errCollInvalidCursor)
		return
	}
	_, h, ok := hashRead(x, x.Args[1])
	if !ok {
		return
	}
	if h == nil {
		collScanReply(x.W, 0, nil)
		return
	}
	opts, e := collParseScanOpts(x.Args[3:])
	if e != "" {
		x.W.Error(e)
		return
	}
	var out []string
	next := h.Scan(cursor, int(min(opts.Count, math.MaxInt32)), func(f, v string) {
		if opts.Match(f) {
			out = append(out, f, v)
		}
	})
	collScanReply(x.W, next, out)
}
