package shard

// table is one database's keys within one slot. Only the owning worker
// touches it.
type table struct {
	m   map[string]*Object
	vol map[string]struct{} // keys with an expiry; nil when none
}

func newTable() *table { return &table{m: make(map[string]*Object)} }

// Slot holds every database's table for one slot. dbs[i] is nil until the
// first write to database i in this slot.
type Slot struct {
	dbs   []*table
	owner int // worker id; changed only by an ownership hand-off
	// waiters are the blocked clients waiting for keys of this slot, per
	// database and key, in blocking order; nil when none (blocking.go).
	waiters map[waitKey]*waitQueue
}

func (s *Slot) table(db int, create bool) *table {
	t := s.dbs[db]
	if t == nil && create {
		t = newTable()
		s.dbs[db] = t
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
