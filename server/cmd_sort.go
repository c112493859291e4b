package server

import (
	"bytes"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// SORT and SORT_RO, as Redis 7.0's sortCommandGeneric (sort.c).
//
// Routing. BY and GET patterns make SORT read keys that its command line
// does not name (Redis's lookupKeyByPattern): "w_*" or "h_*->field" with the
// '*' replaced by each element. In kvd those keys may belong to any worker,
// so the Command's Keys function (sortKeys) returns no key at all when a
// BY or GET pattern contains a '*' (GET "#" and BY patterns without '*',
// such as "nosort", read nothing): the dispatcher's route() treats a call
// without keys as a barrier holding every worker, so the handler can read
// any key and the whole command stays atomic. Without patterns the call is
// routed by its key and STORE destination like any multi-key command (one
// worker, or a barrier over the workers owning them). A command line SORT
// rejects (syntax error, bad LIMIT) is routed by its key alone: the error
// is replied before any key is read.
//
// COMMAND GETKEYS does not use sortKeys: it follows Redis's key specs and
// sortGetKeys (cmd_command.go), so it reports the key and the STORE
// destination whatever the patterns.
func registerSort(r *Registry) {
	r.Add(&Command{Name: "sort", Arity: -2, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1,
		Keys: sortKeys(false), Run: func(x *Ctx) { sortGeneric(x, false) }})
	r.Add(&Command{Name: "sort_ro", Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Keys: sortKeys(true), Run: func(x *Ctx) { sortGeneric(x, true) }})
}

const errSortNotDouble = "ERR One or more scores can't be converted into double"

// sortOpts is a parsed SORT command line.
type sortOpts struct {
	desc, alpha bool
	dontsort    bool   // a BY pattern without '*' was given ("nosort")
	by          []byte // the last BY pattern, nil when none
	start       int64  // LIMIT offset (0 when absent)
	count       int64  // LIMIT count (-1 when absent)
	gets        [][]byte
	store       []byte // STORE destination, nil when none
	// remote: a BY or GET pattern may read keys other than the sorted key
	// and the destination (sortKeys routes the call to every worker).
	remote bool
}

// sortParse parses the options after the key as Redis does, left to right;
// errText is the reply for a rejected command line. readonly (SORT_RO)
// refuses STORE.
func sortParse(args [][]byte, readonly bool) (o sortOpts, errText string) {
	o.count = -1
	for j := 2; j < len(args); j++ {
		a := args[j]
		left := len(args) - j - 1
		switch {
		case optIs(a, "asc"):
			o.desc = false
		case optIs(a, "desc"):
			o.desc = true
		case optIs(a, "alpha"):
			o.alpha = true
		case optIs(a, "limit") && left >= 2:
			var ok bool
			if o.start, ok = strictInt64(args[j+1]); !ok {
				return o, ErrNotInteger
			}
			if o.count, ok = strictInt64(args[j+2]); !ok {
				return o, ErrNotInteger
			}
			j += 2
		case !readonly && optIs(a, "store") && left >= 1:
			o.store = args[j+1]
			j++
		case optIs(a, "by") && left >= 1:
			o.by = args[j+1]
			// As in Redis, a pattern without '*' turns sorting off for
			// good, even when a later BY has one.
			if bytes.IndexByte(sortCStr(o.by), '*') < 0 {
				o.dontsort = true
			} else {
				o.remote = true
			}
			j++
		case optIs(a, "get") && left >= 1:
			o.gets = append(o.gets, args[j+1])
			if bytes.IndexByte(sortCStr(args[j+1]), '*') >= 0 {
				o.remote = true
			}
			j++
		default:
			return o, ErrSyntax
		}
	}
	return o, ""
}

// sortKeys is the routing key function of SORT / SORT_RO (see the comment
// at the top of the file): nil (every worker) when patterns may read other
// keys, else the key and the STORE destination.
func sortKeys(readonly bool) func(args [][]byte) [][]byte {
	return func(args [][]byte) [][]byte {
		if len(args) < 2 {
			return nil
		}
		o, errText := sortParse(args, readonly)
		switch {
		case errText != "":
			return args[1:2]
		case o.remote:
			return nil
		case o.store != nil:
			return [][]byte{args[1], o.store}
		}
		return args[1:2]
	}
}

// sortItem is one element of the sorting vector (Redis's redisSortObject).
type sortItem struct {
	elem   string
	score  float64 // numeric sort key
	cmp    []byte  // ALPHA with BY: the looked-up value
	hasCmp bool
}

func sortGeneric(x *Ctx, readonly bool) {
	opts, errText := sortParse(x.Args, readonly)
	if errText != "" {
		x.W.Error(errText)
		return
	}
	key := x.Args[1]
	o := x.lookupRead(key)
	if o != nil && o.Kind != shard.KindList && o.Kind != shard.KindSet && o.Kind != shard.KindZSet {
		x.W.Error(ErrWrongType)
		return
	}
	dontsort, alpha, by := opts.dontsort, opts.alpha, opts.by
	// A set has no natural order: SORT ... BY nosort STORE sorts it anyway
	// (ALPHA, binary), so that the stored result is deterministic. (Redis
	// does the same inside scripts; kvd has no scripting.)
	if dontsort && o != nil && o.Kind == shard.KindSet && opts.store != nil {
		dontsort, alpha, by = false, true, nil
	}

	var list *types.List
	var set *types.Set
	var zs *types.ZSet
	n := 0
	if o != nil {
		switch o.Kind {
		case shard.KindList:
			list = listGet(o)
			n = list.Len()
		case shard.KindSet:
			set = setVal(o)
			n = set.Len()
		case shard.KindZSet:
			zs = o.Val.(*types.ZSet)
			// Redis converts a listpack sorted set for SORT, for good
			// (zsetConvert to a skiplist), even for SORT_RO: a listpack
			// with a 0-entry limit must grow into a skiplist.
			zs.Grow(0, 0, 0)
			n = zs.Len()
		}
	}

	// LIMIT, as Redis clamps it (without its signed overflow).
	start, end := int64(0), int64(n)-1
	if opts.start > 0 {
		start = opts.start
	}
	if opts.count >= 0 {
		if opts.count > int64(n) {
			end = int64(n) // past the end: clamped below
		} else {
			end = start + opts.count - 1
		}
	}
	if start >= int64(n) {
		start, end = int64(n)-1, int64(n)-2
	}
	if end >= int64(n) {
		end = int64(n) - 1
	}

	// Load the vector. Lists and sorted sets that are not sorted are
	// loaded as the requested range only, in their own order (reversed
	// for DESC).
	var vec []sortItem
	ranged := (list != nil || zs != nil) && dontsort && (start != 0 || end != int64(n)-1)
	switch {
	case list != nil && dontsort:
		if end >= start {
			want := int(end - start + 1)
			if !ranged {
				want = n
			}
			vec = make([]sortItem, 0, want)
			if opts.desc {
				list.Range(0, n-1-int(start), true, func(s string) {
					if len(vec) < want {
						vec = append(vec, sortItem{elem: s})
					}
				})
			} else {
				list.Range(int(start), n-1, false, func(s string) {
					if len(vec) < want {
						vec = append(vec, sortItem{elem: s})
					}
				})
			}
			end -= start
			start = 0
		}
	case list != nil:
		vec = make([]sortItem, 0, n)
		list.Each(false, func(_ int, s string) bool {
			vec = append(vec, sortItem{elem: s})
			return true
		})
	case set != nil:
		vec = make([]sortItem, n)
		var buf [24]byte
		for i := range vec {
			vec[i].elem = string(set.Member(i, buf[:0]))
		}
	case zs != nil && dontsort:
		want := n
		if ranged {
			want = max(int(end-start+1), 0)
		}
		vec = make([]sortItem, 0, want)
		if want > 0 {
			from := int(start)
			if opts.desc {
				from = n - 1 - int(start)
			}
			zs.Walk(from, opts.desc, func(m string, _ float64) bool {
				vec = append(vec, sortItem{elem: m})
				return len(vec) < want
			})
		}
		end -= start
		start = 0
	case zs != nil:
		vec = make([]sortItem, 0, n)
		zs.Walk(0, false, func(m string, _ float64) bool {
			vec = append(vec, sortItem{elem: m})
			return true
		})
	}

	convErr := false
	if !dontsort {
		for i := range vec {
			it := &vec[i]
			var val []byte
			if by != nil {
				v, ok := sortLookup(x, by, it.elem)
				if !ok {
					continue
				}
				val = v
			} else {
				val = []byte(it.elem)
			}
			if alpha {
				if by != nil {
					it.cmp, it.hasCmp = val, true
				}
				continue
			}
			v, ok := sortScore(val)
			it.score = v
			if !ok {
				convErr = true
			}
		}
		if !convErr {
			cmp := sortCompare(alpha, by != nil, opts.store != nil)
			order := cmp
			if opts.desc {
				order = func(a, b *sortItem) int { return -cmp(a, b) }
			}
			if by != nil && (start != 0 || end != int64(len(vec))-1) {
				// Redis's partial quicksort, whose order of equal
				// elements kvd must reproduce (pqsort.go).
				pqsort(vec, order, int(start), int(end))
			} else {
				// glibc's qsort (a merge sort) is stable.
				slices.SortStableFunc(vec, func(a, b sortItem) int { return order(&a, &b) })
			}
		}
	}
	if convErr {
		x.W.Error(errSortNotDouble)
		return
	}

	rows := int(end - start + 1)
	if rows < 0 {
		rows = 0
	}
	outLen := rows
	if len(opts.gets) > 0 {
		outLen = len(opts.gets) * rows
	}
	if opts.store == nil {
		x.W.Array(outLen)
		for j := int(start); j < int(start)+rows; j++ {
			if len(opts.gets) == 0 {
				x.W.BulkString(vec[j].elem)
				continue
			}
			for _, pat := range opts.gets {
				if v, ok := sortLookup(x, pat, vec[j].elem); ok {
					x.W.Bulk(v)
				} else {
					x.W.Null()
				}
			}
		}
		return
	}
	res := types.NewList()
	for j := int(start); j < int(start)+rows; j++ {
		if len(opts.gets) == 0 {
			res.PushBackString(vec[j].elem)
			continue
		}
		for _, pat := range opts.gets {
			v, _ := sortLookup(x, pat, vec[j].elem) // missing: ""
			res.PushBack(v)
		}
	}
	if outLen > 0 {
		x.setKey(opts.store, &shard.Object{Kind: shard.KindList, Val: res})
		x.keyModified(opts.store)
		x.notify(NotifyList, "sortstore", opts.store)
	} else {
		x.delKeyNotify(opts.store)
	}
	x.W.Int(int64(outLen))
}

// sortCompare is Redis's sortCompare in ascending order. Numeric ties are
// broken by comparing the elements as binary strings; ALPHA compares with
// strcoll (byte order up to the first NUL in the C locale) when the result
// is returned, and as binary strings when it is stored. With BY and ALPHA,
// an element whose BY key is missing sorts first.
func sortCompare(alpha, byPattern, store bool) func(a, b *sortItem) int {
	str := sortCollate
	if store {
		str = bytes.Compare
	}
	switch {
	case !alpha:
		return func(a, b *sortItem) int {
			switch {
			case a.score > b.score:
				return 1
			case a.score < b.score:
				return -1
			}
			return sortCmpStrings(a.elem, b.elem)
		}
	case byPattern:
		return func(a, b *sortItem) int {
			switch {
			case !a.hasCmp && !b.hasCmp:
				return 0
			case !a.hasCmp:
				return -1
			case !b.hasCmp:
				return 1
			}
			return str(a.cmp, b.cmp)
		}
	case store:
		return func(a, b *sortItem) int { return sortCmpStrings(a.elem, b.elem) }
	}
	return func(a, b *sortItem) int { return sortCmpStrings(sortCStrS(a.elem), sortCStrS(b.elem)) }
}

// sortCmpStrings is Redis's compareStringObjects: memcmp, then length.
func sortCmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sortCollate is strcoll in the C (or C.UTF-8) locale: strcmp, which stops
// at the first NUL byte.
func sortCollate(a, b []byte) int {
	return bytes.Compare(sortCStr(a), sortCStr(b))
}

// sortCStr is b as a C string sees it: up to the first NUL byte.
func sortCStr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// sortCStrS is sortCStr for a string.
func sortCStrS(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// sortScore converts a value to sort by to a double as SORT does: C's
// strtod over the C string, which must be consumed whole (an empty string
// is 0); NaN and glibc's ERANGE (overflow, underflow to zero, an inexact
// subnormal result) are errors.
func sortScore(b []byte) (float64, bool) {
	cs := sortCStr(b)
	v, n, rangeErr := cStrtod(cs)
	if n == 0 {
		return 0, len(cs) == 0
	}
	if n != len(cs) || rangeErr || math.IsNaN(v) {
		return v, false
	}
	if v != 0 && math.Abs(v) < 0x1p-1022 && !sortExact(cs, v) {
		return v, false // glibc: ERANGE for an inexact subnormal result
	}
	return v, true
}

// sortExact reports whether the number strtod read from text (its whole
// numeric prefix: leading blanks, sign, decimal or hexadecimal digits and
// exponent) is exactly v. It is only asked about subnormal results, whose
// text is short enough for exact rational arithmetic.
func sortExact(text []byte, v float64) bool {
	i := 0
	for i < len(text) && scoreIsSpace(text[i]) {
		i++
	}
	s := string(text[i:])
	if t := strings.TrimLeft(s, "+-"); len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') &&
		!strings.ContainsAny(t, "pP") {
		s += "p0" // big.Rat wants the binary exponent C makes optional
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return false
	}
	return r.Cmp(new(big.Rat).SetFloat64(v)) == 0
}

// sortLookup is Redis's lookupKeyByPattern: "#" is the element itself;
// otherwise the first '*' of the pattern is replaced by the element and the
// resulting key is read: a string key's value, or with "->field" after the
// '*' a hash field. ok is false when the pattern has no '*' or the key,
// the field or the right type is missing. The pattern is searched as a C
// string (up to its first NUL byte), as in Redis.
func sortLookup(x *Ctx, pattern []byte, elem string) ([]byte, bool) {
	cs := sortCStr(pattern)
	if len(cs) == 1 && cs[0] == '#' {
		return []byte(elem), true
	}
	p := bytes.IndexByte(cs, '*')
	if p < 0 {
		return nil, false
	}
	var field []byte
	keyEnd := len(pattern)
	if f := bytes.Index(cs[p+1:], []byte("->")); f >= 0 {
		f += p + 1
		if f+2 < len(cs) {
			field = pattern[f+2:]
			keyEnd = f
		}
	}
	key := make([]byte, 0, p+len(elem)+keyEnd-p-1)
	key = append(key, pattern[:p]...)
	key = append(key, elem...)
	key = append(key, pattern[p+1:keyEnd]...)
	o := x.lookupRead(key)
	if o == nil {
		return nil, false
	}
	if field != nil {
		if o.Kind != shard.KindHash {
			return nil, false
		}
		h, _ := o.Val.(*types.Hash)
		if h == nil {
			return nil, false
		}
		v, ok := h.Get(field)
		if !ok {
			return nil, false
		}
		return []byte(v), true
	}
	if o.Kind != shard.KindString {
		return nil, false
	}
	return o.Str, true
}
