package server

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// registerZSet registers the sorted set family. The blocking BZPOPMIN,
// BZPOPMAX and BZMPOP are registered with the blocking core; they share
// zsetPopGeneric, zsetParseMPop and zsetKeys with ZPOPMIN/ZPOPMAX/ZMPOP.
func registerZSet(r *Registry) {
	one := func(name string, arity int, flags Flags, run func(*Ctx)) {
		r.Add(&Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Run: run})
	}
	one("zadd", -4, Write|DenyOOM|Fast, func(x *Ctx) { zaddGeneric(x, 0) })
	one("zincrby", 4, Write|DenyOOM|Fast, func(x *Ctx) { zaddGeneric(x, zaddIncr) })
	one("zrem", -3, Write|Fast, cmdZRem)
	one("zcard", 2, ReadOnly|Fast, cmdZCard)
	one("zscore", 3, ReadOnly|Fast, cmdZScore)
	one("zmscore", -3, ReadOnly|Fast, cmdZMScore)
	one("zrank", 3, ReadOnly|Fast, func(x *Ctx) { zrankGeneric(x, false) })
	one("zrevrank", 3, ReadOnly|Fast, func(x *Ctx) { zrankGeneric(x, true) })
	one("zcount", 4, ReadOnly|Fast, cmdZCount)
	one("zlexcount", 4, ReadOnly|Fast, cmdZLexCount)

	one("zrange", -4, ReadOnly, func(x *Ctx) { zrangeGeneric(x, 1, false, zrangeAuto, zdirAuto) })
	one("zrevrange", -4, ReadOnly, func(x *Ctx) { zrangeGeneric(x, 1, false, zrangeRank, zdirRev) })
	one("zrangebyscore", -4, ReadOnly, func(x *Ctx) { zrangeGeneric(x, 1, false, zrangeScore, zdirFwd) })
	one("zrevrangebyscore", -4, ReadOnly, func(x *Ctx) { zrangeGeneric(x, 1, false, zrangeScore, zdirRev) })
	one("zrangebylex", -4, ReadOnly, func(x *Ctx) { zrangeGeneric(x, 1, false, zrangeLex, zdirFwd) })
	one("zrevrangebylex", -4, ReadOnly, func(x *Ctx) { zrangeGeneric(x, 1, false, zrangeLex, zdirRev) })
	r.Add(&Command{Name: "zrangestore", Arity: -5, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 2, Step: 1,
		Run: func(x *Ctx) { zrangeGeneric(x, 2, true, zrangeAuto, zdirAuto) }})

	one("zremrangebyrank", 4, Write, func(x *Ctx) { zremrangeGeneric(x, zrangeRank) })
	one("zremrangebyscore", 4, Write, func(x *Ctx) { zremrangeGeneric(x, zrangeScore) })
	one("zremrangebylex", 4, Write, func(x *Ctx) { zremrangeGeneric(x, zrangeLex) })

	one("zpopmin", -2, Write|Fast, func(x *Ctx) { zpopMinMax(x, false) })
	one("zpopmax", -2, Write|Fast, func(x *Ctx) { zpopMinMax(x, true) })
	r.Add(&Command{Name: "zmpop", Arity: -4, Flags: Write, Run: cmdZMPop,
		Keys: func(args [][]byte) [][]byte { return zsetKeys(args, 1, false) }})
	one("zrandmember", -2, ReadOnly, cmdZRandMember)
	one("zscan", -3, ReadOnly, cmdZScan)

	setOp := func(name string, arity int, flags Flags, op zsetOp, store, card bool) {
		c := &Command{Name: name, Arity: arity, Flags: flags}
		if store {
			c.FirstKey, c.LastKey, c.Step = 1, 1, 1
			c.Keys = func(args [][]byte) [][]byte { return zsetKeys(args, 2, true) }
			c.Run = func(x *Ctx) { zsetSetOpGeneric(x, name, x.Args[1], 2, op, false) }
		} else {
			c.Keys = func(args [][]byte) [][]byte { return zsetKeys(args, 1, false) }
			c.Run = func(x *Ctx) { zsetSetOpGeneric(x, name, nil, 1, op, card) }
		}
		r.Add(c)
	}
	setOp("zunion", -3, ReadOnly, zsetOpUnion, false, false)
	setOp("zinter", -3, ReadOnly, zsetOpInter, false, false)
	setOp("zdiff", -3, ReadOnly, zsetOpDiff, false, false)
	setOp("zintercard", -3, ReadOnly, zsetOpInter, false, true)
	setOp("zunionstore", -4, Write|DenyOOM, zsetOpUnion, true, false)
	setOp("zinterstore", -4, Write|DenyOOM, zsetOpInter, true, false)
	setOp("zdiffstore", -4, Write|DenyOOM, zsetOpDiff, true, false)
}

// Error texts of the sorted set family, as Redis 7.0 writes them.
const (
	errZAddXXNX      = "ERR XX and NX options at the same time are not compatible"
	errZAddGTLTNX    = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZAddIncrPair  = "ERR INCR option supports a single increment-element pair"
	errZSetNaN       = "ERR resulting score is not a number (NaN)"
	errZMinMaxFloat  = "ERR min or max is not a float"
	errZMinMaxLex    = "ERR min or max not valid string range item"
	errZLimitRank    = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZLexScores    = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errZWeight       = "ERR weight value is not a float"
	errZLimitNeg     = "ERR LIMIT can't be negative"
	errZNumkeys      = "ERR numkeys should be greater than 0"
	errZCount        = "ERR count should be greater than 0"
	errZPositive     = "ERR value is out of range, must be positive"
	errZRandRange    = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	errZRandScoreRng = "ERR value is out of range"
)

// ---- helpers ----

// zsetLimits are the listpack thresholds in force for one command.
type zsetLimits struct{ entries, value int64 }

func zsetLimitsOf(x *Ctx) zsetLimits {
	return zsetLimits{x.Srv.cfg.Enc.ZSetMaxListpackEntries.Load(), x.Srv.cfg.Enc.ZSetMaxListpackValue.Load()}
}

// zsetRead looks key up for reading: (nil, true) when missing, (nil,
// false) after a WRONGTYPE reply.
func zsetRead(x *Ctx, key []byte) (*types.ZSet, bool) {
	o, ok := lookupKind(x, key, shard.KindZSet, true)
	if o == nil {
		return nil, ok
	}
	return o.Val.(*types.ZSet), true
}

// zsetWrite looks key up for writing (refreshing its access time, as
// Redis's lookupKeyWrite): (nil, nil, true) when missing, (nil, nil,
// false) after a WRONGTYPE reply.
func zsetWrite(x *Ctx, key []byte) (*shard.Object, *types.ZSet, bool) {
	o, ok := lookupKind(x, key, shard.KindZSet, false)
	if o == nil {
		return nil, nil, ok
	}
	strTouch(x, o)
	return o, o.Val.(*types.ZSet), true
}

// zsetWithScores writes one member of a WITHSCORES reply: a [member, score]
// pair under RESP3, the flat member then score under RESP2.
func zsetWithScores(w *proto.Writer, member string, score float64) {
	if w.Resp3 {
		w.Array(2)
	}
	w.BulkString(member)
	w.Double(score)
}

// zsetArrayHeader writes the header of n members, with scores or not.
func zsetArrayHeader(w *proto.Writer, n int, withScores bool) {
	if withScores && !w.Resp3 {
		n *= 2
	}
	w.Array(n)
}

// zsetKeys returns the keys of a command line whose numkeys argument is at
// index at, followed by that many keys (Redis's zunionInterDiffGetKeys,
// zmpopGetKeys, bzmpopGetKeys), after the destination args[1] when dst is
// set. Bad input yields what can be found: the handler reports the error.
func zsetKeys(args [][]byte, at int, dst bool) [][]byte {
	var keys [][]byte
	if dst && len(args) > 1 {
		keys = append(keys, args[1])
	}
	if at >= len(args) {
		return keys
	}
	n, ok := strictInt64(args[at])
	if !ok || n < 1 || n > int64(len(args)-at-1) {
		return keys
	}
	return append(keys, args[at+1:at+1+int(n)]...)
}

// ---- ZADD / ZINCRBY ----

// ZADD input flags (Redis's ZADD_IN_*).
const (
	zaddNX = 1 << iota
	zaddXX
	zaddGT
	zaddLT
	zaddIncr
)

// zsetAdd outcomes (Redis's ZADD_OUT_*).
const (
	zaddOutAdded = 1 << iota
	zaddOutUpdated
	zaddOutNop
)

// zsetAdd is Redis's zsetAdd: add member with score, or update it
// according to flags. It returns the outcome and the member's new score;
// ok is false when an increment made the score NaN (nothing changed).
func zsetAdd(z *types.ZSet, score float64, member []byte, flags int, lim zsetLimits) (out int, newScore float64, ok bool) {
	if cur, found := z.Score(member); found {
		if flags&zaddNX != 0 {
			return zaddOutNop, 0, true
		}
		if flags&zaddIncr != 0 {
			score += cur
			if math.IsNaN(score) {
				return 0, 0, false
			}
		}
		if (flags&zaddLT != 0 && score >= cur) || (flags&zaddGT != 0 && score <= cur) {
			return zaddOutNop, 0, true
		}
		if score != cur {
			z.SetScore(member, score)
			out = zaddOutUpdated
		}
		return out, score, true
	}
	if flags&zaddXX != 0 {
		return zaddOutNop, 0, true
	}
	z.Grow(len(member), lim.entries, lim.value)
	z.Insert(member, score)
	return zaddOutAdded, score, true
}

// zaddGeneric is ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ... and
// ZINCRBY key increment member (Redis's zaddGenericCommand).
func zaddGeneric(x *Ctx, flags int) {
	key := x.Args[1]
	ch := false
	scoreIdx := 2
opts:
	for ; scoreIdx < len(x.Args); scoreIdx++ {
		opt := x.Args[scoreIdx]
		switch {
		case optIs(opt, "nx"):
			flags |= zaddNX
		case optIs(opt, "xx"):
			flags |= zaddXX
		case optIs(opt, "ch"):
			ch = true
		case optIs(opt, "incr"):
			flags |= zaddIncr
		case optIs(opt, "gt"):
			flags |= zaddGT
		case optIs(opt, "lt"):
			flags |= zaddLT
		default:
			break opts
		}
	}
	incr := flags&zaddIncr != 0
	nx, xx := flags&zaddNX != 0, flags&zaddXX != 0
	gt, lt := flags&zaddGT != 0, flags&zaddLT != 0

	elements := len(x.Args) - scoreIdx
	if elements%2 != 0 || elements == 0 {
		x.W.Error(ErrSyntax)
		return
	}
	elements /= 2
	switch {
	case nx && xx:
		x.W.Error(errZAddXXNX)
		return
	case (gt && nx) || (lt && nx) || (gt && lt):
		x.W.Error(errZAddGTLTNX)
		return
	case incr && elements > 1:
		x.W.Error(errZAddIncrPair)
		return
	}
	// Every score is parsed before anything changes: the command runs
	// fully or not at all.
	var one [1]float64
	scores := one[:0]
	if elements > 1 {
		scores = make([]float64, 0, elements)
	}
	for j := 0; j < elements; j++ {
		v, ok := parseScore(x.Args[scoreIdx+2*j])
		if !ok {
			x.W.Error(ErrNotFloat)
			return
		}
		scores = append(scores, v)
	}

	o, z, ok := zsetWrite(x, key)
	if !ok {
		return
	}
	var added, updated, processed int
	var score float64
	if z == nil && !xx {
		z = types.NewZSet(true)
		o = &shard.Object{Kind: shard.KindZSet, Val: z}
		x.dbAdd(key, o)
	}
	if z != nil {
		lim := zsetLimitsOf(x)
		for j := 0; j < elements; j++ {
			out, ns, ok := zsetAdd(z, scores[j], x.Args[scoreIdx+1+2*j], flags, lim)
			if !ok {
				x.W.Error(errZSetNaN)
				return
			}
			if out&zaddOutAdded != 0 {
				added++
			}
			if out&zaddOutUpdated != 0 {
				updated++
			}
			if out&zaddOutNop == 0 {
				processed++
			}
			score = ns
		}
	}
	if added+updated > 0 {
		if incr {
			x.changed(NotifyZSet, "zincr", key)
		} else {
			x.changed(NotifyZSet, "zadd", key)
		}
	}
	switch {
	case incr && processed > 0:
		x.W.Double(score)
	case incr:
		x.W.Null()
	case ch:
		x.W.Int(int64(added + updated))
	default:
		x.W.Int(int64(added))
	}
}

// ---- simple reads and removal ----

func cmdZRem(x *Ctx) {
	key := x.Args[1]
	_, z, ok := zsetWrite(x, key)
	if !ok {
		return
	}
	if z == nil {
		x.W.Int(0)
		return
	}
	deleted := 0
	keyRemoved := false
	for _, m := range x.Args[2:] {
		if z.Delete(m) {
			deleted++
		}
		if z.Len() == 0 {
			x.DB.Delete(key)
			keyRemoved = true
			break
		}
	}
	if deleted > 0 {
		x.notify(NotifyZSet, "zrem", key)
		if keyRemoved {
			x.notify(NotifyGeneric, "del", key)
		}
		x.keyModified(key)
	}
	x.W.Int(int64(deleted))
}

func cmdZCard(x *Ctx) {
	z, ok := zsetRead(x, x.Args[1])
	switch {
	case !ok:
	case z == nil:
		x.W.Int(0)
	default:
		x.W.Int(int64(z.Len()))
	}
}

func cmdZScore(x *Ctx) {
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	if z != nil {
		if s, found := z.Score(x.Args[2]); found {
			x.W.Double(s)
			return
		}
	}
	x.W.Null()
}

func cmdZMScore(x *Ctx) {
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	x.W.Array(len(x.Args) - 2)
	for _, m := range x.Args[2:] {
		if z != nil {
			if s, found := z.Score(m); found {
				x.W.Double(s)
				continue
			}
		}
		x.W.Null()
	}
}

// zrankGeneric is ZRANK and ZREVRANK (Redis 7.0: no WITHSCORE).
func zrankGeneric(x *Ctx, rev bool) {
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	if z != nil {
		if r, found := z.Rank(x.Args[2]); found {
			if rev {
				r = z.Len() - 1 - r
			}
			x.W.Int(int64(r))
			return
		}
	}
	x.W.Null()
}

func cmdZCount(x *Ctx) {
	r, ok := parseScoreRange(x.Args[2], x.Args[3])
	if !ok {
		x.W.Error(errZMinMaxFloat)
		return
	}
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	count := 0
	if z != nil {
		if first := z.FirstInScoreRange(r); first >= 0 {
			count = z.LastInScoreRange(r) - first + 1
		}
	}
	x.W.Int(int64(count))
}

func cmdZLexCount(x *Ctx) {
	r, ok := parseLexRange(x.Args[2], x.Args[3])
	if !ok {
		x.W.Error(errZMinMaxLex)
		return
	}
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	count := 0
	if z != nil {
		if first := z.FirstInLexRange(r); first >= 0 {
			if z.IsListpack() {
				// zzl: count forward from the first member while in range.
				z.Walk(first, false, func(m string, _ float64) bool {
					if !r.LteMax(m) {
						return false
					}
					count++
					return true
				})
			} else {
				count = z.Len() - first
				if last := z.LastInLexRange(r); last >= 0 {
					count -= z.Len() - (last + 1)
				}
			}
		}
	}
	x.W.Int(int64(count))
}

// ---- ZRANGE family ----

type zrangeType uint8

const (
	zrangeAuto zrangeType = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

type zrangeDir uint8

const (
	zdirAuto zrangeDir = iota
	zdirFwd
	zdirRev
)

// zrangeSpec is a parsed range request of any kind.
type zrangeSpec struct {
	typ           zrangeType
	rev           bool
	start, end    int64 // rank
	score         types.ScoreRange
	lex           types.LexRange
	offset, limit int64 // score and lex: LIMIT (limit -1: all)
}

// walk calls fn (when not nil) for every member of the range, in reply
// order, and returns how many there are: Redis's genericZrangebyrank/
// byscore/bylexCommand. A score or lex range starts at the first (or, in
// reverse, last) member in range, skips offset members (a negative offset
// skips past the end) and stops at the first member out of range or after
// limit members (a negative limit is no limit).
func (s *zrangeSpec) walk(z *types.ZSet, fn func(member string, score float64)) int {
	n := 0
	llen := int64(z.Len())
	if s.typ == zrangeRank {
		start, end := s.start, s.end
		if start < 0 {
			start += llen
		}
		if end < 0 {
			end += llen
		}
		start = max(start, 0)
		if start > end || start >= llen {
			return 0
		}
		end = min(end, llen-1)
		count := int(end - start + 1)
		if fn == nil {
			return count
		}
		from := start
		if s.rev {
			from = llen - 1 - start
		}
		z.Walk(int(from), s.rev, func(m string, sc float64) bool {
			fn(m, sc)
			n++
			return n < count
		})
		return n
	}
	if s.offset > 0 && s.offset >= llen {
		return 0
	}
	var from int
	switch {
	case s.typ == zrangeScore && s.rev:
		from = z.LastInScoreRange(s.score)
	case s.typ == zrangeScore:
		from = z.FirstInScoreRange(s.score)
	case s.rev:
		from = z.LastInLexRange(s.lex)
	default:
		from = z.FirstInLexRange(s.lex)
	}
	if from < 0 || s.offset < 0 {
		return 0
	}
	if s.rev {
		from -= int(s.offset)
	} else {
		from += int(s.offset)
	}
	limit := s.limit
	z.Walk(from, s.rev, func(m string, sc float64) bool {
		if limit == 0 {
			return false
		}
		var in bool
		switch {
		case s.typ == zrangeScore && s.rev:
			in = s.score.GteMin(sc)
		case s.typ == zrangeScore:
			in = s.score.LteMax(sc)
		case s.rev:
			in = s.lex.GteMin(m)
		default:
			in = s.lex.LteMax(m)
		}
		if !in {
			return false
		}
		if fn != nil {
			fn(m, sc)
		}
		n++
		limit--
		return true
	})
	return n
}

// zrangeGeneric is Redis's zrangeGenericCommand: ZRANGE (argStart 1) and
// ZRANGESTORE (argStart 2, store) with every option, and the older
// Z[REV]RANGE[BYSCORE|BYLEX], which fix the type and direction.
func zrangeGeneric(x *Ctx, argStart int, store bool, typ zrangeType, dir zrangeDir) {
	key := x.Args[argStart]
	minIdx, maxIdx := argStart+1, argStart+2
	withScores := false
	spec := zrangeSpec{limit: -1}
	for j := argStart + 3; j < len(x.Args); j++ {
		left := len(x.Args) - j - 1
		a := x.Args[j]
		switch {
		case !store && optIs(a, "withscores"):
			withScores = true
		case optIs(a, "limit") && left >= 2:
			var ok bool
			if spec.offset, ok = strictInt64(x.Args[j+1]); !ok {
				x.W.Error(ErrNotInteger)
				return
			}
			if spec.limit, ok = strictInt64(x.Args[j+2]); !ok {
				x.W.Error(ErrNotInteger)
				return
			}
			j += 2
		case dir == zdirAuto && optIs(a, "rev"):
			dir = zdirRev
		case typ == zrangeAuto && optIs(a, "bylex"):
			typ = zrangeLex
		case typ == zrangeAuto && optIs(a, "byscore"):
			typ = zrangeScore
		default:
			x.W.Error(ErrSyntax)
			return
		}
	}
	if typ == zrangeAuto {
		typ = zrangeRank
	}
	spec.typ, spec.rev = typ, dir == zdirRev
	if spec.limit != -1 && typ == zrangeRank {
		x.W.Error(errZLimitRank)
		return
	}
	if withScores && typ == zrangeLex {
		x.W.Error(errZLexScores)
		return
	}
	if spec.rev && typ != zrangeRank {
		// The range is given as max, min.
		minIdx, maxIdx = maxIdx, minIdx
	}
	var ok bool
	switch typ {
	case zrangeRank:
		spec.start, ok = strictInt64(x.Args[minIdx])
		if ok {
			spec.end, ok = strictInt64(x.Args[maxIdx])
		}
		if !ok {
			x.W.Error(ErrNotInteger)
			return
		}
	case zrangeScore:
		if spec.score, ok = parseScoreRange(x.Args[minIdx], x.Args[maxIdx]); !ok {
			x.W.Error(errZMinMaxFloat)
			return
		}
	case zrangeLex:
		if spec.lex, ok = parseLexRange(x.Args[minIdx], x.Args[maxIdx]); !ok {
			x.W.Error(errZMinMaxLex)
			return
		}
	}
	z, ok := zsetRead(x, key)
	if !ok {
		return
	}
	if store {
		zrangeStore(x, x.Args[1], z, &spec)
		return
	}
	if z == nil {
		x.W.Array(0)
		return
	}
	zsetArrayHeader(x.W, spec.walk(z, nil), withScores)
	spec.walk(z, func(m string, sc float64) {
		if withScores {
			zsetWithScores(x.W, m, sc)
		} else {
			x.W.BulkString(m)
		}
	})
}

// zrangeStore stores the range of z (nil: missing) at dst as ZRANGESTORE:
// an empty result deletes dst. Like Redis, a rank range longer than
// zset-max-listpack-entries is built as a skiplist from the start; other
// results start as a listpack and convert as members are added.
func zrangeStore(x *Ctx, dst []byte, z *types.ZSet, spec *zrangeSpec) {
	n := 0
	if z != nil {
		lim := zsetLimitsOf(x)
		listpack := spec.typ != zrangeRank || int64(spec.walk(z, nil)) <= lim.entries
		dz := types.NewZSet(listpack)
		spec.walk(z, func(m string, sc float64) {
			dz.Grow(len(m), lim.entries, lim.value)
			dz.InsertString(m, sc)
		})
		if n = dz.Len(); n > 0 {
			x.setKey(dst, &shard.Object{Kind: shard.KindZSet, Val: dz})
			x.keyModified(dst)
			x.notify(NotifyZSet, "zrangestore", dst)
		}
	}
	if n == 0 {
		x.delKeyNotify(dst)
	}
	x.W.Int(int64(n))
}

// zremrangeGeneric is ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
func zremrangeGeneric(x *Ctx, typ zrangeType) {
	key := x.Args[1]
	var start, end int64
	var sr types.ScoreRange
	var lr types.LexRange
	var ok bool
	switch typ {
	case zrangeRank:
		start, ok = strictInt64(x.Args[2])
		if ok {
			end, ok = strictInt64(x.Args[3])
		}
		if !ok {
			x.W.Error(ErrNotInteger)
			return
		}
	case zrangeScore:
		if sr, ok = parseScoreRange(x.Args[2], x.Args[3]); !ok {
			x.W.Error(errZMinMaxFloat)
			return
		}
	case zrangeLex:
		if lr, ok = parseLexRange(x.Args[2], x.Args[3]); !ok {
			x.W.Error(errZMinMaxLex)
			return
		}
	}
	_, z, ok := zsetWrite(x, key)
	if !ok {
		return
	}
	if z == nil {
		x.W.Int(0)
		return
	}
	deleted := 0
	switch typ {
	case zrangeRank:
		llen := int64(z.Len())
		if start < 0 {
			start += llen
		}
		if end < 0 {
			end += llen
		}
		start = max(start, 0)
		if start > end || start >= llen {
			x.W.Int(0)
			return
		}
		end = min(end, llen-1)
		deleted = z.DeleteRangeByRank(int(start), int(end))
	case zrangeScore:
		deleted = z.DeleteRangeByScore(sr)
	case zrangeLex:
		deleted = z.DeleteRangeByLex(lr)
	}
	keyRemoved := false
	if z.Len() == 0 {
		x.DB.Delete(key)
		keyRemoved = true
	}
	if deleted > 0 {
		x.keyModified(key)
		x.notify(NotifyZSet, zremrangeEvents[typ], key)
		if keyRemoved {
			x.notify(NotifyGeneric, "del", key)
		}
	}
	x.W.Int(int64(deleted))
}

// zremrangeEvents are the events of ZREMRANGEBYRANK, ZREMRANGEBYSCORE and
// ZREMRANGEBYLEX.
var zremrangeEvents = map[zrangeType]string{
	zrangeRank:  "zremrangebyrank",
	zrangeScore: "zremrangebyscore",
	zrangeLex:   "zremrangebylex",
}

// ---- pops ----

// zsetPopGeneric is Redis's genericZpopCommand, shared by ZPOPMIN,
// ZPOPMAX, ZMPOP and the blocking BZPOPMIN, BZPOPMAX and BZMPOP. It pops
// from the first existing key of keys (WRONGTYPE if that key is not a
// sorted set) up to count members (-1: a single pop with the flat reply),
// the lowest scores first or, with max, the highest, and writes the reply:
//
//   - !emitKey, !nested: flat [member, score, ...] (ZPOPMIN/ZPOPMAX);
//   - !emitKey, nested: [[member, score], ...] (ZPOPMIN/ZPOPMAX COUNT in RESP3);
//   - emitKey, !nested: [key, member, score, ...] (BZPOPMIN/BZPOPMAX);
//   - emitKey, nested: [key, [[member, score], ...]] (ZMPOP/BZMPOP).
//
// With no existing key it writes the null array when nilWhenEmpty, else
// the empty array. A set emptied by the pop is deleted (deleted reports it).
func zsetPopGeneric(x *Ctx, keys [][]byte, max, emitKey bool, count int64, nested, nilWhenEmpty bool) (deleted bool) {
	var key []byte
	var o *shard.Object
	for _, k := range keys {
		ob := x.DB.Lookup(k)
		if ob == nil {
			continue
		}
		if ob.Kind != shard.KindZSet {
			x.W.Error(ErrWrongType)
			return false
		}
		key, o = k, ob
		break
	}
	if o == nil {
		if nilWhenEmpty {
			x.W.NullArray()
		} else {
			x.W.Array(0)
		}
		return false
	}
	if count == 0 {
		x.W.Array(0)
		return false
	}
	if count < 0 {
		count = 1
	}
	z := o.Val.(*types.ZSet)
	n := int(min(count, int64(z.Len())))
	switch {
	case !emitKey && !nested:
		x.W.Array(2 * n)
	case !emitKey:
		x.W.Array(n)
	case !nested:
		x.W.Array(2*n + 1)
		x.W.Bulk(key)
	default:
		x.W.Array(2)
		x.W.Bulk(key)
		x.W.Array(n)
	}
	for ; n > 0; n-- {
		rank := 0
		if max {
			rank = z.Len() - 1
		}
		m, s := z.At(rank)
		if nested {
			x.W.Array(2)
		}
		x.W.BulkString(m)
		x.W.Double(s)
		z.Delete(keysBytes(m))
	}
	if max {
		x.notify(NotifyZSet, "zpopmax", key)
	} else {
		x.notify(NotifyZSet, "zpopmin", key)
	}
	if z.Len() == 0 {
		x.DB.Delete(key)
		x.notify(NotifyGeneric, "del", key)
		x.keyModified(key)
		return true
	}
	strTouch(x, o)
	x.keyModified(key)
	return false
}

// zpopMinMax is ZPOPMIN/ZPOPMAX key [count].
func zpopMinMax(x *Ctx, max bool) {
	if len(x.Args) > 3 {
		x.W.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(x.Args) == 3 {
		v, ok := strictInt64(x.Args[2])
		if !ok || v < 0 {
			x.W.Error(errZPositive)
			return
		}
		count = v
	}
	// RESP3 nests the pairs when a count is given.
	zsetPopGeneric(x, x.Args[1:2], max, false, count, x.W.Resp3 && count != -1, false)
}

// zsetParseMPop parses "numkeys key ... MIN|MAX [COUNT count]" with
// numkeys at index numkeysIdx (ZMPOP 1, BZMPOP 2), as Redis's
// zmpopGenericCommand, writing the error and returning ok false on bad
// input. count is 1 when not given.
func zsetParseMPop(x *Ctx, numkeysIdx int) (keys [][]byte, max bool, count int64, ok bool) {
	numkeys, ok := strictInt64(x.Args[numkeysIdx])
	if !ok || numkeys < 1 {
		x.W.Error(errZNumkeys)
		return nil, false, 0, false
	}
	if numkeys >= int64(len(x.Args)) || numkeysIdx+int(numkeys)+1 >= len(x.Args) {
		x.W.Error(ErrSyntax)
		return nil, false, 0, false
	}
	whereIdx := numkeysIdx + int(numkeys) + 1
	switch where := x.Args[whereIdx]; {
	case optIs(where, "min"):
	case optIs(where, "max"):
		max = true
	default:
		x.W.Error(ErrSyntax)
		return nil, false, 0, false
	}
	count = -1
	for j := whereIdx + 1; j < len(x.Args); j++ {
		if count == -1 && optIs(x.Args[j], "count") && j+1 < len(x.Args) {
			j++
			v, ok := strictInt64(x.Args[j])
			if !ok || v < 1 {
				x.W.Error(errZCount)
				return nil, false, 0, false
			}
			count = v
			continue
		}
		x.W.Error(ErrSyntax)
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return x.Args[numkeysIdx+1 : whereIdx], max, count, true
}

// cmdZMPop is ZMPOP numkeys key ... MIN|MAX [COUNT count].
func cmdZMPop(x *Ctx) {
	keys, max, count, ok := zsetParseMPop(x, 1)
	if !ok {
		return
	}
	zsetPopGeneric(x, keys, max, true, count, true, true)
}

// ---- ZRANDMEMBER ----

// cmdZRandMember is ZRANDMEMBER key [count [WITHSCORES]].
func cmdZRandMember(x *Ctx) {
	if len(x.Args) < 3 {
		z, ok := zsetRead(x, x.Args[1])
		switch {
		case !ok:
		case z == nil:
			x.W.Null()
		default:
			m, _ := z.At(rand.IntN(z.Len()))
			x.W.BulkString(m)
		}
		return
	}
	l, ok := strictInt64(x.Args[2])
	if !ok {
		x.W.Error(ErrNotInteger)
		return
	}
	if l == math.MinInt64 {
		x.W.Error(errZRandRange)
		return
	}
	if len(x.Args) > 4 || (len(x.Args) == 4 && !optIs(x.Args[3], "withscores")) {
		x.W.Error(ErrSyntax)
		return
	}
	withScores := len(x.Args) == 4
	if withScores && (l < -math.MaxInt64/2 || l > math.MaxInt64/2) {
		x.W.Error(errZRandScoreRng)
		return
	}
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	if z == nil || l == 0 {
		x.W.Array(0)
		return
	}
	emit := func(m string, s float64) {
		if withScores {
			zsetWithScores(x.W, m, s)
		} else {
			x.W.BulkString(m)
		}
	}
	size := int64(z.Len())

	// Negative count (or 1): independent draws, repetitions allowed.
	if l < 0 || l == 1 {
		count := l
		if count < 0 {
			count = -count
		}
		minElem := int64(6) // "$0\r\n\r\n"
		if withScores {
			minElem += 4 // ",0\r\n" at least
			if x.W.Resp3 {
				minElem += 4 // "*2\r\n"
			}
		}
		if collRandHopeless(count, minElem) {
			x.W.Error(errCollRandTooBig)
			return
		}
		start := len(x.W.B)
		zsetArrayHeader(x.W, int(count), withScores)
		for ; count > 0; count-- {
			emit(z.At(rand.IntN(int(size))))
			if len(x.W.B)-start > collRandMaxReply {
				x.W.B = x.W.B[:start]
				x.W.Error(errCollRandTooBig)
				return
			}
		}
		return
	}

	// Positive count: distinct members. The whole set when it asks for as
	// many or more, in descending order (Redis's zui iterators walk a
	// sorted set from its tail); otherwise a sample in ascending order (as
	// Redis's listpack sampling).
	if l >= size {
		zsetArrayHeader(x.W, int(size), withScores)
		z.Walk(int(size)-1, true, func(m string, s float64) bool {
			emit(m, s)
			return true
		})
		return
	}
	n := int(l)
	zsetArrayHeader(x.W, n, withScores)
	for _, r := range zsetSampleRanks(int(size), n) {
		emit(z.At(r))
	}
}

// zsetSampleRanks picks n distinct positions out of size (n < size),
// uniformly (Floyd's algorithm), and returns them sorted.
func zsetSampleRanks(size, n int) []int {
	picked := make(map[int]struct{}, n)
	out := make([]int, 0, n)
	for j := size - n; j < size; j++ {
		t := rand.IntN(j + 1)
		if _, dup := picked[t]; dup {
			t = j
		}
		picked[t] = struct{}{}
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// ---- ZSCAN ----

// cmdZScan is ZSCAN key cursor [MATCH pattern] [COUNT count]. A listpack
// is returned whole with cursor 0; a skiplist is scanned through its hash
// table with Redis's reverse-binary cursor (see types.ZSet.Scan), so every
// member present during the whole scan is returned at least once. Scores
// are written as Redis stores them: a listpack holds integral scores in
// [-2^62, 2^62] as integers, anything else as "%.17g".
func cmdZScan(x *Ctx) {
	cursor, ok := keysParseCursor(x.Args[2])
	if !ok {
		x.W.Error(errCollInvalidCursor)
		return
	}
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	if z == nil {
		collScanReply(x.W, 0, nil)
		return
	}
	opts, e := collParseScanOpts(x.Args[3:])
	if e != "" {
		x.W.Error(e)
		return
	}
	lp := z.IsListpack()
	var out []string
	var buf [32]byte
	next := z.Scan(cursor, int(min(opts.Count, math.MaxInt32)), func(m string, s float64) {
		if opts.Match(m) {
			out = append(out, m, string(zsetScanScore(buf[:0], s, lp)))
		}
	})
	collScanReply(x.W, next, out)
}

// zsetScanScore formats a score as ZSCAN shows it: from a listpack, an
// integral score in [-2^62, 2^62] as an integer (Redis's double2ll), else
// "%.17g" (Redis's d2string, which also gives "-0", "inf", "-inf").
func zsetScanScore(dst []byte, s float64, listpack bool) []byte {
	if listpack && s >= -(1<<62) && s <= 1<<62 && s == math.Trunc(s) {
		return strconv.AppendInt(dst, int64(s), 10)
	}
	return proto.AppendDouble(dst, s)
}

// ---- ZUNION / ZINTER / ZDIFF ----

type zsetOp uint8

const (
	zsetOpUnion zsetOp = iota
	zsetOpInter
	zsetOpDiff
)

type zsetAgg uint8

const (
	zsetAggSum zsetAgg = iota
	zsetAggMin
	zsetAggMax
)

// zsetSetInput is what ZUNION, ZINTER and ZDIFF need of a set used as an
// input (every member scores 1).
type zsetSetInput interface {
	Len() int
	Has(member []byte) bool
	Member(i int, buf []byte) []byte
}

var _ zsetSetInput = (*types.Set)(nil)

// zsetSrc is one input of a set operation (Redis's zsetopsrc).
type zsetSrc struct {
	obj    *shard.Object // nil: missing key
	z      *types.ZSet
	set    zsetSetInput
	weight float64
}

func (s *zsetSrc) len() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.set != nil:
		return s.set.Len()
	}
	return 0
}

// find returns the (unweighted) score of member.
func (s *zsetSrc) find(m string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.Score(keysBytes(m))
	case s.set != nil && s.set.Has(keysBytes(m)):
		return 1, true
	}
	return 0, false
}

// each calls fn for every member and its (unweighted) score until fn
// returns false.
func (s *zsetSrc) each(fn func(m string, score float64) bool) {
	switch {
	case s.z != nil:
		s.z.Walk(0, false, fn)
	case s.set != nil:
		var buf [24]byte
		for i, n := 0, s.set.Len(); i < n; i++ {
			if !fn(string(s.set.Member(i, buf[:0])), 1) {
				return
			}
		}
	}
}

// zsetAggregate is Redis's zunionInterAggregate.
func zsetAggregate(target, val float64, agg zsetAgg) float64 {
	switch agg {
	case zsetAggMin:
		if val < target {
			return val
		}
		return target
	case zsetAggMax:
		if val > target {
			return val
		}
		return target
	}
	target += val
	if math.IsNaN(target) {
		return 0 // inf + -inf
	}
	return target
}

type zsetItem struct {
	member string
	score  float64
}

// zsetSetOpGeneric is Redis's zunionInterDiffGenericCommand: ZUNION,
// ZINTER, ZDIFF (reply), their STORE forms (dst set) and ZINTERCARD (card).
// Inputs may be sorted sets or sets (members scoring 1); a missing key is
// an empty input.
func zsetSetOpGeneric(x *Ctx, name string, dst []byte, numkeysIdx int, op zsetOp, card bool) {
	setnum, ok := strictInt64(x.Args[numkeysIdx])
	if !ok {
		x.W.Error(ErrNotInteger)
		return
	}
	if setnum < 1 {
		x.W.Error("ERR at least 1 input key is needed for '" + name + "' command")
		return
	}
	if setnum > int64(len(x.Args)-numkeysIdx-1) {
		x.W.Error(ErrSyntax)
		return
	}
	srcs := make([]zsetSrc, setnum)
	j := numkeysIdx + 1
	for i := range srcs {
		o := x.lookupRead(x.Args[j])
		srcs[i].weight = 1
		if o != nil {
			srcs[i].obj = o
			switch v := o.Val.(type) {
			case *types.ZSet:
				srcs[i].z = v
			case zsetSetInput:
				if o.Kind == shard.KindSet {
					srcs[i].set = v
				}
			}
			if srcs[i].z == nil && srcs[i].set == nil {
				x.W.Error(ErrWrongType)
				return
			}
		}
		j++
	}

	agg := zsetAggSum
	withScores := false
	var limit int64
	for remaining := len(x.Args) - j; remaining > 0; remaining = len(x.Args) - j {
		a := x.Args[j]
		switch {
		case op != zsetOpDiff && !card && remaining >= int(setnum)+1 && optIs(a, "weights"):
			j++
			for i := range srcs {
				w, ok := parseScore(x.Args[j])
				if !ok {
					x.W.Error(errZWeight)
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != zsetOpDiff && !card && remaining >= 2 && optIs(a, "aggregate"):
			switch v := x.Args[j+1]; {
			case optIs(v, "sum"):
				agg = zsetAggSum
			case optIs(v, "min"):
				agg = zsetAggMin
			case optIs(v, "max"):
				agg = zsetAggMax
			default:
				x.W.Error(ErrSyntax)
				return
			}
			j += 2
		case dst == nil && !card && optIs(a, "withscores"):
			withScores = true
			j++
		case card && remaining >= 2 && optIs(a, "limit"):
			v, ok := strictInt64(x.Args[j+1])
			if !ok || v < 0 {
				x.W.Error(errZLimitNeg)
				return
			}
			limit = v
			j += 2
		default:
			x.W.Error(ErrSyntax)
			return
		}
	}
	if op != zsetOpDiff {
		// Smallest input first (a stable sort, like glibc's qsort).
		slices.SortStableFunc(srcs, func(a, b zsetSrc) int { return cmp.Compare(a.len(), b.len()) })
	}

	var items []zsetItem
	cardinality := int64(0)
	switch op {
	case zsetOpInter:
		if srcs[0].len() == 0 {
			break
		}
		srcs[0].each(func(m string, s float64) bool {
			score := srcs[0].weight * s
			if math.IsNaN(score) {
				score = 0
			}
			for k := 1; k < len(srcs); k++ {
				var v float64
				if srcs[k].obj == srcs[0].obj {
					v = s * srcs[k].weight
				} else if found, ok := srcs[k].find(m); ok {
					v = found * srcs[k].weight
				} else {
					return true // not in every input
				}
				score = zsetAggregate(score, v, agg)
			}
			if card {
				cardinality++
				return limit == 0 || cardinality < limit
			}
			items = append(items, zsetItem{m, score})
			return true
		})
	case zsetOpUnion:
		acc := make(map[string]float64, srcs[len(srcs)-1].len())
		for i := range srcs {
			w := srcs[i].weight
			srcs[i].each(func(m string, s float64) bool {
				score := w * s
				if math.IsNaN(score) {
					score = 0
				}
				if cur, ok := acc[m]; ok {
					acc[m] = zsetAggregate(cur, score, agg)
				} else {
					acc[m] = score
				}
				return true
			})
		}
		items = make([]zsetItem, 0, len(acc))
		for m, s := range acc {
			items = append(items, zsetItem{m, s})
		}
	case zsetOpDiff:
		if srcs[0].len() == 0 {
			break
		}
		for k := 1; k < len(srcs); k++ {
			if srcs[k].obj == srcs[0].obj {
				srcs[0] = zsetSrc{} // minus itself: nothing is left
			}
		}
		srcs[0].each(func(m string, s float64) bool {
			for k := 1; k < len(srcs); k++ {
				if _, ok := srcs[k].find(m); ok {
					return true
				}
			}
			items = append(items, zsetItem{m, s})
			return true
		})
	}
	if card {
		x.W.Int(cardinality)
		return
	}
	slices.SortFunc(items, func(a, b zsetItem) int {
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		return cmp.Compare(a.member, b.member)
	})
	if dst == nil {
		zsetArrayHeader(x.W, len(items), withScores)
		for _, it := range items {
			if withScores {
				zsetWithScores(x.W, it.member, it.score)
			} else {
				x.W.BulkString(it.member)
			}
		}
		return
	}
	if len(items) == 0 {
		x.W.Int(0)
		x.delKeyNotify(dst)
		return
	}
	dz := types.NewZSet(false)
	for _, it := range items {
		dz.InsertString(it.member, it.score)
	}
	lim := zsetLimitsOf(x)
	dz.FitListpack(lim.entries, lim.value)
	x.setKey(dst, &shard.Object{Kind: shard.KindZSet, Val: dz})
	x.keyModified(dst)
	x.W.Int(int64(dz.Len()))
	x.notify(NotifyZSet, zsetStoreEvents[op], dst)
}

// zsetStoreEvents are the events of ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE.
var zsetStoreEvents = map[zsetOp]string{
	zsetOpUnion: "zunionstore",
	zsetOpInter: "zinterstore",
	zsetOpDiff:  "zdiffstore",
}
