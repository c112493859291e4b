package shard

import (
	"slices"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// table is one database's keys within one slot: an open-addressing hash
// table with linear probing. Position i holds the object objs[i] (which
// carries its own key) and hs[i], 32 bits of the key's hash (never 0), or
// hs[i] == 0 when the position is empty. Deletion shifts the following
// entries back (no tombstones), so the table is always a plain array of
// live entries. The load stays at most tableMaxLoad, so every probe
// sequence ends at an empty position. Only the owning worker touches it.
type table struct {
	hs   []uint32
	objs []*Object
	n    int                  // entries
	vol  map[*Object]struct{} // objects with an expiry; nil until the first
	slot *Slot                // the slot the table belongs to (volatile count)
}

// Load factor bounds, in percent: the table grows past tableMaxLoad to
// about tableGrowLoad, and shrinks below tableMinLoad.
const (
	tableMaxLoad  = 85
	tableGrowLoad = 70
	tableMinLoad  = 25
)

// Slot holds every database's table for one slot. A table is nil until
// the first write to that database in this slot; dbs is nil until the
// first write to a database other than 0.
type Slot struct {
	db0   *table
	dbs   []*table // databases 1..n-1: dbs[i-1]
	owner int      // worker id; changed only by an ownership hand-off
	// waiters are the blocked clients waiting for keys of this slot, per
	// database and key, in blocking order; nil when none (blocking.go).
	waiters map[waitKey]*waitQueue
	nvol    int32 // keys with an expiry, over every database
	ndb     int32 // number of databases
}

// get returns database db's table in this slot, nil when it has none.
func (s *Slot) get(db int) *table {
	if db == 0 {
		return s.db0
	}
	if s.dbs == nil {
		return nil
	}
	return s.dbs[db-1]
}

// set installs t (nil: none) as database db's table.
func (s *Slot) set(db int, t *table) {
	if db == 0 {
		s.db0 = t
		return
	}
	if s.dbs == nil {
		if t == nil {
			return
		}
		s.dbs = make([]*table, s.ndb-1)
	}
	s.dbs[db-1] = t
}

// table returns database db's table in this slot, or nil when it has none
// and create is false. The pointer stays valid until the database is
// flushed.
func (s *Slot) table(db int, create bool) *table {
	t := s.get(db)
	if t == nil && create {
		t = &table{slot: s}
		s.set(db, t)
	}
	return t
}

// keyHash returns key's slot and its 32-bit table hash (never 0). The slot
// hash is reused when the whole key is hashed; with a hash tag the key is
// hashed again, as every key of the slot shares the tag's hash. The table
// hash takes the upper bits: the lower 14 are the slot.
func keyHash(key []byte) (int, uint32) {
	tag := HashTag(key)
	x := xxhash.Sum64(tag)
	slot := int(x % NumSlots)
	if len(tag) != len(key) {
		x = xxhash.Sum64(key)
	}
	return slot, uint32(x>>32) | 1
}

func keyHashString(key string) (int, uint32) {
	return keyHash(unsafe.Slice(unsafe.StringData(key), len(key)))
}

// home is the position where probing for hash h starts in n positions.
func home(h uint32, n int) int { return int(uint64(h) * uint64(n) >> 32) }

// find returns key's position, or -1.
func (t *table) find(key []byte, h uint32) int {
	hs := t.hs
	n := len(hs)
	if n == 0 {
		return -1
	}
	objs := t.objs[:n]
	for i := home(h, n); ; {
		c := hs[i]
		if c == h {
			if objs[i].key() == string(key) {
				return i
			}
		} else if c == 0 {
			return -1
		}
		if i++; i == n {
			i = 0
		}
	}
}

// findObj returns o's position (h is its key's hash), or -1.
func (t *table) findObj(o *Object, h uint32) int {
	hs := t.hs
	n := len(hs)
	if n == 0 {
		return -1
	}
	objs := t.objs[:n]
	for i := home(h, n); ; {
		c := hs[i]
		if c == h && objs[i] == o {
			return i
		} else if c == 0 {
			return -1
		}
		if i++; i == n {
			i = 0
		}
	}
}

// insert adds o, whose key (hash h) is not in the table.
func (t *table) insert(o *Object, h uint32) {
	if (t.n+1)*100 > len(t.hs)*tableMaxLoad {
		t.resize((t.n+1)*100/tableGrowLoad + 1)
	}
	t.place(o, h)
	t.n++
}

func (t *table) place(o *Object, h uint32) {
	n := len(t.hs)
	i := home(h, n)
	for t.hs[i] != 0 {
		if i++; i == n {
			i = 0
		}
	}
	t.hs[i], t.objs[i] = h, o
}

// resize rehashes into at least want positions (0: frees the arrays). The
// position count is rounded up to fill the pointer array's size class.
func (t *table) resize(want int) {
	oldHs, oldObjs := t.hs, t.objs
	if want == 0 {
		t.hs, t.objs = nil, nil
		return
	}
	objs := slices.Grow([]*Object(nil), want)
	t.objs = objs[:cap(objs)]
	t.hs = make([]uint32, len(t.objs))
	for i, h := range oldHs {
		if h != 0 {
			t.place(oldObjs[i], h)
		}
	}
}

// removeAt deletes the entry at position i, shifting the entries of its
// probe run back. It never resizes (callers iterating positions rely on
// it; call shrink afterwards): an entry that was after i (cyclically) can
// move to i or after, and nothing else moves.
func (t *table) removeAt(i int) {
	t.unvol(t.objs[i])
	hs, objs := t.hs, t.objs
	n := len(hs)
	for j := i; ; {
		if j++; j == n {
			j = 0
		}
		h := hs[j]
		if h == 0 {
			break
		}
		k := home(h, n)
		// The entry at j may move to i unless its home lies cyclically
		// in (i, j].
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		hs[i], objs[i] = h, objs[j]
		i = j
	}
	hs[i], objs[i] = 0, nil
	t.n--
}

// shrink shrinks the arrays of a sparse table, or releases them when it is
// empty. Small arrays stay: a key created and deleted over and over (a
// queue) does not reallocate them every time.
func (t *table) shrink() {
	if len(t.hs) <= 16 {
		return
	}
	if t.n == 0 {
		t.resize(0)
	} else if t.n*100 < len(t.hs)*tableMinLoad {
		t.resize(t.n*100/tableGrowLoad + 1)
	}
}

// nth returns the position of the r-th entry (0-based, r < t.n).
func (t *table) nth(r int) int {
	for i, h := range t.hs {
		if h != 0 {
			if r == 0 {
				return i
			}
			r--
		}
	}
	return -1
}

func (t *table) setVolatile(o *Object, on bool) {
	if !on {
		t.unvol(o)
		return
	}
	if t.vol == nil {
		t.vol = make(map[*Object]struct{})
	}
	if _, ok := t.vol[o]; !ok {
		t.vol[o] = struct{}{}
		t.slot.nvol++
	}
}

func (t *table) unvol(o *Object) {
	if len(t.vol) == 0 {
		return
	}
	if _, ok := t.vol[o]; ok {
		delete(t.vol, o)
		t.slot.nvol--
	}
}
