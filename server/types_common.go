package server

import (
	"math"

	"github.com/kvd/kvd/shard"
)

// lookupKind finds key for a command of one type family. It returns
// (nil, true) when the key does not exist, (o, true) when it holds kind,
// and writes WRONGTYPE and returns (nil, false) when it holds another kind.
// read selects read semantics (hit/miss accounting and access time).
func lookupKind(x *Ctx, key []byte, kind shard.Kind, read bool) (*shard.Object, bool) {
	var o *shard.Object
	if read {
		o = x.lookupRead(key) // with Redis's "keymiss" event (notify.go)
	} else {
		o = x.DB.Lookup(key)
	}
	if o != nil && o.Kind != kind {
		x.W.Error(ErrWrongType)
		return nil, false
	}
	return o, true
}

// collection is what every non-string value structure can report.
type collection interface{ Len() int }

// addOverflows reports whether a+b overflows int64 (INCRBY, HINCRBY: Redis
// answers ErrOverflow instead of wrapping).
func addOverflows(a, b int64) bool {
	return (b < 0 && a < 0 && b < math.MinInt64-a) || (b > 0 && a > 0 && b > math.MaxInt64-a)
}
