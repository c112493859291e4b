package types

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"strings"
	"unsafe"
)

// ZSet is the value of a sorted set key: Redis's zset, a skiplist ordered
// by (score, member bytes) whose levels carry spans, so that ranks and rank
// ranges are O(log n), plus a hash table from member to skiplist node for
// O(1) score lookups.
//
// The hash table is kvd's own (chained, power-of-two sized) rather than a
// Go map because ZSCAN needs Redis's dictScan cursor: buckets are visited
// in reverse-binary order, which guarantees that a member present during a
// whole scan is returned at least once even if the table grows or shrinks
// between calls.
//
// Encodings: Redis 7.0 keeps small sorted sets in a listpack and converts
// them, one way, to a skiplist. kvd uses the skiplist for both; only the
// name OBJECT ENCODING reports and the few observable listpack traits
// follow Redis:
//   - Grow, called before a new member is inserted, switches to "skiplist"
//     when the set would exceed maxEntries members or the member is longer
//     than maxValue bytes (zset-max-listpack-entries/-value);
//   - a listpack stores scores as text or integers, which loses the sign of
//     zero: -0 is stored as 0 while the set is a listpack;
//   - the lexicographic range searches of a listpack are linear scans from
//     the head (or tail), which matters only for the unspecified case of a
//     lex range over members of different scores;
//   - Scan of a listpack returns everything in one step (cursor 0).
//
// Members are stored as Go strings, immutable once inserted: a member
// string returned by the methods below stays valid (it is never modified),
// and may be stored elsewhere without copying.
type ZSet struct {
	header   *zslNode
	tail     *zslNode
	length   int
	level    int
	table    []*zslNode // hash buckets, len a power of two (nil when empty)
	seed     maphash.Seed
	listpack bool
}

const (
	zslMaxLevel  = 32 // Redis's ZSKIPLIST_MAXLEVEL
	zsetMinTable = 4  // Redis's DICT_HT_INITIAL_SIZE
)

type zslLevel struct {
	forward *zslNode
	span    int // number of level-0 steps this link jumps
}

type zslNode struct {
	score    float64
	member   string
	level    []zslLevel // points into the same allocation (newNode)
	backward *zslNode
	next     *zslNode // hash chain
	hash     uint64
}

// newNode allocates a node and its levels in one block, so that a search
// touches one cache region per node.
func newNode(level int) *zslNode {
	switch {
	case level == 1:
		b := &struct {
			zslNode
			lv [1]zslLevel
		}{}
		b.level = b.lv[:]
		return &b.zslNode
	case level == 2:
		b := &struct {
			zslNode
			lv [2]zslLevel
		}{}
		b.level = b.lv[:]
		return &b.zslNode
	case level <= 4:
		b := &struct {
			zslNode
			lv [4]zslLevel
		}{}
		b.level = b.lv[:level]
		return &b.zslNode
	}
	return &zslNode{level: make([]zslLevel, level)}
}

// NewZSet returns an empty sorted set, in the listpack form when listpack
// is true (a new key) or the skiplist form (results Redis builds as a
// skiplist, see FitListpack).
func NewZSet(listpack bool) *ZSet {
	return &ZSet{header: newNode(1), level: 1, seed: maphash.MakeSeed(), listpack: listpack}
}

// Len is the number of members.
func (z *ZSet) Len() int { return z.length }

// Encoding is the OBJECT ENCODING name: "listpack" or "skiplist".
func (z *ZSet) Encoding() string {
	if z.listpack {
		return "listpack"
	}
	return "skiplist"
}

// IsListpack reports whether the set is in the listpack form.
func (z *ZSet) IsListpack() bool { return z.listpack }

// Copy returns a deep copy in the same form (COPY). Member strings are
// immutable and shared.
func (z *ZSet) Copy() any {
	c := NewZSet(z.listpack)
	c.resize(tableSizeFor(z.length))
	for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
		c.insert(x.member, x.score)
	}
	return c
}

// Grow prepares the insertion of a new member of memberLen bytes: a
// listpack that would exceed maxEntries members, or would receive a member
// longer than maxValue bytes, becomes a skiplist (for good).
func (z *ZSet) Grow(memberLen int, maxEntries, maxValue int64) {
	if z.listpack && (int64(z.length)+1 > maxEntries || int64(memberLen) > maxValue) {
		z.listpack = false
	}
}

// FitListpack turns a skiplist into a listpack when it has at most
// maxEntries members, none longer than maxValue bytes: Redis's
// zsetConvertToListpackIfNeeded, applied to the freshly built results of
// ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE.
func (z *ZSet) FitListpack(maxEntries, maxValue int64) {
	if z.listpack || int64(z.length) > maxEntries {
		return
	}
	for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
		if int64(len(x.member)) > maxValue {
			return
		}
	}
	z.listpack = true
	for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
		if x.score == 0 {
			x.score = 0 // a listpack has no negative zero
		}
	}
}

// Score returns the score of member.
func (z *ZSet) Score(member []byte) (float64, bool) {
	if n := z.find(member); n != nil {
		return n.score, true
	}
	return 0, false
}

// Insert adds member, which must not be in the set, with score (not NaN).
// The bytes are copied.
func (z *ZSet) Insert(member []byte, score float64) {
	z.insert(string(member), score)
}

// InsertString is Insert for a member already held as an immutable string
// (for instance one returned by another ZSet): the string is shared.
func (z *ZSet) InsertString(member string, score float64) {
	z.insert(member, score)
}

// SetScore changes the score of member, which must be in the set.
func (z *ZSet) SetScore(member []byte, score float64) {
	n := z.find(member)
	if z.listpack && score == 0 {
		score = 0
	}
	if n.score == score {
		return
	}
	// Redis's zslUpdateScore: in place when the node keeps its position.
	back, fwd := n.backward, n.level[0].forward
	if (back == nil || back.score < score || (back.score == score && back.member < n.member)) &&
		(fwd == nil || fwd.score > score || (fwd.score == score && fwd.member > n.member)) {
		n.score = score
		return
	}
	m := n.member
	z.slDelete(n.score, m)
	z.tableRemove(n)
	z.insert(m, score)
}

// Delete removes member and reports whether it was in the set.
func (z *ZSet) Delete(member []byte) bool {
	n := z.find(member)
	if n == nil {
		return false
	}
	z.slDelete(n.score, n.member)
	z.tableRemove(n)
	return true
}

// Rank returns the 0-based position of member in ascending order.
func (z *ZSet) Rank(member []byte) (int, bool) {
	n := z.find(member)
	if n == nil {
		return 0, false
	}
	return z.rankOf(n.score, n.member) - 1, true
}

// At returns the member and score at 0-based position rank
// (0 <= rank < Len()).
func (z *ZSet) At(rank int) (string, float64) {
	n := z.nodeByRank(rank + 1)
	return n.member, n.score
}

// Walk calls fn for the members from 0-based position start on, in
// ascending order or, with rev, descending, until fn returns false or the
// set ends. fn must not modify the set.
func (z *ZSet) Walk(start int, rev bool, fn func(member string, score float64) bool) {
	if start < 0 || start >= z.length {
		return
	}
	var n *zslNode
	switch {
	case start == 0:
		n = z.header.level[0].forward
	case start == z.length-1:
		n = z.tail
	default:
		n = z.nodeByRank(start + 1)
	}
	for n != nil && fn(n.member, n.score) {
		if rev {
			n = n.backward
		} else {
			n = n.level[0].forward
		}
	}
}

// Scan is one step of ZSCAN, Redis's scanGenericCommand over the set: a
// listpack is returned whole (cursor 0, whatever the cursor given); a
// skiplist is visited through its hash table with dictScan's reverse-binary
// cursor, bucket by bucket, until count members were returned, the scan
// completed (0 is returned) or count*20 buckets were visited (Redis's
// maxiterations, for sparse tables).
func (z *ZSet) Scan(cursor uint64, count int, fn func(member string, score float64)) uint64 {
	if z.listpack || z.length == 0 {
		for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
			fn(x.member, x.score)
		}
		return 0
	}
	emitted := 0
	maxIter := count * 20
	for {
		mask := uint64(len(z.table) - 1)
		for n := z.table[cursor&mask]; n != nil; n = n.next {
			fn(n.member, n.score)
			emitted++
		}
		cursor |= ^mask
		cursor = bits.Reverse64(bits.Reverse64(cursor) + 1)
		if cursor == 0 || maxIter == 0 || emitted >= count {
			return cursor
		}
		maxIter--
	}
}

// ---- score and lex ranges ----

// ScoreRange is a score interval, Redis's zrangespec: Min and Max with
// exclusive flags.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

// GteMin reports whether v is above the lower bound.
func (r *ScoreRange) GteMin(v float64) bool {
	if r.MinEx {
		return v > r.Min
	}
	return v >= r.Min
}

// LteMax reports whether v is below the upper bound.
func (r *ScoreRange) LteMax(v float64) bool {
	if r.MaxEx {
		return v < r.Max
	}
	return v <= r.Max
}

// LexBound is one end of a lexicographic range: "-" (Inf -1, below every
// member), "+" (Inf +1, above every member), or a member value, inclusive
// ("[v") or exclusive ("(v", Ex).
type LexBound struct {
	Value string
	Inf   int8
	Ex    bool
}

// LexRange is Redis's zlexrangespec.
type LexRange struct{ Min, Max LexBound }

// lexCmp compares member m with bound b as Redis's sdscmplex.
func lexCmp(m string, b *LexBound) int {
	switch b.Inf {
	case -1:
		return 1
	case 1:
		return -1
	}
	return strings.Compare(m, b.Value)
}

// GteMin reports whether member m is above the lower bound.
func (r *LexRange) GteMin(m string) bool {
	c := lexCmp(m, &r.Min)
	if r.Min.Ex {
		return c > 0
	}
	return c >= 0
}

// LteMax reports whether member m is below the upper bound.
func (r *LexRange) LteMax(m string) bool {
	c := lexCmp(m, &r.Max)
	if r.Max.Ex {
		return c < 0
	}
	return c <= 0
}

// empty reports a range that can contain nothing (sdscmplex(min, max)).
func (r *LexRange) empty() bool {
	a, b := &r.Min, &r.Max
	var c int
	switch {
	case a.Inf != 0 && a.Inf == b.Inf:
		c = 0
	case a.Inf == -1 || b.Inf == 1:
		c = -1
	case a.Inf == 1 || b.Inf == -1:
		c = 1
	default:
		c = strings.Compare(a.Value, b.Value)
	}
	return c > 0 || (c == 0 && (a.Ex || b.Ex))
}

func (r *ScoreRange) empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// inScoreRange is zslIsInRange: whether some part of the set may be in r.
func (z *ZSet) inScoreRange(r *ScoreRange) bool {
	if r.empty() || z.tail == nil || !r.GteMin(z.tail.score) {
		return false
	}
	return r.LteMax(z.header.level[0].forward.score)
}

// lastWhile walks the skip list from the head past every node for which
// before holds (it must hold for a prefix of the list) and returns the last
// such node (the header when none) and its 1-based rank: the descent of
// Redis's zslFirstInRange/zslLastInRange and their lex twins.
func (z *ZSet) lastWhile(before func(n *zslNode) bool) (*zslNode, int) {
	x, rank := z.header, 0
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && before(f); f = x.level[i].forward {
			rank += x.level[i].span
			x = f
		}
	}
	return x, rank
}

// FirstInScoreRange returns the 0-based position of the first member whose
// score is in r, or -1.
func (z *ZSet) FirstInScoreRange(r ScoreRange) int {
	if !z.inScoreRange(&r) {
		return -1
	}
	x, rank := z.lastWhile(func(n *zslNode) bool { return !r.GteMin(n.score) })
	x = x.level[0].forward
	if x == nil || !r.LteMax(x.score) {
		return -1
	}
	return rank
}

// LastInScoreRange returns the 0-based position of the last member whose
// score is in r, or -1.
func (z *ZSet) LastInScoreRange(r ScoreRange) int {
	if !z.inScoreRange(&r) {
		return -1
	}
	x, rank := z.lastWhile(func(n *zslNode) bool { return r.LteMax(n.score) })
	if x == z.header || !r.GteMin(x.score) {
		return -1
	}
	return rank - 1
}

// inLexRange is zslIsInLexRange.
func (z *ZSet) inLexRange(r *LexRange) bool {
	if r.empty() || z.tail == nil || !r.GteMin(z.tail.member) {
		return false
	}
	return r.LteMax(z.header.level[0].forward.member)
}

// FirstInLexRange returns the 0-based position of the first member in r,
// or -1. Lex ranges assume members of equal scores, as in Redis; otherwise
// the result is what Redis's search of the same encoding gives.
func (z *ZSet) FirstInLexRange(r LexRange) int {
	if !z.inLexRange(&r) {
		return -1
	}
	if z.listpack {
		rank := 0
		for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
			if r.GteMin(x.member) {
				if r.LteMax(x.member) {
					return rank
				}
				return -1
			}
			rank++
		}
		return -1
	}
	x, rank := z.lastWhile(func(n *zslNode) bool { return !r.GteMin(n.member) })
	x = x.level[0].forward
	if x == nil || !r.LteMax(x.member) {
		return -1
	}
	return rank
}

// LastInLexRange returns the 0-based position of the last member in r, or
// -1 (see FirstInLexRange).
func (z *ZSet) LastInLexRange(r LexRange) int {
	if !z.inLexRange(&r) {
		return -1
	}
	if z.listpack {
		rank := z.length - 1
		for x := z.tail; x != nil; x = x.backward {
			if r.LteMax(x.member) {
				if r.GteMin(x.member) {
					return rank
				}
				return -1
			}
			rank--
		}
		return -1
	}
	x, rank := z.lastWhile(func(n *zslNode) bool { return r.LteMax(n.member) })
	if x == z.header || !r.GteMin(x.member) {
		return -1
	}
	return rank - 1
}

// DeleteRangeByRank removes the members at 0-based positions start..end
// (inclusive, 0 <= start <= end < Len()) and returns how many it removed.
func (z *ZSet) DeleteRangeByRank(start, end int) int {
	var update [zslMaxLevel]*zslNode
	first, last := start+1, end+1 // 1-based, as zslDeleteRangeByRank
	traversed := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span < first {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	traversed++
	x = x.level[0].forward
	removed := 0
	for x != nil && traversed <= last {
		next := x.level[0].forward
		z.deleteNode(x, &update)
		z.tableRemove(x)
		removed++
		traversed++
		x = next
	}
	return removed
}

// DeleteRangeByScore removes the members whose score is in r and returns
// how many it removed.
func (z *ZSet) DeleteRangeByScore(r ScoreRange) int {
	var update [zslMaxLevel]*zslNode
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !r.GteMin(f.score); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	removed := 0
	for x != nil && r.LteMax(x.score) {
		next := x.level[0].forward
		z.deleteNode(x, &update)
		z.tableRemove(x)
		removed++
		x = next
	}
	return removed
}

// DeleteRangeByLex removes the members in r and returns how many it
// removed (see FirstInLexRange for members of different scores).
func (z *ZSet) DeleteRangeByLex(r LexRange) int {
	var update [zslMaxLevel]*zslNode
	var x *zslNode
	if z.listpack {
		// zzlDeleteRangeByLex: from the first member in range on.
		first := z.FirstInLexRange(r)
		if first < 0 {
			return 0
		}
		x = z.pathToRank(first+1, &update)
	} else {
		x = z.header
		for i := z.level - 1; i >= 0; i-- {
			for f := x.level[i].forward; f != nil && !r.GteMin(f.member); f = x.level[i].forward {
				x = f
			}
			update[i] = x
		}
		x = x.level[0].forward
	}
	removed := 0
	for x != nil && r.LteMax(x.member) {
		next := x.level[0].forward
		z.deleteNode(x, &update)
		z.tableRemove(x)
		removed++
		x = next
	}
	return removed
}

// pathToRank fills update with the nodes preceding 1-based position rank
// at every level and returns the node at rank.
func (z *ZSet) pathToRank(rank int, update *[zslMaxLevel]*zslNode) *zslNode {
	traversed := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span < rank {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	return x.level[0].forward
}

// ---- skiplist ----

// randomLevel returns a level in 1..32 with P(level > k) = 1/4^k, Redis's
// zslRandomLevel with ZSKIPLIST_P 0.25.
func randomLevel() int {
	l := 1 + bits.TrailingZeros64(rand.Uint64())/2
	return min(l, zslMaxLevel)
}

// insert adds a member known to be absent.
func (z *ZSet) insert(member string, score float64) {
	if z.listpack && score == 0 {
		score = 0 // a listpack has no negative zero
	}
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		if i < z.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member < member)); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	level := randomLevel()
	if level > z.level {
		if len(z.header.level) < level {
			hl := make([]zslLevel, level)
			copy(hl, z.header.level)
			z.header.level = hl
		}
		for i := z.level; i < level; i++ {
			rank[i] = 0
			update[i] = z.header
			z.header.level[i] = zslLevel{span: z.length}
		}
		z.level = level
	}
	n := newNode(level)
	n.member, n.score = member, score
	for i := 0; i < level; i++ {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := level; i < z.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != z.header {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		z.tail = n
	}
	z.length++
	z.tableAdd(n)
}

// deleteNode unlinks x given the nodes preceding it at every level
// (zslDeleteNode). The hash table is not touched.
func (z *ZSet) deleteNode(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < z.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.header.level[z.level-1].forward == nil {
		z.level--
	}
	z.length--
}

// slDelete unlinks the node of (score, member) from the skiplist.
func (z *ZSet) slDelete(score float64, member string) {
	var update [zslMaxLevel]*zslNode
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member < member)); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x != nil && x.score == score && x.member == member {
		z.deleteNode(x, &update)
	}
}

// rankOf returns the 1-based rank of (score, member), 0 when absent
// (zslGetRank).
func (z *ZSet) rankOf(score float64, member string) int {
	rank := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member <= member)); f = x.level[i].forward {
			rank += x.level[i].span
			x = f
		}
		if x != z.header && x.member == member {
			return rank
		}
	}
	return 0
}

// nodeByRank returns the node at 1-based rank (zslGetElementByRank).
func (z *ZSet) nodeByRank(rank int) *zslNode {
	traversed := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= rank {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == rank {
			return x
		}
	}
	return nil
}

// ---- hash table ----

func tableSizeFor(n int) int {
	size := zsetMinTable
	for size < n {
		size *= 2
	}
	return size
}

func (z *ZSet) find(member []byte) *zslNode {
	if z.length == 0 {
		return nil
	}
	h := maphash.Bytes(z.seed, member)
	for n := z.table[h&uint64(len(z.table)-1)]; n != nil; n = n.next {
		if n.hash == h && n.member == unsafe.String(unsafe.SliceData(member), len(member)) {
			return n
		}
	}
	return nil
}

// tableAdd links n (already counted in z.length) into the hash table,
// doubling the table when it is full.
func (z *ZSet) tableAdd(n *zslNode) {
	if z.length > len(z.table) {
		z.resize(tableSizeFor(z.length))
	}
	n.hash = maphash.String(z.seed, n.member)
	b := &z.table[n.hash&uint64(len(z.table)-1)]
	n.next = *b
	*b = n
}

// tableRemove unlinks n (already uncounted from z.length), shrinking the
// table when it is less than 1/8 full.
func (z *ZSet) tableRemove(n *zslNode) {
	b := &z.table[n.hash&uint64(len(z.table)-1)]
	for *b != n {
		b = &(*b).next
	}
	*b = n.next
	n.next = nil
	switch {
	case z.length == 0:
		z.table = nil
	case len(z.table) > zsetMinTable && z.length*8 < len(z.table):
		z.resize(tableSizeFor(2 * z.length))
	}
}

// resize rehashes every node into a table of size buckets.
func (z *ZSet) resize(size int) {
	if size == len(z.table) {
		return
	}
	old := z.table
	z.table = make([]*zslNode, size)
	mask := uint64(size - 1)
	for _, n := range old {
		for n != nil {
			next := n.next
			b := &z.table[n.hash&mask]
			n.next = *b
			*b = n
			n = next
		}
	}
}
