package server

import (
	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// registerHLL registers the HyperLogLog family. An HLL is a string value in
// Redis's exact byte format (shard/types/hll.go), so GET/SET/DUMP/RESTORE
// of an HLL interoperate with redis-server. PFDEBUG and PFSELFTEST are not
// provided.
func registerHLL(r *Registry) {
	r.Add(&Command{Name: "pfadd", Arity: -2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPFAdd})
	r.Add(&Command{Name: "pfcount", Arity: -2, Flags: ReadOnly | MayReplicate, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdPFCount})
	r.Add(&Command{Name: "pfmerge", Arity: -2, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdPFMerge})
}

// Error texts of the HLL family, as Redis 7.0 writes them.
const (
	errHLLWrongType = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errHLLInvalid   = "INVALIDOBJ Corrupted HLL object detected"
)

// hllCheck is Redis's isHLLObjectOrReply: o must be a string with a valid
// HLL header, else the error is written and false returned.
func hllCheck(x *Ctx, o *shard.Object) bool {
	if o.Kind != shard.KindString {
		x.W.Error(ErrWrongType)
		return false
	}
	if !types.IsHLL(o.Str) {
		x.W.Error(errHLLWrongType)
		return false
	}
	return true
}

func hllSparseMax(x *Ctx) int64 { return x.Srv.cfg.Enc.HLLSparseMaxBytes.Load() }

// newHLLObject is an empty (sparse) HLL string. Like every string Redis
// builds in place, it has the raw encoding.
func newHLLObject() *shard.Object {
	return &shard.Object{Str: types.NewHLL(), Kind: shard.KindString, Enc: shard.EncRaw}
}

// cmdPFAdd is PFADD key [element ...]: :1 when the key was created or a
// register changed.
func cmdPFAdd(x *Ctx) {
	key := x.Args[1]
	o := x.DB.Lookup(key)
	updated := 0
	if o == nil {
		o = newHLLObject()
		x.dbAdd(key, o)
		updated++
	} else {
		if !hllCheck(x, o) {
			return
		}
		o.Enc = shard.EncRaw // Redis unshares the value: it becomes raw
		strTouch(x, o)
	}
	limit := hllSparseMax(x)
	for _, ele := range x.Args[2:] {
		s, r := types.HLLAdd(o.Str, ele, limit)
		o.Str = s
		switch r {
		case 1:
			updated++
		case -1:
			x.W.Error(errHLLInvalid)
			return
		}
	}
	if updated > 0 {
		types.HLLInvalidateCache(o.Str)
		x.changed(NotifyString, "pfadd", key)
		x.W.Int(1)
		return
	}
	x.W.Int(0)
}

// cmdPFCount is PFCOUNT key [key ...]. One key: the cached cardinality, or
// a fresh estimate written back into the cache (so it modifies the string,
// as in Redis). Several keys: the estimate of their union, computed in a
// scratch register array without touching any key.
func cmdPFCount(x *Ctx) {
	if len(x.Args) > 2 {
		regs := new(types.HLLRegs)
		for _, key := range x.Args[1:] {
			o := x.lookupRead(key)
			if o == nil {
				continue // a missing key is an empty HLL
			}
			if !hllCheck(x, o) {
				return
			}
			if !regs.Merge(o.Str) {
				x.W.Error(errHLLInvalid)
				return
			}
		}
		x.W.Int(int64(regs.Count()))
		return
	}
	o := x.lookupRead(x.Args[1])
	if o == nil {
		x.W.Int(0)
		return
	}
	if !hllCheck(x, o) {
		return
	}
	o.Enc = shard.EncRaw
	card, ok := types.HLLCachedCard(o.Str)
	if !ok {
		if card, ok = types.HLLCount(o.Str); !ok {
			x.W.Error(errHLLInvalid)
			return
		}
		types.HLLSetCachedCard(o.Str, card)
		x.keyModified(x.Args[1]) // the cached cardinality changed the string
	}
	x.W.Int(int64(card))
}

// cmdPFMerge is PFMERGE destkey [sourcekey ...]: the destination (itself
// one of the inputs) receives the register-wise maximum of every HLL; it is
// dense if any input is dense, else it stays sparse while it fits.
func cmdPFMerge(x *Ctx) {
	regs := new(types.HLLRegs)
	dense := false
	for _, key := range x.Args[1:] {
		o := x.lookupRead(key)
		if o == nil {
			continue
		}
		if !hllCheck(x, o) {
			return
		}
		if !types.HLLIsSparse(o.Str) {
			dense = true
		}
		if !regs.Merge(o.Str) {
			x.W.Error(errHLLInvalid)
			return
		}
	}
	key := x.Args[1]
	o := x.DB.Lookup(key)
	if o == nil {
		o = newHLLObject()
		x.dbAdd(key, o)
	} else {
		o.Enc = shard.EncRaw
		strTouch(x, o)
	}
	s, ok := regs.Store(o.Str, dense, hllSparseMax(x))
	if !ok {
		x.W.Error(errHLLInvalid)
		return
	}
	o.Str = s
	x.changed(NotifyString, "pfadd", key)
	x.W.OK()
}
