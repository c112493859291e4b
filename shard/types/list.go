package types

// List is the value of a list key: a double-ended queue of strings with
// O(1) push and pop at both ends, O(1) access by index and O(n) insertion
// and removal in the middle (moving the shorter side).
//
// Layout. Small lists (up to listBlockSize elements) live in one ring
// buffer whose capacity is a power of two. Larger lists are chunked, like
// Redis's quicklist: a ring of fixed-size blocks of listBlockSize slots,
// the first block used from slot head on, every block full but the first
// and the last. Element i is therefore found by arithmetic (block
// (head+i)/B, slot (head+i)%B) whatever the list's size, growing never
// copies the elements (only the small ring of block pointers), and the
// memory of popped blocks is released as the list shrinks. A list that
// shrinks well below a block goes back to the small form.
//
// Elements are stored as Go strings: storing copies the caller's bytes
// once, and the strings handed out stay valid forever (they are
// immutable), so a popped element can be pushed to another list or
// written to a reply without another copy. Copy shares the strings and
// copies only the slots.
//
// Indexes taken by the methods are 0-based from the head; Index and Set
// also accept Redis's negative indexes (-1 is the last element).
type List struct {
	// Small form (blocks == nil): the ring sm, len(sm) a power of two
	// (or 0 for an empty list), elements at sm[(head+i)&(len(sm)-1)].
	sm []string

	// Chunked form: blocks is a ring (length a power of two) of which nb
	// entries from first are in use; element i is in block
	// (head+i)>>listBlockShift after first, slot (head+i)&listBlockMask.
	blocks []*listBlock
	first  int
	nb     int
	spare  *listBlock // one emptied block kept to avoid churn at a boundary

	head int // small form: ring index of element 0; chunked: slot in the first block
	n    int
}

const (
	listBlockShift = 7
	listBlockSize  = 1 << listBlockShift // slots per block (and the small form's limit)
	listBlockMask  = listBlockSize - 1
	// A chunked list falling to this many elements goes back to the
	// small form (hysteresis: it becomes chunked again above listBlockSize).
	listShrinkAt = listBlockSize / 4
	listSmallMin = 4 // smallest capacity of the small ring
)

type listBlock [listBlockSize]string

// NewList returns an empty list.
func NewList() *List { return &List{} }

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// Encoding is OBJECT ENCODING's name: Redis 7.0 stores every list as a
// quicklist.
func (l *List) Encoding() string { return "quicklist" }

// Copy returns a deep copy (COPY): the elements are immutable strings, so
// the copy shares them and owns every slot.
func (l *List) Copy() any {
	c := &List{}
	if l.n == 0 {
		return c
	}
	if l.n <= listBlockSize {
		c.sm = make([]string, listSmallCap(l.n))
		l.copyTo(c.sm)
		c.n = l.n
		return c
	}
	c.blocks = make([]*listBlock, len(l.blocks))
	c.nb, c.head, c.n = l.nb, l.head, l.n
	mask := len(l.blocks) - 1
	for b := 0; b < l.nb; b++ {
		nbk := new(listBlock)
		*nbk = *l.blocks[(l.first+b)&mask]
		c.blocks[b] = nbk
	}
	return c
}

// listSmallCap is the small ring's capacity for n elements.
func listSmallCap(n int) int {
	c := listSmallMin
	for c < n {
		c <<= 1
	}
	return c
}

// slot returns the address of element i (0 <= i < Len()).
func (l *List) slot(i int) *string {
	if l.blocks == nil {
		return &l.sm[(l.head+i)&(len(l.sm)-1)]
	}
	p := l.head + i
	return &l.blocks[(l.first+p>>listBlockShift)&(len(l.blocks)-1)][p&listBlockMask]
}

// copyTo copies the elements, in order, to the start of dst (which must
// hold Len() strings).
func (l *List) copyTo(dst []string) {
	if l.blocks == nil {
		mask := len(l.sm) - 1
		for i := 0; i < l.n; i++ {
			dst[i] = l.sm[(l.head+i)&mask]
		}
		return
	}
	i := 0
	l.walk(0, l.n, func(seg []string) bool {
		i += copy(dst[i:], seg)
		return true
	})
}

// walk calls fn with the consecutive segments of storage holding elements
// [from, to), in order, until fn returns false.
func (l *List) walk(from, to int, fn func(seg []string) bool) {
	if from >= to {
		return
	}
	if l.blocks == nil {
		size := len(l.sm)
		a := (l.head + from) & (size - 1)
		cnt := to - from
		if a+cnt <= size {
			fn(l.sm[a : a+cnt])
			return
		}
		if fn(l.sm[a:]) {
			fn(l.sm[:a+cnt-size])
		}
		return
	}
	mask := len(l.blocks) - 1
	p, end := l.head+from, l.head+to
	for p < end {
		b := l.blocks[(l.first+p>>listBlockShift)&mask]
		s := p & listBlockMask
		e := min(listBlockSize, s+end-p)
		if !fn(b[s:e]) {
			return
		}
		p += e - s
	}
}

// walkBack is walk from the tail: the segments of [from, to) last first
// (each segment itself in storage order), until fn returns false.
func (l *List) walkBack(from, to int, fn func(seg []string) bool) {
	if from >= to {
		return
	}
	if l.blocks == nil {
		size := len(l.sm)
		a := (l.head + from) & (size - 1)
		cnt := to - from
		if a+cnt <= size {
			fn(l.sm[a : a+cnt])
			return
		}
		if fn(l.sm[:a+cnt-size]) {
			fn(l.sm[a:])
		}
		return
	}
	mask := len(l.blocks) - 1
	p, start := l.head+to, l.head+from // p is exclusive
	for p > start {
		last := p - 1
		b := l.blocks[(l.first+last>>listBlockShift)&mask]
		e := last&listBlockMask + 1
		s := max(0, e-(p-start))
		if !fn(b[s:e]) {
			return
		}
		p -= e - s
	}
}

// ---- growing and shrinking at the ends ----

// toChunked converts a full small list to the chunked form.
func (l *List) toChunked() {
	blk := new(listBlock)
	l.copyTo(blk[:l.n])
	l.blocks = make([]*listBlock, 4)
	l.blocks[0] = blk
	l.first, l.nb, l.head = 0, 1, 0
	l.sm = nil
}

// toSmall converts a chunked list of few elements back to the small form.
func (l *List) toSmall() {
	sm := make([]string, listSmallCap(l.n))
	l.copyTo(sm)
	*l = List{sm: sm, n: l.n}
}

// newBlock returns an empty block, reusing the spare one when there is one.
func (l *List) newBlock() *listBlock {
	if b := l.spare; b != nil {
		l.spare = nil
		return b
	}
	return new(listBlock)
}

// freeBlock releases an emptied block (its slots already cleared).
func (l *List) freeBlock(b *listBlock) {
	if l.spare == nil {
		l.spare = b
	}
}

// growRing doubles the ring of block pointers, keeping the order.
func (l *List) growRing() {
	nr := make([]*listBlock, 2*len(l.blocks))
	mask := len(l.blocks) - 1
	for b := 0; b < l.nb; b++ {
		nr[b] = l.blocks[(l.first+b)&mask]
	}
	l.blocks, l.first = nr, 0
}

// growSmall makes room in the small ring for one more element; it reports
// false when the list must become chunked instead.
func (l *List) growSmall() bool {
	if l.n < len(l.sm) {
		return true
	}
	if l.n >= listBlockSize {
		return false
	}
	nsm := make([]string, listSmallCap(l.n+1))
	l.copyTo(nsm)
	l.sm, l.head = nsm, 0
	return true
}

// pushBack appends s.
func (l *List) pushBack(s string) {
	if l.blocks == nil {
		if l.growSmall() {
			l.sm[(l.head+l.n)&(len(l.sm)-1)] = s
			l.n++
			return
		}
		l.toChunked()
	}
	p := l.head + l.n
	if p>>listBlockShift == l.nb {
		if l.nb == len(l.blocks) {
			l.growRing()
		}
		l.blocks[(l.first+l.nb)&(len(l.blocks)-1)] = l.newBlock()
		l.nb++
	}
	l.blocks[(l.first+p>>listBlockShift)&(len(l.blocks)-1)][p&listBlockMask] = s
	l.n++
}

// pushFront prepends s.
func (l *List) pushFront(s string) {
	if l.blocks == nil {
		if l.growSmall() {
			l.head = (l.head - 1) & (len(l.sm) - 1)
			l.sm[l.head] = s
			l.n++
			return
		}
		l.toChunked()
	}
	if l.head == 0 {
		if l.nb == len(l.blocks) {
			l.growRing()
		}
		l.first = (l.first - 1) & (len(l.blocks) - 1)
		l.blocks[l.first] = l.newBlock()
		l.nb++
		l.head = listBlockSize
	}
	l.head--
	l.blocks[l.first][l.head] = s
	l.n++
}

// popFront removes and returns the first element (the list is not empty).
func (l *List) popFront() string {
	p := l.slot(0)
	s := *p
	*p = ""
	l.n--
	if l.blocks == nil {
		l.head = (l.head + 1) & (len(l.sm) - 1)
		l.shrinkSmall()
		return s
	}
	l.head++
	if l.head == listBlockSize {
		l.freeBlock(l.blocks[l.first])
		l.blocks[l.first] = nil
		l.first = (l.first + 1) & (len(l.blocks) - 1)
		l.nb--
		l.head = 0
	}
	l.afterShrink()
	return s
}

// popBack removes and returns the last element (the list is not empty).
func (l *List) popBack() string {
	p := l.slot(l.n - 1)
	s := *p
	*p = ""
	l.n--
	if l.blocks == nil {
		l.shrinkSmall()
		return s
	}
	if used := (l.head + l.n + listBlockMask) >> listBlockShift; used < l.nb {
		i := (l.first + l.nb - 1) & (len(l.blocks) - 1)
		l.freeBlock(l.blocks[i])
		l.blocks[i] = nil
		l.nb--
	}
	l.afterShrink()
	return s
}

// shrinkSmall halves the small ring when it became mostly unused (and
// drops it when the list is empty).
func (l *List) shrinkSmall() {
	switch {
	case l.n == 0:
		l.sm, l.head = nil, 0
	case len(l.sm) > 2*listSmallMin && l.n < len(l.sm)/4:
		sm := make([]string, len(l.sm)/2)
		l.copyTo(sm)
		l.sm, l.head = sm, 0
	}
}

// afterShrink returns a chunked list that became small to the small form,
// and halves a ring of block pointers that became mostly unused.
func (l *List) afterShrink() {
	if l.n <= listShrinkAt {
		l.toSmall()
		return
	}
	if len(l.blocks) > 16 && l.nb < len(l.blocks)/4 {
		nr := make([]*listBlock, len(l.blocks)/2)
		mask := len(l.blocks) - 1
		for b := 0; b < l.nb; b++ {
			nr[b] = l.blocks[(l.first+b)&mask]
		}
		l.blocks, l.first = nr, 0
	}
}

// ---- public API ----

// PushBack appends a copy of v (RPUSH).
func (l *List) PushBack(v []byte) { l.pushBack(string(v)) }

// PushFront prepends a copy of v (LPUSH).
func (l *List) PushFront(v []byte) { l.pushFront(string(v)) }

// PushBackString appends s without copying it (moving an element popped
// from another list).
func (l *List) PushBackString(s string) { l.pushBack(s) }

// PushFrontString prepends s without copying it.
func (l *List) PushFrontString(s string) { l.pushFront(s) }

// PopFront removes and returns the first element; ok is false when the
// list is empty.
func (l *List) PopFront() (s string, ok bool) {
	if l.n == 0 {
		return "", false
	}
	return l.popFront(), true
}

// PopBack removes and returns the last element; ok is false when the list
// is empty.
func (l *List) PopBack() (s string, ok bool) {
	if l.n == 0 {
		return "", false
	}
	return l.popBack(), true
}

// Front returns the first element without removing it.
func (l *List) Front() (string, bool) { return l.Index(0) }

// Back returns the last element without removing it.
func (l *List) Back() (string, bool) { return l.Index(-1) }

// normIndex converts a Redis index (negative counts from the tail) to a
// position, reporting false when it is out of range.
func (l *List) normIndex(i int) (int, bool) {
	if i < 0 {
		i += l.n
	}
	if i < 0 || i >= l.n {
		return 0, false
	}
	return i, true
}

// Index returns element i (negative: from the tail, -1 is the last);
// ok is false when i is out of range (LINDEX).
func (l *List) Index(i int) (string, bool) {
	i, ok := l.normIndex(i)
	if !ok {
		return "", false
	}
	return *l.slot(i), true
}

// Set replaces element i (negative: from the tail) with a copy of v and
// reports false when i is out of range (LSET).
func (l *List) Set(i int, v []byte) bool {
	i, ok := l.normIndex(i)
	if !ok {
		return false
	}
	*l.slot(i) = string(v)
	return true
}

// Range calls fn with the elements from index start to stop, both
// inclusive and within [0, Len()), in order; reverse goes from stop down to
// start. Nothing is called when start > stop.
func (l *List) Range(start, stop int, reverse bool, fn func(s string)) {
	start, stop = max(start, 0), min(stop, l.n-1)
	if start > stop {
		return
	}
	if !reverse {
		l.walk(start, stop+1, func(seg []string) bool {
			for _, s := range seg {
				fn(s)
			}
			return true
		})
		return
	}
	l.walkBack(start, stop+1, func(seg []string) bool {
		for j := len(seg) - 1; j >= 0; j-- {
			fn(seg[j])
		}
		return true
	})
}

// Each calls fn with every element and its index from the head, starting
// at the head (or at the tail when reverse), until fn returns false.
func (l *List) Each(reverse bool, fn func(i int, s string) bool) {
	if !reverse {
		i := 0
		l.walk(0, l.n, func(seg []string) bool {
			for _, s := range seg {
				if !fn(i, s) {
					return false
				}
				i++
			}
			return true
		})
		return
	}
	i := l.n - 1
	l.walkBack(0, l.n, func(seg []string) bool {
		for j := len(seg) - 1; j >= 0; j-- {
			if !fn(i, seg[j]) {
				return false
			}
			i--
		}
		return true
	})
}

// Values returns a copy of every element, head first.
func (l *List) Values() []string {
	out := make([]string, l.n)
	l.copyTo(out)
	return out
}

// DropFront removes the first k elements (all of them when k >= Len()).
func (l *List) DropFront(k int) {
	k = min(k, l.n)
	if k == l.n {
		l.Clear()
		return
	}
	for ; k > 0; k-- {
		l.popFront()
	}
}

// DropBack removes the last k elements (all of them when k >= Len()).
func (l *List) DropBack(k int) {
	k = min(k, l.n)
	if k == l.n {
		l.Clear()
		return
	}
	for ; k > 0; k-- {
		l.popBack()
	}
}

// Clear removes every element.
func (l *List) Clear() { *l = List{} }

// Trim keeps only the elements from index start to stop, both inclusive
// and already normalized (LTRIM); an empty range empties the list.
func (l *List) Trim(start, stop int) {
	start, stop = max(start, 0), min(stop, l.n-1)
	if start > stop {
		l.Clear()
		return
	}
	l.DropBack(l.n - 1 - stop)
	l.DropFront(start)
}

// InsertAt inserts a copy of v before position i (0 <= i <= Len()):
// InsertAt(Len(), v) appends. The shorter side of the list moves.
func (l *List) InsertAt(i int, v []byte) {
	s := string(v)
	switch {
	case i <= 0:
		l.pushFront(s)
	case i >= l.n:
		l.pushBack(s)
	case i < l.n/2:
		l.pushFront("")
		l.move(0, 1, i) // elements 1..i move to 0..i-1
		*l.slot(i) = s
	default:
		l.pushBack("")
		l.move(i+1, i, l.n-1-i) // elements i..n-2 move to i+1..n-1
		*l.slot(i) = s
	}
}

// move copies cnt elements from position src to position dst, correctly
// for overlapping ranges (like memmove), one contiguous run of storage at a
// time.
func (l *List) move(dst, src, cnt int) {
	if cnt <= 0 || dst == src {
		return
	}
	if dst < src {
		for j := 0; j < cnt; {
			d, s := l.runFrom(dst+j), l.runFrom(src+j)
			k := min(len(d), len(s), cnt-j)
			copy(d[:k], s[:k])
			j += k
		}
		return
	}
	for j := cnt; j > 0; {
		d, s := l.runTo(dst+j-1), l.runTo(src+j-1)
		k := min(len(d), len(s), j)
		copy(d[len(d)-k:], s[len(s)-k:])
		j -= k
	}
}

// runFrom returns the contiguous storage starting at element i, up to the
// end of its block (or of the small ring).
func (l *List) runFrom(i int) []string {
	if l.blocks == nil {
		return l.sm[(l.head+i)&(len(l.sm)-1):]
	}
	p := l.head + i
	return l.blocks[(l.first+p>>listBlockShift)&(len(l.blocks)-1)][p&listBlockMask:]
}

// runTo returns the contiguous storage ending with element i, from the
// start of its block (or of the small ring).
func (l *List) runTo(i int) []string {
	if l.blocks == nil {
		return l.sm[:(l.head+i)&(len(l.sm)-1)+1]
	}
	p := l.head + i
	return l.blocks[(l.first+p>>listBlockShift)&(len(l.blocks)-1)][:p&listBlockMask+1]
}

// DeleteRange removes k elements from position i on (clamped to the
// list), moving the shorter side.
func (l *List) DeleteRange(i, k int) {
	if i < 0 {
		k += i
		i = 0
	}
	k = min(k, l.n-i)
	if k <= 0 {
		return
	}
	if i < l.n-(i+k) {
		l.move(k, 0, i)
		l.DropFront(k)
	} else {
		l.move(i, i+k, l.n-(i+k))
		l.DropBack(k)
	}
}

// Insert inserts a copy of v before (or after) the first element equal to
// pivot, searching from the head, and reports whether pivot was found
// (LINSERT).
func (l *List) Insert(pivot, v []byte, after bool) bool {
	at := -1
	l.Each(false, func(i int, s string) bool {
		if s == string(pivot) {
			at = i
			return false
		}
		return true
	})
	if at < 0 {
		return false
	}
	if after {
		at++
	}
	l.InsertAt(at, v)
	return true
}

// Remove deletes elements equal to v and returns how many it removed
// (LREM): count > 0 removes the first count from the head, count < 0 the
// first -count from the tail, count 0 all of them. It runs in one pass,
// compacting the list as it goes.
func (l *List) Remove(v []byte, count int) int {
	if l.n == 0 {
		return 0
	}
	limit := count
	if limit < 0 {
		limit = -limit
	}
	if limit <= 0 { // 0, or math.MinInt's negation: no limit
		limit = l.n
	}
	removed := 0
	if count >= 0 {
		// Elements [0, w) are kept, [w, r) are holes, [r, n) unread.
		w, r := 0, 0
		for ; r < l.n && removed < limit; r++ {
			p := l.slot(r)
			if *p == string(v) {
				removed++
				continue
			}
			if w != r {
				*l.slot(w) = *p
			}
			w++
		}
		l.DeleteRange(w, removed)
		return removed
	}
	// From the tail: elements (w, n) are kept, (r, w] holes, [0, r] unread.
	w, r := l.n-1, l.n-1
	for ; r >= 0 && removed < limit; r-- {
		p := l.slot(r)
		if *p == string(v) {
			removed++
			continue
		}
		if w != r {
			*l.slot(w) = *p
		}
		w--
	}
	l.DeleteRange(r+1, removed)
	return removed
}
