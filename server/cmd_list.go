package server

import (
	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// registerList registers the list family's non-blocking commands. The
// blocking ones (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) reuse the shared
// helpers below: listWhere, listParseMPop/listMPopKeys, listPopReply,
// listMPopReply and listMoveElem.
func registerList(r *Registry) {
	r.Add(&Command{Name: "lpush", Arity: -3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { listPush(x, true, false) }})
	r.Add(&Command{Name: "rpush", Arity: -3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { listPush(x, false, false) }})
	r.Add(&Command{Name: "lpushx", Arity: -3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { listPush(x, true, true) }})
	r.Add(&Command{Name: "rpushx", Arity: -3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { listPush(x, false, true) }})
	r.Add(&Command{Name: "lpop", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { listPop(x, "lpop", true) }})
	r.Add(&Command{Name: "rpop", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { listPop(x, "rpop", false) }})
	r.Add(&Command{Name: "llen", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLLen})
	r.Add(&Command{Name: "lrange", Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLRange})
	r.Add(&Command{Name: "lindex", Arity: 3, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLIndex})
	r.Add(&Command{Name: "lset", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLSet})
	r.Add(&Command{Name: "linsert", Arity: 5, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLInsert})
	r.Add(&Command{Name: "lrem", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLRem})
	r.Add(&Command{Name: "ltrim", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLTrim})
	r.Add(&Command{Name: "lpos", Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLPos})
	r.Add(&Command{Name: "lmove", Arity: 5, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdLMove})
	r.Add(&Command{Name: "rpoplpush", Arity: 3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdRPopLPush})
	r.Add(&Command{Name: "lmpop", Arity: -4, Flags: Write, Keys: listMPopKeys(1), Run: cmdLMPop})
}

// Error texts of the list family, as Redis 7.0 writes them.
const (
	errListTooLarge   = "ERR Element too large"
	errListIndexRange = "ERR index out of range"
	errListPositive   = "ERR value is out of range, must be positive"
	errListRankZero   = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errListCountNeg   = "ERR COUNT can't be negative"
	errListMaxLenNeg  = "ERR MAXLEN can't be negative"
	errListNumKeys    = "ERR numkeys should be greater than 0"
	errListCountPos   = "ERR count should be greater than 0"
)

const (
	listMaxItemSize     = 1<<32 - 1024 // Redis's LIST_MAX_ITEM_SIZE
	listNoCount         = -1           // listPopReply: reply with one bulk element
	listLeft, listRight = true, false  // ends, for readability at call sites
)

// listGet returns the list of a list object. (A KindList object always
// holds one; a missing Val is treated as an empty list, never a panic.)
func listGet(o *shard.Object) *types.List {
	l, _ := o.Val.(*types.List)
	if l == nil {
		l = types.NewList()
		o.Val = l
	}
	return l
}

// listRead looks key up for a read command: (nil, nil, true) when missing,
// false after a WRONGTYPE reply.
func listRead(x *Ctx, key []byte) (*shard.Object, *types.List, bool) {
	o, ok := lookupKind(x, key, shard.KindList, true)
	if !ok || o == nil {
		return nil, nil, ok
	}
	return o, listGet(o), true
}

// listWrite looks key up for a write command: (nil, nil, true) when
// missing, false after a WRONGTYPE reply. An existing list's access time
// is refreshed, as Redis's lookupKeyWrite does.
func listWrite(x *Ctx, key []byte) (*shard.Object, *types.List, bool) {
	o, ok := lookupKind(x, key, shard.KindList, false)
	if !ok || o == nil {
		return nil, nil, ok
	}
	strTouch(x, o)
	return o, listGet(o), true
}

// listCreate adds an empty list under key (through DB.Add, where new keys
// are announced) and returns it.
func listCreate(x *Ctx, key []byte) (*shard.Object, *types.List) {
	l := types.NewList()
	o := &shard.Object{Kind: shard.KindList, Val: l}
	x.dbAdd(key, o)
	return o, l
}

// listIndexArg parses an index, count or range argument like Redis's
// getLongFromObjectOrReply, writing the error on failure.
func listIndexArg(x *Ctx, b []byte) (int, bool) {
	v, ok := strictInt64(b)
	if !ok {
		x.W.Error(ErrNotInteger)
		return 0, false
	}
	return int(v), true
}

// listPositiveArg is Redis's getPositiveLongFromObjectOrReply: a
// non-negative integer; a non-integer and a negative value both give
// errText.
func listPositiveArg(x *Ctx, b []byte, errText string) (int, bool) {
	v, ok := strictInt64(b)
	if !ok || v < 0 {
		x.W.Error(errText)
		return 0, false
	}
	return int(v), true
}

// listWhere parses LEFT or RIGHT (any case): left reports LEFT, ok false
// for anything else (the caller replies ERR syntax error). Shared with
// BLMOVE and BLMPOP.
func listWhere(b []byte) (left, ok bool) {
	switch {
	case optIs(b, "left"):
		return true, true
	case optIs(b, "right"):
		return false, true
	}
	return false, false
}

// listRangeNorm converts LRANGE/LTRIM indexes (negative from the tail) to
// an inclusive range within [0, n); ok is false for an empty range.
func listRangeNorm(start, end, n int) (int, int, bool) {
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	if start > end || start >= n {
		return 0, 0, false
	}
	return start, min(end, n-1), true
}

// ---- pop and move helpers, shared with the blocking commands ----

// listPopReply pops from the non-empty list o stored at key and writes the
// reply: with count == listNoCount one element as a bulk string (LPOP key,
// the value of BLPOP), else an array of up to count elements taken from
// the head (left) or the tail, in pop order (LPOP key count, LMPOP,
// BLMPOP). The key is deleted when the list becomes empty. Shared with the
// blocking commands.
func listPopReply(x *Ctx, o *shard.Object, key []byte, left bool, count int) {
	l := listGet(o)
	if count == listNoCount {
		var s string
		if left {
			s, _ = l.PopFront()
		} else {
			s, _ = l.PopBack()
		}
		x.W.BulkString(s)
	} else {
		n := min(count, l.Len())
		x.W.Array(n)
		if left {
			l.Range(0, n-1, false, func(s string) { x.W.BulkString(s) })
			l.DropFront(n)
		} else {
			l.Range(l.Len()-n, l.Len()-1, true, func(s string) { x.W.BulkString(s) })
			l.DropBack(n)
		}
	}
	listElementsRemoved(x, key, o, left)
}

// listElementsRemoved is Redis's listElementsRemoved: the pop event, the
// deletion of an emptied list with its "del" event, the modification.
func listElementsRemoved(x *Ctx, key []byte, o *shard.Object, left bool) {
	if left {
		x.notify(NotifyList, "lpop", key)
	} else {
		x.notify(NotifyList, "rpop", key)
	}
	x.delIfEmpty(key, o)
	x.keyModified(key)
}

// listMPopReply is listPopReply for LMPOP and BLMPOP: the reply is the
// two-element array [key, [elements]]. Shared with the blocking commands.
func listMPopReply(x *Ctx, o *shard.Object, key []byte, left bool, count int) {
	x.W.Array(2)
	x.W.Bulk(key)
	listPopReply(x, o, key, left, count)
}

// listMoveElem is the core of LMOVE, RPOPLPUSH, BLMOVE and BRPOPLPUSH
// (Redis's lmoveGenericCommand after its lookups): it pops one element
// from the non-empty list so at src (head when fromLeft), pushes it onto
// dst (head when toLeft) whose object is do, creating the list when do is
// nil, replies with the element as a bulk string, and deletes src when it
// became empty. src and dst may be the same key (a rotation). The caller
// has checked that do, if not nil, is a list. Shared with the blocking
// commands.
func listMoveElem(x *Ctx, src []byte, so *shard.Object, dst []byte, do *shard.Object, fromLeft, toLeft bool) {
	sl := listGet(so)
	var s string
	if fromLeft {
		s, _ = sl.PopFront()
	} else {
		s, _ = sl.PopBack()
	}
	var dl *types.List
	if do == nil {
		_, dl = listCreate(x, dst)
	} else {
		dl = listGet(do)
	}
	x.keyModified(dst)
	if toLeft {
		dl.PushFrontString(s)
		x.notify(NotifyList, "lpush", dst)
	} else {
		dl.PushBackString(s)
		x.notify(NotifyList, "rpush", dst)
	}
	x.W.BulkString(s)
	listElementsRemoved(x, src, so, fromLeft)
}

// listParseMPop parses the arguments of LMPOP (numkeysIdx 1) and BLMPOP
// (numkeysIdx 2) from numkeys on, as Redis's lmpopGenericCommand: the
// keys, the end (LEFT or RIGHT) and COUNT (1 when absent). errText is the
// error to reply with when the arguments are invalid. Shared with BLMPOP.
func listParseMPop(args [][]byte, numkeysIdx int) (keys [][]byte, left bool, count int, errText string) {
	if len(args) <= numkeysIdx { // excluded by the arity check
		return nil, false, 0, ErrSyntax
	}
	numkeys, ok := strictInt64(args[numkeysIdx])
	if !ok || numkeys < 1 {
		return nil, false, 0, errListNumKeys
	}
	if numkeys > int64(len(args)-numkeysIdx-2) {
		return nil, false, 0, ErrSyntax
	}
	whereIdx := numkeysIdx + int(numkeys) + 1
	left, ok = listWhere(args[whereIdx])
	if !ok {
		return nil, false, 0, ErrSyntax
	}
	count = -1
	for j := whereIdx + 1; j < len(args); j++ {
		if count == -1 && optIs(args[j], "count") && j+1 < len(args) {
			j++
			v, ok := strictInt64(args[j])
			if !ok || v < 1 {
				return nil, false, 0, errListCountPos
			}
			count = int(v)
			continue
		}
		return nil, false, 0, ErrSyntax
	}
	if count == -1 {
		count = 1
	}
	return args[numkeysIdx+1 : whereIdx], left, count, ""
}

// listMPopKeys returns the Keys function (routing) of LMPOP (numkeysIdx 1)
// or BLMPOP (numkeysIdx 2): the numkeys keys that follow numkeys. For a call
// whose numkeys is invalid it returns no keys; the command then runs
// holding every worker and replies with the error without touching keys.
// Shared with BLMPOP.
func listMPopKeys(numkeysIdx int) func(args [][]byte) [][]byte {
	return func(args [][]byte) [][]byte {
		if len(args) <= numkeysIdx {
			return nil
		}
		n, ok := strictInt64(args[numkeysIdx])
		if !ok || n < 1 || n > int64(len(args)-numkeysIdx-2) {
			return nil
		}
		return args[numkeysIdx+1 : numkeysIdx+1+int(n)]
	}
}

// ---- commands ----

// listPush is LPUSH, RPUSH, LPUSHX and RPUSHX (Redis's pushGenericCommand):
// the new length, 0 for the X forms on a missing key.
func listPush(x *Ctx, left, xx bool) {
	for _, v := range x.Args[2:] {
		if int64(len(v)) > listMaxItemSize {
			x.W.Error(errListTooLarge)
			return
		}
	}
	key := x.Args[1]
	o, l, ok := listWrite(x, key)
	if !ok {
		return
	}
	if o == nil {
		if xx {
			x.W.Int(0)
			return
		}
		_, l = listCreate(x, key)
	}
	for _, v := range x.Args[2:] {
		if left {
			l.PushFront(v)
		} else {
			l.PushBack(v)
		}
	}
	x.W.Int(int64(l.Len()))
	if left {
		x.changed(NotifyList, "lpush", key)
	} else {
		x.changed(NotifyList, "rpush", key)
	}
}

// listPop is LPOP and RPOP key [count] (Redis 7.0's popGenericCommand).
func listPop(x *Ctx, name string, left bool) {
	if len(x.Args) > 3 {
		x.W.Error(WrongArgs(name))
		return
	}
	count := listNoCount
	if len(x.Args) == 3 {
		var ok bool
		if count, ok = listPositiveArg(x, x.Args[2], errListPositive); !ok {
			return
		}
	}
	key := x.Args[1]
	o, _, ok := listWrite(x, key)
	if !ok {
		return
	}
	if o == nil {
		if count == listNoCount {
			x.W.Null()
		} else {
			x.W.NullArray()
		}
		return
	}
	if count == 0 {
		x.W.Array(0)
		return
	}
	listPopReply(x, o, key, left, count)
}

func cmdLLen(x *Ctx) {
	o, l, ok := listRead(x, x.Args[1])
	if !ok {
		return
	}
	if o == nil {
		x.W.Int(0)
		return
	}
	x.W.Int(int64(l.Len()))
}

func cmdLRange(x *Ctx) {
	start, ok := listIndexArg(x, x.Args[2])
	if !ok {
		return
	}
	end, ok := listIndexArg(x, x.Args[3])
	if !ok {
		return
	}
	o, l, ok := listRead(x, x.Args[1])
	if !ok {
		return
	}
	if o == nil {
		x.W.Array(0)
		return
	}
	start, end, ok = listRangeNorm(start, end, l.Len())
	if !ok {
		x.W.Array(0)
		return
	}
	x.W.Array(end - start + 1)
	l.Range(start, end, false, func(s string) { x.W.BulkString(s) })
}

func cmdLIndex(x *Ctx) {
	o, l, ok := listRead(x, x.Args[1])
	if !ok {
		return
	}
	if o == nil {
		x.W.Null()
		return
	}
	i, ok := listIndexArg(x, x.Args[2])
	if !ok {
		return
	}
	if s, ok := l.Index(i); ok {
		x.W.BulkString(s)
	} else {
		x.W.Null()
	}
}

func cmdLSet(x *Ctx) {
	o, l, ok := listWrite(x, x.Args[1])
	if !ok {
		return
	}
	if o == nil {
		x.W.Error(ErrNoSuchKey)
		return
	}
	i, ok := listIndexArg(x, x.Args[2])
	if !ok {
		return
	}
	if int64(len(x.Args[3])) > listMaxItemSize {
		x.W.Error(errListTooLarge)
		return
	}
	if !l.Set(i, x.Args[3]) {
		x.W.Error(errListIndexRange)
		return
	}
	x.changed(NotifyList, "lset", x.Args[1])
	x.W.OK()
}

// cmdLInsert is LINSERT key BEFORE|AFTER pivot element: the new length, 0
// for a missing key, -1 when the pivot is not found.
func cmdLInsert(x *Ctx) {
	var after bool
	switch {
	case optIs(x.Args[2], "after"):
		after = true
	case optIs(x.Args[2], "before"):
	default:
		x.W.Error(ErrSyntax)
		return
	}
	if int64(len(x.Args[4])) > listMaxItemSize {
		x.W.Error(errListTooLarge)
		return
	}
	o, l, ok := listWrite(x, x.Args[1])
	if !ok {
		return
	}
	if o == nil {
		x.W.Int(0)
		return
	}
	if !l.Insert(x.Args[3], x.Args[4], after) {
		x.W.Int(-1)
		return
	}
	x.changed(NotifyList, "linsert", x.Args[1])
	x.W.Int(int64(l.Len()))
}

func cmdLRem(x *Ctx) {
	count, ok := listIndexArg(x, x.Args[2])
	if !ok {
		return
	}
	key := x.Args[1]
	o, l, ok := listWrite(x, key)
	if !ok {
		return
	}
	if o == nil {
		x.W.Int(0)
		return
	}
	n := l.Remove(x.Args[3], count)
	if n > 0 {
		x.notify(NotifyList, "lrem", key)
	}
	x.delIfEmpty(key, o)
	if n > 0 {
		x.keyModified(key)
	}
	x.W.Int(int64(n))
}

func cmdLTrim(x *Ctx) {
	start, ok := listIndexArg(x, x.Args[2])
	if !ok {
		return
	}
	end, ok := listIndexArg(x, x.Args[3])
	if !ok {
		return
	}
	key := x.Args[1]
	o, l, ok := listWrite(x, key)
	if !ok {
		return
	}
	if o == nil {
		x.W.OK()
		return
	}
	if start, end, ok = listRangeNorm(start, end, l.Len()); ok {
		l.Trim(start, end)
	} else {
		l.Clear()
	}
	x.notify(NotifyList, "ltrim", key)
	x.delIfEmpty(key, o)
	x.keyModified(key)
	x.W.OK()
}

// cmdLPos is LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
// (Redis's lposCommand).
func cmdLPos(x *Ctx) {
	rank, count, maxlen := 1, -1, 0 // count -1: no COUNT option
	for j := 3; j < len(x.Args); j++ {
		more := j+1 < len(x.Args)
		var ok bool
		switch opt := x.Args[j]; {
		case optIs(opt, "rank") && more:
			j++
			if rank, ok = listIndexArg(x, x.Args[j]); !ok {
				return
			}
			if rank == 0 {
				x.W.Error(errListRankZero)
				return
			}
		case optIs(opt, "count") && more:
			j++
			if count, ok = listPositiveArg(x, x.Args[j], errListCountNeg); !ok {
				return
			}
		case optIs(opt, "maxlen") && more:
			j++
			if maxlen, ok = listPositiveArg(x, x.Args[j], errListMaxLenNeg); !ok {
				return
			}
		default:
			x.W.Error(ErrSyntax)
			return
		}
	}
	// A negative rank searches from the tail. (Negating the minimum int
	// leaves it negative, as in Redis: it then behaves like -1.)
	reverse := false
	if rank < 0 {
		rank, reverse = -rank, true
	}
	o, l, ok := listRead(x, x.Args[1])
	if !ok {
		return
	}
	if o == nil {
		if count != -1 {
			x.W.Array(0)
		} else {
			x.W.Null()
		}
		return
	}
	ele := string(x.Args[2])
	var found []int64
	visited, matches := 0, 0
	l.Each(reverse, func(i int, s string) bool {
		if maxlen != 0 && visited >= maxlen {
			return false
		}
		visited++
		if s != ele {
			return true
		}
		matches++
		if matches < rank {
			return true
		}
		found = append(found, int64(i))
		// Without COUNT the first qualifying match ends the search; COUNT 0
		// collects every match.
		switch count {
		case -1:
			return false
		case 0:
			return true
		}
		return matches-rank+1 < count
	})
	if count == -1 {
		if len(found) == 0 {
			x.W.Null()
		} else {
			x.W.Int(found[0])
		}
		return
	}
	x.W.Array(len(found))
	for _, i := range found {
		x.W.Int(i)
	}
}

// cmdLMove is LMOVE source destination LEFT|RIGHT LEFT|RIGHT. Keys on
// different workers run as one barrier, so the move is atomic.
func cmdLMove(x *Ctx) {
	from, ok := listWhere(x.Args[3])
	if !ok {
		x.W.Error(ErrSyntax)
		return
	}
	to, ok := listWhere(x.Args[4])
	if !ok {
		x.W.Error(ErrSyntax)
		return
	}
	listMove(x, from, to)
}

// cmdRPopLPush is RPOPLPUSH source destination: LMOVE ... RIGHT LEFT.
func cmdRPopLPush(x *Ctx) { listMove(x, listRight, listLeft) }

// listMove is Redis's lmoveGenericCommand: nil when the source is missing;
// the destination's type is checked only when there is something to move.
func listMove(x *Ctx, from, to bool) {
	src, dst := x.Args[1], x.Args[2]
	so, sl, ok := listWrite(x, src)
	if !ok {
		return
	}
	if so == nil || sl.Len() == 0 {
		x.W.Null()
		return
	}
	do, _, ok := listWrite(x, dst)
	if !ok {
		return
	}
	listMoveElem(x, src, so, dst, do, from, to)
}

// listMPopFirst pops from the first non-empty list of keys and replies
// [key, [elements]]. It reports whether it replied (a pop or WRONGTYPE);
// false means every list was empty and nothing was written. Shared by LMPOP
// and BLMPOP.
func listMPopFirst(x *Ctx, keys [][]byte, left bool, count int) bool {
	for _, key := range keys {
		o, l, ok := listWrite(x, key)
		if !ok {
			return true
		}
		if o == nil || l.Len() == 0 {
			continue
		}
		listMPopReply(x, o, key, left, count)
		return true
	}
	return false
}

// cmdLMPop is LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops
// from the first non-empty list; a null array when every list is empty.
func cmdLMPop(x *Ctx) {
	keys, left, count, errText := listParseMPop(x.Args, 1)
	if errText != "" {
		x.W.Error(errText)
		return
	}
	if listMPopFirst(x, keys, left, count) {
		return
	}
	x.W.NullArray()
}
