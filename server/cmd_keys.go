package server

import "github.com/kvd/kvd/shard"

// registerKeys registers the generic keyspace family (DEL, EXISTS, EXPIRE,
// RENAME, SCAN, ...).
func registerKeys(r *Registry) {
	r.Add(&Command{Name: "del", Arity: -2, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1,
		Split: SplitSum, KeyFn: delKey, Run: splitRun})
	r.Add(&Command{Name: "dbsize", Arity: 1, Flags: ReadOnly | Fast | AllWorkers, Run: cmdDBSize})
}

func delKey(x *Ctx, key []byte, _ [][]byte) int64 {
	if x.DB.Delete(key) {
		return 1
	}
	return 0
}

func cmdDBSize(x *Ctx) {
	x.W.Int(int64(x.DB.Len(allSlots())))
}

// allSlots lists every slot, for commands holding every worker.
func allSlots() []int { return shard.AllSlots }
