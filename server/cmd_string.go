package server

import (
	"math"
	"math/big"
	"strconv"

	"github.com/kvd/kvd/shard"
)

// registerStrings registers the string family (GET, SET, MGET, MSET, INCR, ...).
func registerStrings(r *Registry) {
	r.Add(&Command{Name: "get", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGet})
	r.Add(&Command{Name: "set", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSet})
	r.Add(&Command{Name: "setnx", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSetNX})
	r.Add(&Command{Name: "setex", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSetEX})
	r.Add(&Command{Name: "psetex", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPSetEX})
	r.Add(&Command{Name: "getex", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetEx})
	r.Add(&Command{Name: "getdel", Arity: 2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetDel})
	r.Add(&Command{Name: "getset", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetSet})
	r.Add(&Command{Name: "mget", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Split: SplitArray, KeyFn: mgetKey, Run: splitRun})
	r.Add(&Command{Name: "mset", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2,
		Split: SplitOK, KeyFn: msetKey, Run: splitRun})
	r.Add(&Command{Name: "msetnx", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, Run: cmdMSetNX})
	r.Add(&Command{Name: "incr", Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdIncr})
	r.Add(&Command{Name: "decr", Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdDecr})
	r.Add(&Command{Name: "incrby", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdIncrBy})
	r.Add(&Command{Name: "decrby", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdDecrBy})
	r.Add(&Command{Name: "incrbyfloat", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdIncrByFloat})
	r.Add(&Command{Name: "append", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdAppend})
	r.Add(&Command{Name: "strlen", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdStrlen})
	r.Add(&Command{Name: "getrange", Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetRange})
	r.Add(&Command{Name: "substr", Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetRange})
	r.Add(&Command{Name: "setrange", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSetRange})
	r.Add(&Command{Name: "lcs", Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdLCS})
}

// Error texts of the string family, as Redis 7.0 writes them.
const (
	errDecrOverflow   = "ERR decrement would overflow"
	errIncrFloatNaN   = "ERR increment would produce NaN or Infinity"
	errOffsetRange    = "ERR offset is out of range"
	errLCSType        = "ERR The specified keys must contain string values"
	errLCSIdxLen      = "ERR If you want both the length and indexes, please just use IDX."
	errLCSTooLong     = "ERR String too long for LCS"
	errLCSMemory      = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
	maxLongDoubleText = 5 * 1024 // Redis's MAX_LONG_DOUBLE_CHARS
)

// strTouch refreshes the access time of a value modified in place.
func strTouch(x *Ctx, o *shard.Object) {
	if !x.DB.NoTouch {
		o.Atime = x.DB.Now()
	}
}

// strGetReply is Redis's getGenericCommand: it replies with the string at key
// (nil when missing) and reports false after a WRONGTYPE reply.
func strGetReply(x *Ctx, key []byte) (*shard.Object, bool) {
	o := x.lookupRead(key)
	switch {
	case o == nil:
		x.W.Null()
	case o.Kind != shard.KindString:
		x.W.Error(ErrWrongType)
		return nil, false
	default:
		x.W.Bulk(o.Str)
	}
	return o, true
}

func cmdGet(x *Ctx) { strGetReply(x, x.Args[1]) }

func cmdSet(x *Ctx) {
	if len(x.Args) == 3 {
		// The common case: no options, no allocation.
		x.setString(x.Args[1], x.Args[2], 0)
		x.changed(NotifyString, "set", x.Args[1])
		x.W.OK()
		return
	}
	opts, ok := parseSetOpts(x.Args[3:], setOptsModeSet)
	if !ok {
		x.W.Error(ErrSyntax)
		return
	}
	setGeneric(x, "set", opts, x.Args[1], x.Args[2], setGenericOK)
}

func cmdSetNX(x *Ctx) {
	setGeneric(x, "setnx", setOpts{Flags: setOptNX}, x.Args[1], x.Args[2], setGenericInt)
}

func cmdSetEX(x *Ctx) {
	setGeneric(x, "setex", setOpts{Flags: setOptEX, Expire: x.Args[2]}, x.Args[1], x.Args[3], setGenericOK)
}

func cmdPSetEX(x *Ctx) {
	setGeneric(x, "psetex", setOpts{Flags: setOptPX, Expire: x.Args[2]}, x.Args[1], x.Args[3], setGenericOK)
}

// setGenericReply selects the replies of setGeneric: SET answers +OK or nil,
// SETNX :1 or :0.
type setGenericReply uint8

const (
	setGenericOK setGenericReply = iota
	setGenericInt
)

// setGeneric is Redis's setGenericCommand, shared by SET, SETNX, SETEX and
// PSETEX: validate the expiry, answer the GET option, apply NX/XX, store.
func setGeneric(x *Ctx, name string, opts setOpts, key, val []byte, reply setGenericReply) {
	var expire int64
	if opts.Flags&setOptExpire != 0 {
		at, e := setExpireAt(opts.Flags, opts.Expire, x.DB.Now())
		if e != setExpireOK {
			x.W.Error(e.text(name))
			return
		}
		expire = at
	}
	get := opts.Flags&setOptGet != 0
	if get {
		// The reply is written (copied) before the value is replaced.
		if _, ok := strGetReply(x, key); !ok {
			return
		}
	}
	if opts.Flags&(setOptNX|setOptXX|setOptKeepTTL) != 0 {
		cur := x.DB.Lookup(key)
		if (opts.Flags&setOptNX != 0 && cur != nil) || (opts.Flags&setOptXX != 0 && cur == nil) {
			if !get {
				if reply == setGenericInt {
					x.W.Int(0)
				} else {
					x.W.Null()
				}
			}
			return
		}
		if opts.Flags&setOptKeepTTL != 0 && cur != nil {
			expire = cur.Expire
		}
	}
	x.setString(key, val, expire)
	x.changed(NotifyString, "set", key)
	if opts.Flags&setOptExpire != 0 {
		x.notify(NotifyGeneric, "expire", key)
	}
	if !get {
		if reply == setGenericInt {
			x.W.Int(1)
		} else {
			x.W.OK()
		}
	}
}

func cmdGetEx(x *Ctx) {
	opts, ok := parseSetOpts(x.Args[2:], setOptsModeGetEx)
	if !ok {
		x.W.Error(ErrSyntax)
		return
	}
	key := x.Args[1]
	o := x.lookupRead(key)
	if o == nil {
		x.W.Null()
		return
	}
	if o.Kind != shard.KindString {
		x.W.Error(ErrWrongType)
		return
	}
	var at int64
	if opts.Flags&setOptExpire != 0 {
		var e setExpireErr
		if at, e = setExpireAt(opts.Flags, opts.Expire, x.DB.Now()); e != setExpireOK {
			x.W.Error(e.text("getex"))
			return
		}
	}
	x.W.Bulk(o.Str)
	switch {
	case opts.Flags&(setOptEXAT|setOptPXAT) != 0 && at <= x.DB.Now():
		// An absolute time already in the past deletes the key.
		x.DB.Delete(key)
		x.changed(NotifyGeneric, "del", key)
	case opts.Flags&setOptExpire != 0:
		x.DB.SetExpire(key, o, at)
		x.changed(NotifyGeneric, "expire", key)
	case opts.Flags&setOptPersist != 0 && o.Expire != 0:
		x.DB.SetExpire(key, o, 0)
		x.changed(NotifyGeneric, "persist", key)
	}
}

func cmdGetDel(x *Ctx) {
	if o, ok := strGetReply(x, x.Args[1]); ok && o != nil {
		x.DB.Delete(x.Args[1])
		x.changed(NotifyGeneric, "del", x.Args[1])
	}
}

func cmdGetSet(x *Ctx) {
	if _, ok := strGetReply(x, x.Args[1]); ok {
		// Like SET without KEEPTTL, GETSET drops any expiry.
		x.setString(x.Args[1], x.Args[2], 0)
		x.changed(NotifyString, "set", x.Args[1])
	}
}

func mgetKey(x *Ctx, key []byte, _ [][]byte) int64 {
	o := x.lookupRead(key)
	if o == nil || o.Kind != shard.KindString {
		x.W.Null()
	} else {
		x.W.Bulk(o.Str)
	}
	return 0
}

// msetKey sets one pair of MSET; like SET it drops any previous expiry.
func msetKey(x *Ctx, key []byte, rest [][]byte) int64 {
	x.setString(key, rest[0], 0)
	x.changed(NotifyString, "set", key)
	return 0
}

// cmdMSetNX sets every pair only if none of the keys exists. When the keys
// span workers the dispatcher runs it as one barrier, so the check and the
// writes are atomic.
func cmdMSetNX(x *Ctx) {
	if (len(x.Args)-1)%2 != 0 {
		x.W.Error(WrongArgs("msetnx"))
		return
	}
	for j := 1; j < len(x.Args); j += 2 {
		if x.DB.Exists(x.Args[j]) {
			x.W.Int(0)
			return
		}
	}
	for j := 1; j < len(x.Args); j += 2 {
		x.setString(x.Args[j], x.Args[j+1], 0)
		x.changed(NotifyString, "set", x.Args[j])
	}
	x.W.Int(1)
}

// Integer counters.

func cmdIncr(x *Ctx) { incrDecr(x, 1) }
func cmdDecr(x *Ctx) { incrDecr(x, -1) }

func cmdIncrBy(x *Ctx) {
	n, ok := strictInt64(x.Args[2])
	if !ok {
		x.W.Error(ErrNotInteger)
		return
	}
	incrDecr(x, n)
}

func cmdDecrBy(x *Ctx) {
	n, ok := strictInt64(x.Args[2])
	if !ok {
		x.W.Error(ErrNotInteger)
		return
	}
	if n == math.MinInt64 {
		x.W.Error(errDecrOverflow)
		return
	}
	incrDecr(x, -n)
}

// incrDecr adds by to the integer at key (0 when missing), keeping its
// expiry, and stores the result as decimal text.
func incrDecr(x *Ctx, by int64) {
	key := x.Args[1]
	o := x.DB.Lookup(key)
	var v int64
	if o != nil {
		if o.Kind != shard.KindString {
			x.W.Error(ErrWrongType)
			return
		}
		var ok bool
		if v, ok = strictInt64(o.Str); !ok {
			x.W.Error(ErrNotInteger)
			return
		}
	}
	if addOverflows(v, by) {
		x.W.Error(ErrOverflow)
		return
	}
	v += by
	var buf [24]byte
	s := strconv.AppendInt(buf[:0], v, 10)
	if o != nil {
		o.SetStr(s) // keeps the expiry, as Redis's dbOverwrite
		strTouch(x, o)
	} else {
		x.setString(key, s, 0)
	}
	x.changed(NotifyString, "incrby", key)
	x.W.Int(v)
}

// cmdIncrByFloat adds a float to the number at key with the arithmetic of
// Redis on x86-64: both operands are read as 80-bit long doubles (strtold),
// added, and the result written with "%.17Lf" minus trailing zeros.
func cmdIncrByFloat(x *Ctx) {
	key := x.Args[1]
	o := x.DB.Lookup(key)
	if o != nil && o.Kind != shard.KindString {
		x.W.Error(ErrWrongType)
		return
	}
	value := new(big.Float).SetPrec(ldMantBits)
	if o != nil {
		v, ok := parseLongDouble(o.Str)
		if !ok {
			x.W.Error(ErrNotFloat)
			return
		}
		value = v
	}
	incr, ok := parseLongDouble(x.Args[2])
	if !ok {
		x.W.Error(ErrNotFloat)
		return
	}
	sum, ok := addLongDouble(value, incr)
	if !ok {
		x.W.Error(errIncrFloatNaN)
		return
	}
	s := formatLongDouble(sum)
	if o != nil {
		o.SetStr(s) // keeps the expiry
		strTouch(x, o)
	} else {
		o = x.setString(key, s, 0)
	}
	o.Enc = shard.EncNoInt // createStringObjectFromLongDouble: never "int"
	x.changed(NotifyString, "incrbyfloat", key)
	x.W.Bulk(s)
}

// Byte strings.

func cmdAppend(x *Ctx) {
	key, val := x.Args[1], x.Args[2]
	o := x.DB.Lookup(key)
	if o == nil {
		x.setString(key, val, 0)
		x.changed(NotifyString, "append", key)
		x.W.Int(int64(len(val)))
		return
	}
	if o.Kind != shard.KindString {
		x.W.Error(ErrWrongType)
		return
	}
	if int64(len(o.Str))+int64(len(val)) > x.Srv.cfg.ProtoMaxBulkLen.Load() {
		x.W.Error(ErrStringTooBig)
		return
	}
	o.Str = append(o.Str, val...)
	o.Enc = shard.EncRaw
	strTouch(x, o)
	x.changed(NotifyString, "append", key)
	x.W.Int(int64(len(o.Str)))
}

func cmdStrlen(x *Ctx) {
	o := x.lookupRead(x.Args[1])
	switch {
	case o == nil:
		x.W.Int(0)
	case o.Kind != shard.KindString:
		x.W.Error(ErrWrongType)
	default:
		x.W.Int(int64(len(o.Str)))
	}
}

// cmdGetRange is GETRANGE and its old name SUBSTR.
func cmdGetRange(x *Ctx) {
	start, ok1 := strictInt64(x.Args[2])
	end, ok2 := strictInt64(x.Args[3])
	if !ok1 || !ok2 {
		x.W.Error(ErrNotInteger)
		return
	}
	o := x.lookupRead(x.Args[1])
	if o == nil {
		x.W.Bulk(nil)
		return
	}
	if o.Kind != shard.KindString {
		x.W.Error(ErrWrongType)
		return
	}
	n := int64(len(o.Str))
	if start < 0 && end < 0 && start > end {
		x.W.Bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		x.W.Bulk(nil)
		return
	}
	x.W.Bulk(o.Str[start : end+1])
}

func cmdSetRange(x *Ctx) {
	key, val := x.Args[1], x.Args[3]
	offset, ok := strictInt64(x.Args[2])
	if !ok {
		x.W.Error(ErrNotInteger)
		return
	}
	if offset < 0 {
		x.W.Error(errOffsetRange)
		return
	}
	limit := x.Srv.cfg.ProtoMaxBulkLen.Load()
	tooBig := offset > limit-int64(len(val))
	o := x.DB.Lookup(key)
	if o == nil {
		if len(val) == 0 {
			x.W.Int(0)
			return
		}
		if tooBig {
			x.W.Error(ErrStringTooBig)
			return
		}
		buf := make([]byte, int(offset)+len(val))
		copy(buf[offset:], val)
		x.dbAdd(key, &shard.Object{Str: buf, Kind: shard.KindString, Enc: shard.EncRaw})
		x.changed(NotifyString, "setrange", key)
		x.W.Int(int64(len(buf)))
		return
	}
	if o.Kind != shard.KindString {
		x.W.Error(ErrWrongType)
		return
	}
	if len(val) == 0 {
		x.W.Int(int64(len(o.Str)))
		return
	}
	if tooBig {
		x.W.Error(ErrStringTooBig)
		return
	}
	if need := int(offset) + len(val); need > len(o.Str) {
		if need <= cap(o.Str) {
			old := len(o.Str)
			o.Str = o.Str[:need]
			clear(o.Str[old:])
		} else {
			grown := make([]byte, need)
			copy(grown, o.Str)
			o.Str = grown
		}
	}
	copy(o.Str[offset:], val)
	o.Enc = shard.EncRaw
	strTouch(x, o)
	x.changed(NotifyString, "setrange", key)
	x.W.Int(int64(len(o.Str)))
}

// cmdLCS is Redis 7.0's LCS: the longest common subsequence of two strings
// by dynamic programming, as the string itself, its length (LEN) or the
// matching ranges (IDX, with MINMATCHLEN and WITHMATCHLEN). Keys on
// different workers are served by one barrier call.
func cmdLCS(x *Ctx) {
	oa := x.lookupRead(x.Args[1])
	ob := x.lookupRead(x.Args[2])
	if (oa != nil && oa.Kind != shard.KindString) || (ob != nil && ob.Kind != shard.KindString) {
		x.W.Error(errLCSType)
		return
	}
	var a, b []byte
	if oa != nil {
		a = oa.Str
	}
	if ob != nil {
		b = ob.Str
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(x.Args); j++ {
		opt := x.Args[j]
		switch {
		case optIs(opt, "idx"):
			getIdx = true
		case optIs(opt, "len"):
			getLen = true
		case optIs(opt, "withmatchlen"):
			withMatchLen = true
		case optIs(opt, "minmatchlen") && j+1 < len(x.Args):
			n, ok := strictInt64(x.Args[j+1])
			if !ok {
				x.W.Error(ErrNotInteger)
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			x.W.Error(ErrSyntax)
			return
		}
	}
	if getIdx && getLen {
		x.W.Error(errLCSIdxLen)
		return
	}
	if uint64(len(a)) >= math.MaxUint32-1 || uint64(len(b)) >= math.MaxUint32-1 {
		x.W.Error(errLCSTooLong)
		return
	}
	alen, blen := len(a), len(b)
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > uint64(x.Srv.cfg.ProtoMaxBulkLen.Load()) {
		x.W.Error(errLCSMemory)
		return
	}
	// lcs[i*(blen+1)+j] is the LCS length of a[:i] and b[:j].
	w := blen + 1
	lcs := make([]uint32, cells)
	for i := 1; i <= alen; i++ {
		row, prev := lcs[i*w:(i+1)*w], lcs[(i-1)*w:i*w]
		ai := a[i-1]
		for j := 1; j <= blen; j++ {
			switch {
			case ai == b[j-1]:
				row[j] = prev[j-1] + 1
			case prev[j] > row[j-1]:
				row[j] = prev[j]
			default:
				row[j] = row[j-1]
			}
		}
	}
	total := lcs[alen*w+blen]
	if getLen {
		x.W.Int(int64(total))
		return
	}

	// Walk back from the end, building the common string and the ranges of
	// contiguous matches exactly as Redis does (ranges come out last first).
	type lcsRange struct{ aStart, aEnd, bStart, bEnd int }
	result := make([]byte, total)
	var ranges []lcsRange
	idx := total
	noRange := alen // aStart == alen: no range in progress
	cur := lcsRange{aStart: noRange}
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if cur.aStart == noRange {
				cur = lcsRange{i - 1, i - 1, j - 1, j - 1}
			} else if cur.aStart == i && cur.bStart == j {
				cur.aStart--
				cur.bStart--
			} else {
				emit = true
			}
			if cur.aStart == 0 || cur.bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if lcs[(i-1)*w+j] > lcs[i*w+j-1] {
				i--
			} else {
				j--
			}
			if cur.aStart != noRange {
				emit = true
			}
		}
		if emit {
			if matchLen := int64(cur.aEnd - cur.aStart + 1); minMatchLen == 0 || matchLen >= minMatchLen {
				ranges = append(ranges, cur)
			}
			cur.aStart = noRange
		}
	}
	if !getIdx {
		x.W.Bulk(result)
		return
	}
	x.W.Map(2)
	x.W.BulkString("matches")
	x.W.Array(len(ranges))
	for _, r := range ranges {
		if withMatchLen {
			x.W.Array(3)
		} else {
			x.W.Array(2)
		}
		x.W.Array(2)
		x.W.Int(int64(r.aStart))
		x.W.Int(int64(r.aEnd))
		x.W.Array(2)
		x.W.Int(int64(r.bStart))
		x.W.Int(int64(r.bEnd))
		if withMatchLen {
			x.W.Int(int64(r.aEnd - r.aStart + 1))
		}
	}
	x.W.BulkString("len")
	x.W.Int(int64(total))
}

// x86-64 long double emulation for INCRBYFLOAT.
//
// Redis keeps INCRBYFLOAT values as C long doubles: on x86-64 the x87 80-bit
// extended format, a 64-bit significand with exponents down to 2^-16382 for
// normal numbers (subnormals reach 2^-16445) and a largest finite value just
// under 2^16384. The values here are big.Floats rounded to exactly that
// format, so results match redis-server digit for digit.
const (
	ldMantBits  = 64
	ldMaxExp    = 16384  // big.Float MantExp of the largest finite value
	ldMinExp    = -16381 // MantExp of the smallest normal value, 2^-16382
	ldDenormExp = -16445 // the subnormal unit: 2^-16445
)

// parseLongDouble reads b as Redis's string2ld (glibc strtold): optional
// sign, decimal or 0x-hexadecimal digits with an optional point and
// exponent, or inf/infinity; no surrounding spaces; NaN, overflow and
// underflow to zero are refused. Infinities are returned as such.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleText {
		return nil, false
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return nil, false
	}
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if optIs(b, "inf") || optIs(b, "infinity") {
		return new(big.Float).SetInf(neg), true
	}
	if len(b) >= 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		return parseHexLongDouble(b[2:], neg)
	}
	// Decimal: digits, optional point and digits (at least one digit in
	// all), optional exponent.
	mant := new(big.Int)
	digits, frac, sig := 0, 0, 0
	var chunk uint64
	chunkLen := 0
	i := 0
	seenPoint := false
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' && !seenPoint {
			seenPoint = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		digits++
		if seenPoint {
			frac++
		}
		if sig == 0 && c == '0' {
			continue // leading zeros carry no value
		}
		sig++
		chunk = chunk*10 + uint64(c-'0')
		chunkLen++
		if chunkLen == 19 {
			mant.Mul(mant, ldPow10(19))
			mant.Add(mant, new(big.Int).SetUint64(chunk))
			chunk, chunkLen = 0, 0
		}
	}
	if digits == 0 {
		return nil, false
	}
	if chunkLen > 0 {
		mant.Mul(mant, ldPow10(chunkLen))
		mant.Add(mant, new(big.Int).SetUint64(chunk))
	}
	exp := int64(0)
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		e, n, ok := ldParseExponent(b[i+1:])
		if !ok {
			return nil, false
		}
		exp = e
		i += 1 + n
	}
	if i != len(b) {
		return nil, false
	}
	if sig == 0 {
		return ldSignedZero(neg), true
	}
	exp10 := exp - int64(frac)
	// The value lies in [10^(mag-1), 10^mag).
	mag := int64(sig) + exp10
	if mag > 4933 || mag <= -4951 {
		return nil, false // overflow to infinity, or underflow to zero
	}
	exact := func(prec uint) *big.Float {
		z := new(big.Float).SetPrec(prec)
		if exp10 >= 0 {
			return z.SetInt(new(big.Int).Mul(mant, ldPow10(int(exp10))))
		}
		return z.SetRat(new(big.Rat).SetFrac(mant, ldPow10(int(-exp10))))
	}
	return roundLongDouble(exact, neg)
}

// parseHexLongDouble parses what follows "0x": hex digits with an optional
// point and an optional binary exponent "p[+-]digits".
func parseHexLongDouble(b []byte, neg bool) (*big.Float, bool) {
	mant := new(big.Int)
	digits, frac := 0, 0
	seenPoint := false
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' && !seenPoint {
			seenPoint = true
			continue
		}
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			goto done
		}
		digits++
		if seenPoint {
			frac++
		}
		mant.Lsh(mant, 4)
		mant.Or(mant, big.NewInt(int64(d)))
	}
done:
	if digits == 0 {
		return nil, false
	}
	exp := int64(0)
	if i < len(b) && (b[i] == 'p' || b[i] == 'P') {
		e, n, ok := ldParseExponent(b[i+1:])
		if !ok {
			return nil, false
		}
		exp = e
		i += 1 + n
	}
	if i != len(b) {
		return nil, false
	}
	if mant.Sign() == 0 {
		return ldSignedZero(neg), true
	}
	shift := exp - 4*int64(frac)
	mag := int64(mant.BitLen()) + shift // MantExp of the value
	if mag > ldMaxExp+1 || mag < ldDenormExp-1 {
		return nil, false
	}
	exact := func(prec uint) *big.Float {
		z := new(big.Float).SetPrec(prec).SetInt(mant)
		return z.SetMantExp(z, int(shift))
	}
	return roundLongDouble(exact, neg)
}

// ldParseExponent reads "[+-]digits" at the start of b, saturating huge
// values, and returns the value and the number of bytes used.
func ldParseExponent(b []byte) (int64, int, bool) {
	i := 0
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	start := i
	var e int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if e < 1<<40 {
			e = e*10 + int64(b[i]-'0')
		}
	}
	if i == start {
		return 0, 0, false
	}
	if neg {
		e = -e
	}
	return e, i, true
}

// roundLongDouble rounds the exact value (computed at any precision by
// exact) to the long double format; false on overflow or underflow to zero.
func roundLongDouble(exact func(prec uint) *big.Float, neg bool) (*big.Float, bool) {
	f := exact(ldMantBits)
	e := f.MantExp(nil)
	if e > ldMaxExp {
		return nil, false
	}
	if e < ldMinExp {
		// Subnormal: the unit in the last place is fixed at 2^-16445.
		if p := e - ldDenormExp; p >= 1 {
			f = exact(uint(p))
		} else {
			half := new(big.Float).SetMantExp(big.NewFloat(0.5), ldDenormExp) // 2^-16446
			if f.Cmp(half) <= 0 {
				return nil, false // rounds to zero
			}
			f = new(big.Float).SetPrec(ldMantBits).SetMantExp(big.NewFloat(1), ldDenormExp)
		}
	}
	if neg {
		f.Neg(f)
	}
	return f, true
}

// addLongDouble adds two long doubles; false when the sum is not finite.
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	sum := new(big.Float).SetPrec(ldMantBits).Add(a, b)
	if sum.Sign() != 0 && sum.MantExp(nil) > ldMaxExp {
		return nil, false
	}
	return sum, true
}

// formatLongDouble is Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf",
// trailing zeros (and a bare point) removed, "-0" written as "0".
func formatLongDouble(f *big.Float) []byte {
	s := []byte(f.Text('f', 17))
	if n := len(s); n > 0 {
		for s[n-1] == '0' {
			n--
		}
		if s[n-1] == '.' {
			n--
		}
		s = s[:n]
	}
	if len(s) == 2 && s[0] == '-' && s[1] == '0' {
		s = s[1:]
	}
	return s
}

func ldSignedZero(neg bool) *big.Float {
	z := new(big.Float).SetPrec(ldMantBits)
	if neg {
		z.Neg(z)
	}
	return z
}

// ldPow10 returns 10^n.
func ldPow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}
