package server

import "github.com/kvd/kvd/shard"

// registerStrings registers the string family (GET, SET, MGET, MSET, INCR, ...).
func registerStrings(r *Registry) {
	r.Add(&Command{Name: "get", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGet})
	r.Add(&Command{Name: "set", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSet})
	r.Add(&Command{Name: "mget", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Split: SplitArray, KeyFn: mgetKey, Run: splitRun})
	r.Add(&Command{Name: "mset", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2,
		Split: SplitOK, KeyFn: msetKey, Run: splitRun})
}

func cmdGet(x *Ctx) {
	o := x.DB.LookupRead(x.Args[1])
	switch {
	case o == nil:
		x.W.Null()
	case o.Kind != shard.KindString:
		x.W.Error(ErrWrongType)
	default:
		x.W.Bulk(o.Str)
	}
}

// cmdSet is the plain SET key value; the option parser comes with the full
// string family.
func cmdSet(x *Ctx) {
	if len(x.Args) != 3 {
		x.W.Error(ErrSyntax)
		return
	}
	x.DB.SetString(x.Args[1], x.Args[2], 0)
	x.W.OK()
}

func mgetKey(x *Ctx, key []byte, _ [][]byte) int64 {
	o := x.DB.LookupRead(key)
	if o == nil || o.Kind != shard.KindString {
		x.W.Null()
	} else {
		x.W.Bulk(o.Str)
	}
	return 0
}

func msetKey(x *Ctx, key []byte, rest [][]byte) int64 {
	x.DB.SetString(key, rest[0], 0)
	return 0
}
