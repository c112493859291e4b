package types

import (
	"slices"
	"strconv"
	"unsafe"

	"github.com/kvd/kvd/proto"
)

// Set is the value of a set key, in one of Redis 7.0's two encodings:
//
//   - "intset": a sorted []int64, while every member is a canonical int64
//     (Redis's string2ll: no '+', no leading zeros, no spaces) and there
//     are at most maxIntset members. Members are visited in ascending
//     order, as Redis's intset.
//   - "hashtable": every member in a dense slice, plus a map from member to
//     its position. Adding appends; removing moves the last member into the
//     hole. Lookups, additions, removals and fair random picks are O(1), and
//     a position is a stable handle for random access and for Scan's cursor.
//
// The conversion is one-way, as in Redis: a hashtable never becomes an
// intset again, even when its members would fit one.
//
// Positions: Member and RemoveAt address members by position 0..Len()-1,
// which is the order Redis iterates them in (ascending for an intset,
// arbitrary but stable between modifications for a hashtable).
type Set struct {
	ints    []int64        // intset form (index == nil)
	members []string       // hashtable form
	index   map[string]int // hashtable form: member -> position in members
}

// setIntsetCap is Redis's 1G-entry cap on set-max-intset-entries.
const setIntsetCap = 1 << 30

// NewSet returns an empty set in the intset form.
func NewSet() *Set { return &Set{} }

// Len is the number of members.
func (s *Set) Len() int {
	if s.index != nil {
		return len(s.members)
	}
	return len(s.ints)
}

// IsIntset reports whether the set is in the intset form.
func (s *Set) IsIntset() bool { return s.index == nil }

// Encoding is the OBJECT ENCODING name: "intset" or "hashtable".
func (s *Set) Encoding() string {
	if s.index != nil {
		return "hashtable"
	}
	return "intset"
}

// Copy returns a deep copy in the same encoding (COPY). Member strings are
// immutable and therefore shared.
func (s *Set) Copy() any {
	n := &Set{}
	if s.index == nil {
		n.ints = slices.Clone(s.ints)
		return n
	}
	n.members = slices.Clone(s.members)
	n.index = make(map[string]int, len(s.members))
	for i, m := range n.members {
		n.index[m] = i
	}
	return n
}

// Add inserts member and reports whether it was new. maxIntset is
// set-max-intset-entries: an intset that would exceed it, or that receives
// a member that is not a canonical integer, becomes a hashtable.
func (s *Set) Add(member []byte, maxIntset int64) bool {
	if s.index == nil {
		v, ok := proto.ParseInt(member)
		if ok {
			i, found := slices.BinarySearch(s.ints, v)
			if found {
				return false
			}
			s.ints = slices.Insert(s.ints, i, v)
			if int64(len(s.ints)) > min(maxIntset, setIntsetCap) {
				s.toHashtable(0)
			}
			return true
		}
		s.toHashtable(1)
	} else if _, found := s.index[string(member)]; found {
		return false
	}
	m := string(member)
	s.index[m] = len(s.members)
	s.members = append(s.members, m)
	return true
}

// toHashtable converts the intset form, with room for extra more members.
func (s *Set) toHashtable(extra int) {
	s.members = make([]string, len(s.ints), len(s.ints)+extra)
	s.index = make(map[string]int, len(s.ints)+extra)
	for i, v := range s.ints {
		m := strconv.FormatInt(v, 10)
		s.members[i] = m
		s.index[m] = i
	}
	s.ints = nil
}

// Has reports whether member belongs to the set.
func (s *Set) Has(member []byte) bool {
	if s.index != nil {
		_, ok := s.index[string(member)]
		return ok
	}
	v, ok := proto.ParseInt(member)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(s.ints, v)
	return found
}

// Remove deletes member and reports whether it was there.
func (s *Set) Remove(member []byte) bool {
	if s.index != nil {
		i, ok := s.index[string(member)]
		if !ok {
			return false
		}
		s.RemoveAt(i)
		return true
	}
	v, ok := proto.ParseInt(member)
	if !ok {
		return false
	}
	i, found := slices.BinarySearch(s.ints, v)
	if !found {
		return false
	}
	s.ints = slices.Delete(s.ints, i, i+1)
	return true
}

// Member returns the member at position i (0 <= i < Len()). An intset
// member is formatted into buf (which may be nil); a hashtable member is
// returned without copying. Either way the bytes are read-only and valid
// only until the next modification of the set or reuse of buf.
func (s *Set) Member(i int, buf []byte) []byte {
	if s.index != nil {
		m := s.members[i]
		return unsafe.Slice(unsafe.StringData(m), len(m))
	}
	return strconv.AppendInt(buf[:0], s.ints[i], 10)
}

// Int returns the member at position i of an intset as an integer; ok is
// false for a hashtable.
func (s *Set) Int(i int) (v int64, ok bool) {
	if s.index != nil {
		return 0, false
	}
	return s.ints[i], true
}

// RemoveAt deletes the member at position i (0 <= i < Len()). In a
// hashtable the last member moves to position i.
func (s *Set) RemoveAt(i int) {
	if s.index == nil {
		s.ints = slices.Delete(s.ints, i, i+1)
		return
	}
	last := len(s.members) - 1
	delete(s.index, s.members[i])
	if i != last {
		m := s.members[last]
		s.members[i] = m
		s.index[m] = i
	}
	s.members[last] = ""
	s.members = s.members[:last]
	if cap(s.members) > 64 && len(s.members) < cap(s.members)/4 {
		s.members = slices.Clip(slices.Clone(s.members))
	}
}

// Scan is one step of SSCAN. It calls fn for the members it visits and
// returns the cursor of the next step, 0 when the scan is complete.
//
// An intset is visited whole in one step (cursor 0), as Redis does for
// every non-hashtable encoding.
//
// A hashtable is visited by position, from the last position down: the
// cursor is the number of positions still to visit (0 starts a scan at
// Len(), and a cursor beyond Len() is clamped to it), and each step visits
// count positions. Members only ever move down (removal moves the last
// member into the hole; additions append at the top), so a member present
// for the whole scan, being at a position below the cursor until it is
// visited, is returned at least once: a member can move from the visited
// region into the unvisited one (and be returned twice), never the other
// way. Members added during the scan may or may not be returned.
func (s *Set) Scan(cursor uint64, count int, fn func(member []byte)) uint64 {
	if s.index == nil {
		var buf [24]byte
		for _, v := range s.ints {
			fn(strconv.AppendInt(buf[:0], v, 10))
		}
		return 0
	}
	c := uint64(len(s.members))
	if cursor != 0 && cursor < c {
		c = cursor
	}
	for ; count > 0 && c > 0; count-- {
		c--
		m := s.members[c]
		fn(unsafe.Slice(unsafe.StringData(m), len(m)))
	}
	return c
}
