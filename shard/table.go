package shard

// table is one database's keys within one slot. Only the owning worker
// touches it.
type table struct {
	m   map[string]*Object
	vol map[string]struct{} // keys with an expiry; nil when none
}

// Slot holds every database's table for one slot. Tables are values, and
// database 0's lives inside the Slot itself, so a db-0 lookup goes from the
// slot array straight to the map. A table's m is nil until the first write
// to that database in this slot.
type Slot struct {
	db0   table
	dbs   []table // databases 1..n-1: dbs[i-1]
	owner int     // worker id; changed only by an ownership hand-off
	// waiters are the blocked clients waiting for keys of this slot, per
	// database and key, in blocking order; nil when none (blocking.go).
	waiters map[waitKey]*waitQueue
}

// storage is where database db's table lives.
func (s *Slot) storage(db int) *table {
	if db == 0 {
		return &s.db0
	}
	return &s.dbs[db-1]
}

// table returns database db's table in this slot, or nil when it has no
// keys yet and create is false. The pointer stays valid: dbs never grows.
func (s *Slot) table(db int, create bool) *table {
	t := s.storage(db)
	if t.m == nil {
		if !create {
			return nil
		}
		t.m = make(map[string]*Object)
	}
	return t
}

func (t *table) setVolatile(key string, on bool) {
	if on {
		if t.vol == nil {
			t.vol = make(map[string]struct{})
		}
		t.vol[key] = struct{}{}
	} else if t.vol != nil {
		delete(t.vol, key)
	}
}
