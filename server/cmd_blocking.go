package server

import (
	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// The blocking list and sorted-set commands. The waiting itself is in
// blocking.go (connection side) and shard/blocking.go (waiters).

// registerBlocking registers the blocking commands.
func registerBlocking(r *Registry) {
	r.Add(&Command{Name: "blpop", Arity: -3, Flags: Write | NoScript | Blocking, FirstKey: 1, LastKey: -2, Step: 1,
		Run: func(x *Ctx) { cmdBPop(x, listLeft) }})
	r.Add(&Command{Name: "brpop", Arity: -3, Flags: Write | NoScript | Blocking, FirstKey: 1, LastKey: -2, Step: 1,
		Run: func(x *Ctx) { cmdBPop(x, listRight) }})
	r.Add(&Command{Name: "blmove", Arity: 6, Flags: Write | DenyOOM | NoScript | Blocking, FirstKey: 1, LastKey: 2, Step: 1,
		Run: cmdBLMove})
	r.Add(&Command{Name: "brpoplpush", Arity: 4, Flags: Write | DenyOOM | NoScript | Blocking, FirstKey: 1, LastKey: 2, Step: 1,
		Run: cmdBRPopLPush})
	r.Add(&Command{Name: "blmpop", Arity: -5, Flags: Write | Blocking, Keys: listMPopKeys(2), Run: cmdBLMPop})

	r.Add(&Command{Name: "bzpopmin", Arity: -3, Flags: Write | NoScript | Fast | Blocking, FirstKey: 1, LastKey: -2, Step: 1,
		Run: func(x *Ctx) { cmdBZPop(x, false) }})
	r.Add(&Command{Name: "bzpopmax", Arity: -3, Flags: Write | NoScript | Fast | Blocking, FirstKey: 1, LastKey: -2, Step: 1,
		Run: func(x *Ctx) { cmdBZPop(x, true) }})
	r.Add(&Command{Name: "bzmpop", Arity: -5, Flags: Write | Blocking, Run: cmdBZMPop,
		Keys: func(args [][]byte) [][]byte { return zsetKeys(args, 2, false) }})
}

// listReady is the waiters' Ready for lists: key holds a non-empty list.
func listReady(x *Ctx, key []byte) bool {
	o := x.DB.Lookup(key)
	if o == nil || o.Kind != shard.KindList {
		return false
	}
	return listGet(o).Len() > 0
}

// cmdBPop is BLPOP and BRPOP key [key ...] timeout (Redis's
// blockingPopGenericCommand): pops from the first non-empty list, replying
// [key, element]; WRONGTYPE for a non-list met before one.
func cmdBPop(x *Ctx, left bool) {
	n := len(x.Args)
	timeout, errText := parseBlockTimeout(x.Args[n-1])
	if errText != "" {
		x.W.Error(errText)
		return
	}
	keys := x.Args[1 : n-1]
	for _, key := range keys {
		o, l, ok := listWrite(x, key)
		if !ok {
			return
		}
		if o == nil || l.Len() == 0 {
			continue
		}
		x.W.Array(2)
		x.W.Bulk(key)
		listPopReply(x, o, key, left, listNoCount)
		return
	}
	if !x.mayBlock() {
		x.W.NullArray()
		return
	}
	x.block(blockSpec{
		timeout: timeout,
		keys:    keys,
		ready:   listReady,
		serve: func(x *Ctx, key []byte) {
			x.W.Array(2)
			x.W.Bulk(key)
			listPopReply(x, x.DB.Lookup(key), key, left, listNoCount)
		},
	})
}

// cmdBLMove is BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
func cmdBLMove(x *Ctx) {
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
	listBMove(x, x.Args[5], from, to)
}

// cmdBRPopLPush is BRPOPLPUSH source destination timeout: BLMOVE ... RIGHT
// LEFT.
func cmdBRPopLPush(x *Ctx) { listBMove(x, x.Args[3], listRight, listLeft) }

// listBMove is Redis's blmoveGenericCommand: LMOVE when the source holds
// elements, else block on the source. When served, the destination's type
// is checked then (WRONGTYPE is the reply, nothing moves); source and
// destination are held together, so the element is never seen in both
// lists or in neither.
func listBMove(x *Ctx, timeoutArg []byte, from, to bool) {
	timeout, errText := parseBlockTimeout(timeoutArg)
	if errText != "" {
		x.W.Error(errText)
		return
	}
	src, dst := x.Args[1], x.Args[2]
	so, sl, ok := listWrite(x, src)
	if !ok {
		return
	}
	if so != nil && sl.Len() > 0 {
		listMove(x, from, to)
		return
	}
	if !x.mayBlock() {
		x.W.Null() // Redis: a null bulk here, not the timeout's null array
		return
	}
	target := append([]byte(nil), dst...)
	x.block(blockSpec{
		timeout: timeout,
		keys:    [][]byte{src},
		target:  target,
		ready:   listReady,
		serve: func(x *Ctx, key []byte) {
			do, _, ok := listWrite(x, target)
			if !ok {
				return // WRONGTYPE
			}
			listMoveElem(x, key, x.DB.Lookup(key), target, do, from, to)
			x.DB.SignalReady(target)
		},
	})
}

// cmdBLMPop is BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT
// count]: the arguments are checked before the timeout, as in Redis.
func cmdBLMPop(x *Ctx) {
	keys, left, count, errText := listParseMPop(x.Args, 2)
	if errText != "" {
		x.W.Error(errText)
		return
	}
	timeout, errText := parseBlockTimeout(x.Args[1])
	if errText != "" {
		x.W.Error(errText)
		return
	}
	if listMPopFirst(x, keys, left, count) {
		return
	}
	if !x.mayBlock() {
		x.W.NullArray()
		return
	}
	x.block(blockSpec{
		timeout: timeout,
		keys:    keys,
		ready:   listReady,
		serve: func(x *Ctx, key []byte) {
			listMPopReply(x, x.DB.Lookup(key), key, left, count)
		},
	})
}

// zsetReady is the waiters' Ready for sorted sets: key holds a non-empty
// sorted set.
func zsetReady(x *Ctx, key []byte) bool {
	o := x.DB.Lookup(key)
	if o == nil || o.Kind != shard.KindZSet {
		return false
	}
	z, _ := o.Val.(*types.ZSet)
	return z != nil && z.Len() > 0
}

// zsetBlockingPop is Redis's blockingGenericZpopCommand: like ZPOPMIN or
// ZPOPMAX (count -1: one member, flat [key, member, score] reply) or ZMPOP
// (nested [key, [[member, score], ...]]) on the first non-empty sorted set
// of keys, WRONGTYPE for another type met before one; else block.
func zsetBlockingPop(x *Ctx, keys [][]byte, timeoutArg []byte, max bool, count int64, nested bool) {
	timeout, errText := parseBlockTimeout(timeoutArg)
	if errText != "" {
		x.W.Error(errText)
		return
	}
	for _, key := range keys {
		o := x.DB.Lookup(key)
		if o == nil {
			continue
		}
		if o.Kind != shard.KindZSet {
			x.W.Error(ErrWrongType)
			return
		}
		if !zsetReady(x, key) {
			continue
		}
		zsetPopGeneric(x, [][]byte{key}, max, true, count, nested, nested)
		return
	}
	if !x.mayBlock() {
		x.W.NullArray()
		return
	}
	x.block(blockSpec{
		timeout: timeout,
		keys:    keys,
		ready:   zsetReady,
		serve: func(x *Ctx, key []byte) {
			zsetPopGeneric(x, [][]byte{key}, max, true, count, nested, nested)
		},
	})
}

// cmdBZPop is BZPOPMIN and BZPOPMAX key [key ...] timeout.
func cmdBZPop(x *Ctx, max bool) {
	n := len(x.Args)
	zsetBlockingPop(x, x.Args[1:n-1], x.Args[n-1], max, -1, false)
}

// cmdBZMPop is BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]:
// the arguments are checked before the timeout, as in Redis.
func cmdBZMPop(x *Ctx) {
	keys, max, count, ok := zsetParseMPop(x, 2)
	if !ok {
		return
	}
	zsetBlockingPop(x, keys, x.Args[1], max, count, true)
}
