package types

import "sort"

// Hash is the value of a hash key (Redis's OBJ_HASH).
//
// Small form ("listpack"): ents holds the field/value pairs in insertion
// order, as Redis's listpack does: a new field is appended, updating a
// field keeps its position, deleting a field closes the gap. Lookups are
// linear, which the entry limit keeps cheap. A hash stays small while it
// has at most maxEntries fields and every field and value is at most
// maxValue bytes long (and the pairs total under the listpack safety
// size); the first write breaking a limit converts it, once and for all,
// to the large form.
//
// Large form ("hashtable"): idx maps each field to its index in ents, and
// ents keeps the entries in insertion order, each with a sequence number
// (seq) that strictly increases along the slice. A deletion leaves a
// tombstone in ents; when tombstones outnumber live entries the slice is
// compacted, which keeps the order (and so the seq order) intact. The
// slice gives HRANDFIELD uniform random access and HSCAN a stable
// resumable cursor: a cursor is the seq of the next entry to visit, and a
// compaction or any other change never moves an entry relative to a seq,
// so every field present during a whole scan is returned exactly once.
type Hash struct {
	ents  []hashEntry
	idx   map[string]int // large form only; nil while small
	dead  int            // large form: tombstones in ents
	seq   uint64         // large form: last seq handed out
	bytes int64          // small form: total field and value bytes
}

type hashEntry struct {
	field, value string
	seq          uint64 // large form only
	dead         bool   // large form tombstone
}

// hashListpackSafety is Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never
// grows past 1 GiB; a hash whose pairs would reach it converts.
const hashListpackSafety = 1 << 30

// NewHash returns an empty hash in the small form.
func NewHash() *Hash { return &Hash{} }

// Len is the number of fields.
func (h *Hash) Len() int { return len(h.ents) - h.dead }

// Encoding is the OBJECT ENCODING name: "listpack" or "hashtable".
func (h *Hash) Encoding() string {
	if h.idx == nil {
		return "listpack"
	}
	return "hashtable"
}

// IsListpack reports whether the hash is in the small form.
func (h *Hash) IsListpack() bool { return h.idx == nil }

// Copy returns an independent copy (strings are immutable, so sharing
// them is safe).
func (h *Hash) Copy() any {
	c := &Hash{ents: append([]hashEntry(nil), h.ents...), dead: h.dead, seq: h.seq, bytes: h.bytes}
	if h.idx != nil {
		c.idx = make(map[string]int, len(h.idx))
		for k, v := range h.idx {
			c.idx[k] = v
		}
	}
	return c
}

// find returns the index of field in ents, or -1.
func (h *Hash) find(field []byte) int {
	if h.idx != nil {
		if i, ok := h.idx[string(field)]; ok {
			return i
		}
		return -1
	}
	for i := range h.ents {
		if h.ents[i].field == string(field) {
			return i
		}
	}
	return -1
}

// Get returns the value of field.
func (h *Hash) Get(field []byte) (string, bool) {
	if i := h.find(field); i >= 0 {
		return h.ents[i].value, true
	}
	return "", false
}

// Exists reports whether field is present.
func (h *Hash) Exists(field []byte) bool { return h.find(field) >= 0 }

// Set stores value under field and reports whether the field is new. The
// small form converts first when field or value is longer than maxValue
// (Redis 7.0's hashTypeSet check), and after the insertion when the hash
// has more than maxEntries fields.
func (h *Hash) Set(field, value []byte, maxEntries, maxValue int64) bool {
	if h.idx == nil && (int64(len(field)) > maxValue || int64(len(value)) > maxValue ||
		h.bytes+int64(len(field))+int64(len(value)) > hashListpackSafety) {
		h.convert()
	}
	if i := h.find(field); i >= 0 {
		e := &h.ents[i]
		if h.idx == nil {
			h.bytes += int64(len(value)) - int64(len(e.value))
		}
		e.value = string(value)
		return false
	}
	f := string(field)
	if h.idx == nil {
		h.ents = append(h.ents, hashEntry{field: f, value: string(value)})
		h.bytes += int64(len(field)) + int64(len(value))
		if int64(len(h.ents)) > maxEntries {
			h.convert()
		}
		return true
	}
	h.seq++
	h.idx[f] = len(h.ents)
	h.ents = append(h.ents, hashEntry{field: f, value: string(value), seq: h.seq})
	return true
}

// Delete removes field and reports whether it was present.
func (h *Hash) Delete(field []byte) bool {
	i := h.find(field)
	if i < 0 {
		return false
	}
	if h.idx == nil {
		h.bytes -= int64(len(h.ents[i].field)) + int64(len(h.ents[i].value))
		copy(h.ents[i:], h.ents[i+1:])
		h.ents[len(h.ents)-1] = hashEntry{}
		h.ents = h.ents[:len(h.ents)-1]
		return true
	}
	delete(h.idx, h.ents[i].field)
	h.ents[i] = hashEntry{seq: h.ents[i].seq, dead: true}
	h.dead++
	if h.dead*2 > len(h.ents) {
		h.compact()
	}
	return true
}

// convert switches to the large form, keeping the order.
func (h *Hash) convert() {
	if h.idx != nil {
		return
	}
	h.idx = make(map[string]int, len(h.ents))
	for i := range h.ents {
		h.seq++
		h.ents[i].seq = h.seq
		h.idx[h.ents[i].field] = i
	}
	h.bytes = 0
}

// compact drops the tombstones of the large form, keeping the order.
func (h *Hash) compact() {
	n := 0
	for i := range h.ents {
		if h.ents[i].dead {
			continue
		}
		h.ents[n] = h.ents[i]
		h.idx[h.ents[n].field] = n
		n++
	}
	clear(h.ents[n:])
	h.ents = h.ents[:n]
	h.dead = 0
	if cap(h.ents) > 64 && cap(h.ents) > 4*n {
		h.ents = append([]hashEntry(nil), h.ents...)
	}
}

// Range calls fn for every pair in order (insertion order for the small
// form) until fn returns false.
func (h *Hash) Range(fn func(field, value string) bool) {
	for i := range h.ents {
		if h.ents[i].dead {
			continue
		}
		if !fn(h.ents[i].field, h.ents[i].value) {
			return
		}
	}
}

// Random returns a uniformly chosen pair; the hash must not be empty. rnd
// returns a uniform integer in [0, n).
func (h *Hash) Random(rnd func(n int) int) (field, value string) {
	for {
		// Tombstones are at most half of ents, so this takes two draws on
		// average.
		e := &h.ents[rnd(len(h.ents))]
		if !e.dead {
			return e.field, e.value
		}
	}
}

// RandomUnique calls fn for count distinct pairs chosen uniformly at
// random, 0 < count < Len(). The small form, like Redis's listpack, and the
// large form when count is more than a third of the hash, yield them in
// hash order (selection sampling); otherwise they come in random order.
func (h *Hash) RandomUnique(count int, rnd func(n int) int, fn func(field, value string)) {
	size := h.Len()
	if count <= 0 {
		return
	}
	if h.idx == nil || count*3 > size {
		need, left := count, size
		for i := range h.ents {
			if need == 0 {
				break
			}
			e := &h.ents[i]
			if e.dead {
				continue
			}
			if rnd(left) < need {
				fn(e.field, e.value)
				need--
			}
			left--
		}
		return
	}
	seen := make(map[int]struct{}, count)
	for len(seen) < count {
		i := rnd(len(h.ents))
		if h.ents[i].dead {
			continue
		}
		if _, dup := seen[i]; dup {
			continue
		}
		seen[i] = struct{}{}
		fn(h.ents[i].field, h.ents[i].value)
	}
}

// Scan is one HSCAN step. The small form returns everything and cursor 0,
// as Redis does for a listpack. The large form visits, from cursor on, up
// to count live entries and returns the cursor of the next one, 0 when the
// walk is complete. A cursor is the seq of an entry: entries are kept in
// seq order and new ones get higher seqs, so an entry present during a
// whole scan is visited exactly once, whatever happens in between.
func (h *Hash) Scan(cursor uint64, count int, fn func(field, value string)) uint64 {
	if h.idx == nil {
		for i := range h.ents {
			fn(h.ents[i].field, h.ents[i].value)
		}
		return 0
	}
	i := sort.Search(len(h.ents), func(i int) bool { return h.ents[i].seq >= cursor })
	for seen := 0; i < len(h.ents) && seen < count; i++ {
		e := &h.ents[i]
		if e.dead {
			continue
		}
		fn(e.field, e.value)
		seen++
	}
	// Skip trailing tombstones so that a finished walk reports 0 at once.
	for i < len(h.ents) && h.ents[i].dead {
		i++
	}
	if i >= len(h.ents) {
		return 0
	}
	return h.ents[i].seq
}
