package server

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// registerSet registers the set family.
func registerSet(r *Registry) {
	r.Add(&Command{Name: "sadd", Arity: -3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSAdd})
	r.Add(&Command{Name: "srem", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSRem})
	r.Add(&Command{Name: "scard", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSCard})
	r.Add(&Command{Name: "sismember", Arity: 3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSIsMember})
	r.Add(&Command{Name: "smismember", Arity: -3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSMIsMember})
	r.Add(&Command{Name: "smembers", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(x *Ctx) { setInter(x, x.Args[1:2], nil, false, 0) }})
	r.Add(&Command{Name: "spop", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSPop})
	r.Add(&Command{Name: "srandmember", Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSRandMember})
	r.Add(&Command{Name: "smove", Arity: 4, Flags: Write | Fast, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdSMove})
	r.Add(&Command{Name: "sinter", Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: -1, Step: 1,
		Run: func(x *Ctx) { setInter(x, x.Args[1:], nil, false, 0) }})
	r.Add(&Command{Name: "sintercard", Arity: -3, Flags: ReadOnly, Keys: sinterCardKeys, Run: cmdSInterCard})
	r.Add(&Command{Name: "sinterstore", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 1,
		Run: func(x *Ctx) { setInter(x, x.Args[2:], x.Args[1], false, 0) }})
	r.Add(&Command{Name: "sunion", Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: -1, Step: 1,
		Run: func(x *Ctx) { setUnionDiff(x, x.Args[1:], nil, false) }})
	r.Add(&Command{Name: "sunionstore", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 1,
		Run: func(x *Ctx) { setUnionDiff(x, x.Args[2:], x.Args[1], false) }})
	r.Add(&Command{Name: "sdiff", Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: -1, Step: 1,
		Run: func(x *Ctx) { setUnionDiff(x, x.Args[1:], nil, true) }})
	r.Add(&Command{Name: "sdiffstore", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 1,
		Run: func(x *Ctx) { setUnionDiff(x, x.Args[2:], x.Args[1], true) }})
	r.Add(&Command{Name: "sscan", Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSScan})
}

// Error texts of the set family, as Redis 7.0 writes them.
const (
	errSetPositive    = "ERR value is out of range, must be positive"
	errSetRandRange   = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	errSetNumKeys     = "ERR numkeys should be greater than 0"
	errSetNumKeysArgs = "ERR Number of keys can't be greater than number of args"
	errSetLimitNeg    = "ERR LIMIT can't be negative"
)

// Redis's strategy thresholds (t_set.c): SPOP with a count rebuilds the
// set from the members that stay when they are few; SRANDMEMBER with a
// count copies the set and drops members when most of it is asked for.
const (
	setSpopMoveStrategyMul  = 5
	setSrandSubStrategyMul  = 3
	setMaxScanCountPerCall  = 1 << 30
	setMemberFormatCapacity = 24
)

// setMaxIntset is set-max-intset-entries.
func setMaxIntset(x *Ctx) int64 { return x.Srv.Config().Enc.SetMaxIntsetEntries.Load() }

func setVal(o *shard.Object) *types.Set { return o.Val.(*types.Set) }

func setNewObject(s *types.Set) *shard.Object {
	return &shard.Object{Kind: shard.KindSet, Val: s}
}

// setLookupWrite is Redis's lookupKeyWrite for a set command: no hit/miss
// accounting; the access time is refreshed as Redis's lookupKey does.
func setLookupWrite(x *Ctx, key []byte) (*shard.Object, bool) {
	o := x.DB.Lookup(key)
	if o == nil {
		return nil, true
	}
	strTouch(x, o)
	if o.Kind != shard.KindSet {
		x.W.Error(ErrWrongType)
		return nil, false
	}
	return o, true
}

// setReplyMembers writes every member of s, in its own order, after a
// header written by the caller.
func setReplyMembers(x *Ctx, s *types.Set) {
	var buf [setMemberFormatCapacity]byte
	for i, n := 0, s.Len(); i < n; i++ {
		x.W.Bulk(s.Member(i, buf[:0]))
	}
}

// ---- SADD / SREM / SCARD / SISMEMBER / SMISMEMBER ----

func cmdSAdd(x *Ctx) {
	key := x.Args[1]
	o, ok := setLookupWrite(x, key)
	if !ok {
		return
	}
	var s *types.Set
	if o == nil {
		s = types.NewSet()
		x.dbAdd(key, setNewObject(s))
	} else {
		s = setVal(o)
	}
	limit := setMaxIntset(x)
	var added int64
	for _, m := range x.Args[2:] {
		if s.Add(m, limit) {
			added++
		}
	}
	if added > 0 {
		x.changed(NotifySet, "sadd", key)
	}
	x.W.Int(added)
}

func cmdSRem(x *Ctx) {
	key := x.Args[1]
	o, ok := setLookupWrite(x, key)
	if !ok {
		return
	}
	if o == nil {
		x.W.Int(0)
		return
	}
	s := setVal(o)
	var removed int64
	keyRemoved := false
	for _, m := range x.Args[2:] {
		if s.Remove(m) {
			removed++
			if s.Len() == 0 {
				x.DB.Delete(key)
				keyRemoved = true
				break
			}
		}
	}
	if removed > 0 {
		x.changed(NotifySet, "srem", key)
		if keyRemoved {
			x.notify(NotifyGeneric, "del", key)
		}
	}
	x.W.Int(removed)
}

func cmdSCard(x *Ctx) {
	o, ok := lookupKind(x, x.Args[1], shard.KindSet, true)
	if !ok {
		return
	}
	if o == nil {
		x.W.Int(0)
		return
	}
	x.W.Int(int64(setVal(o).Len()))
}

func cmdSIsMember(x *Ctx) {
	o, ok := lookupKind(x, x.Args[1], shard.KindSet, true)
	if !ok {
		return
	}
	if o != nil && setVal(o).Has(x.Args[2]) {
		x.W.Int(1)
	} else {
		x.W.Int(0)
	}
}

// cmdSMIsMember treats a missing key as an empty set: a zero per member.
func cmdSMIsMember(x *Ctx) {
	o, ok := lookupKind(x, x.Args[1], shard.KindSet, true)
	if !ok {
		return
	}
	x.W.Array(len(x.Args) - 2)
	for _, m := range x.Args[2:] {
		if o != nil && setVal(o).Has(m) {
			x.W.Int(1)
		} else {
			x.W.Int(0)
		}
	}
}

// ---- SMOVE ----

// cmdSMove moves a member between two sets. Keys on different workers run
// as one barrier, so the move is atomic.
func cmdSMove(x *Ctx) {
	srcKey, dstKey, member := x.Args[1], x.Args[2], x.Args[3]
	src := x.DB.Lookup(srcKey)
	dst := x.DB.Lookup(dstKey)
	if dst != nil {
		strTouch(x, dst)
	}
	if src == nil {
		x.W.Int(0)
		return
	}
	strTouch(x, src)
	if src.Kind != shard.KindSet || (dst != nil && dst.Kind != shard.KindSet) {
		x.W.Error(ErrWrongType)
		return
	}
	ss := setVal(src)
	if string(srcKey) == string(dstKey) {
		// Same set: nothing moves; the reply says whether it is a member.
		if ss.Has(member) {
			x.W.Int(1)
		} else {
			x.W.Int(0)
		}
		return
	}
	if !ss.Remove(member) {
		x.W.Int(0)
		return
	}
	x.notify(NotifySet, "srem", srcKey)
	if ss.Len() == 0 {
		x.DB.Delete(srcKey)
		x.notify(NotifyGeneric, "del", srcKey)
	}
	var ds *types.Set
	if dst == nil {
		ds = types.NewSet()
		x.dbAdd(dstKey, setNewObject(ds))
	} else {
		ds = setVal(dst)
	}
	x.keyModified(srcKey)
	if ds.Add(member, setMaxIntset(x)) {
		x.changed(NotifySet, "sadd", dstKey)
	}
	x.W.Int(1)
}

// ---- SPOP / SRANDMEMBER ----

func cmdSPop(x *Ctx) {
	if len(x.Args) == 3 {
		spopCount(x)
		return
	}
	if len(x.Args) > 3 {
		x.W.Error(ErrSyntax)
		return
	}
	key := x.Args[1]
	o, ok := setLookupWrite(x, key)
	if !ok {
		return
	}
	if o == nil {
		x.W.Null()
		return
	}
	s := setVal(o)
	i := rand.IntN(s.Len())
	var buf [setMemberFormatCapacity]byte
	x.W.Bulk(s.Member(i, buf[:0])) // written (copied) before the removal
	s.RemoveAt(i)
	x.notify(NotifySet, "spop", key)
	if s.Len() == 0 {
		x.DB.Delete(key)
		x.notify(NotifyGeneric, "del", key)
	}
	x.keyModified(key)
}

// spopCount is SPOP key count, with Redis's three cases: the whole set,
// a few random members removed one by one, or (when few members stay) a
// new set built from the members that stay, the others being returned.
func spopCount(x *Ctx) {
	n, ok := strictInt64(x.Args[2])
	if !ok || n < 0 {
		x.W.Error(errSetPositive)
		return
	}
	key := x.Args[1]
	o, ok := setLookupWrite(x, key)
	if !ok {
		return
	}
	if o == nil || n == 0 {
		x.W.Set(0)
		return
	}
	s := setVal(o)
	size := int64(s.Len())
	x.notify(NotifySet, "spop", key)
	defer x.keyModified(key)
	if n >= size {
		// Redis answers with SUNION of the one key (a read lookup, then a
		// new set built from the members), then deletes it.
		x.DB.LookupRead(key)
		setReplyRebuilt(x, s)
		x.DB.Delete(key)
		x.notify(NotifyGeneric, "del", key)
		return
	}
	count := int(n)
	remaining := int(size - n)
	x.W.Set(count)
	var buf [setMemberFormatCapacity]byte
	if int64(remaining)*setSpopMoveStrategyMul > n {
		for ; count > 0; count-- {
			i := rand.IntN(s.Len())
			x.W.Bulk(s.Member(i, buf[:0]))
			s.RemoveAt(i)
		}
		return
	}
	// Move the members that stay to a new set; reply with the rest, in
	// the old set's order (ascending for an intset).
	ns := types.NewSet()
	limit := setMaxIntset(x)
	for ; remaining > 0; remaining-- {
		i := rand.IntN(s.Len())
		ns.Add(s.Member(i, buf[:0]), limit)
		s.RemoveAt(i)
	}
	setReplyMembers(x, s)
	o.Val = ns // keeps the key's expiry, as Redis's dbOverwrite
}

// setReplyRebuilt replies with the members of s as a set header plus the
// members in the order of a new set built from them (what SUNION of a single
// key answers): a hashtable whose members would all fit an intset is
// answered in ascending order.
func setReplyRebuilt(x *Ctx, s *types.Set) {
	n := s.Len()
	x.W.Set(n)
	if s.IsIntset() || int64(n) > min(setMaxIntset(x), 1<<30) {
		setReplyMembers(x, s)
		return
	}
	ints := make([]int64, 0, n)
	var buf [setMemberFormatCapacity]byte
	for i := 0; i < n; i++ {
		v, ok := strictInt64(s.Member(i, buf[:0]))
		if !ok {
			setReplyMembers(x, s)
			return
		}
		ints = append(ints, v)
	}
	sort.Slice(ints, func(i, j int) bool { return ints[i] < ints[j] })
	for _, v := range ints {
		x.W.BulkInt(v)
	}
}

func cmdSRandMember(x *Ctx) {
	if len(x.Args) == 3 {
		srandCount(x)
		return
	}
	if len(x.Args) > 3 {
		x.W.Error(ErrSyntax)
		return
	}
	o, ok := lookupKind(x, x.Args[1], shard.KindSet, true)
	if !ok {
		return
	}
	if o == nil {
		x.W.Null()
		return
	}
	s := setVal(o)
	var buf [setMemberFormatCapacity]byte
	x.W.Bulk(s.Member(rand.IntN(s.Len()), buf[:0]))
}

// srandCount is SRANDMEMBER key count: a negative count may repeat
// members; a positive one returns distinct members, the whole set when the
// count reaches its size. The reply is an array (not a set) in RESP3.
func srandCount(x *Ctx) {
	l, ok := strictInt64(x.Args[2])
	if !ok {
		x.W.Error(ErrNotInteger)
		return
	}
	if l == math.MinInt64 {
		x.W.Error(errSetRandRange)
		return
	}
	uniq := l >= 0
	count := l
	if !uniq {
		count = -l
	}
	o, ok := lookupKind(x, x.Args[1], shard.KindSet, true)
	if !ok {
		return
	}
	if o == nil || count == 0 {
		x.W.Array(0)
		return
	}
	s := setVal(o)
	size := s.Len()
	var buf [setMemberFormatCapacity]byte
	if !uniq || count == 1 {
		// Independent draws: the reply is not bounded by the set, so it is
		// bounded like the other families' (collRandMaxReply) instead of
		// exhausting memory as Redis would. Every element costs at least
		// a "$0\r\n\r\n" bulk; for big counts, at least the set's
		// shortest member.
		minElem := int64(6)
		if !collRandHopeless(count, minElem) && collRandHopeless(count*16, minElem) {
			minElem = setMinBulkLen(s)
		}
		if collRandHopeless(count, minElem) {
			x.W.Error(errCollRandTooBig)
			return
		}
		start := len(x.W.B)
		x.W.Array(int(count))
		for ; count > 0; count-- {
			x.W.Bulk(s.Member(rand.IntN(size), buf[:0]))
			if len(x.W.B)-start > collRandMaxReply {
				x.W.B = x.W.B[:start]
				x.W.Error(errCollRandTooBig)
				return
			}
		}
		return
	}
	if count >= int64(size) {
		x.W.Array(size)
		setReplyMembers(x, s)
		return
	}
	n := int(count)
	x.W.Array(n)
	if n*setSrandSubStrategyMul > size {
		// Most of the set: a partial Fisher-Yates shuffle of positions.
		pos := make([]int, size)
		for i := range pos {
			pos[i] = i
		}
		for i := 0; i < n; i++ {
			j := i + rand.IntN(size-i)
			pos[i], pos[j] = pos[j], pos[i]
			x.W.Bulk(s.Member(pos[i], buf[:0]))
		}
		return
	}
	// A small part of a big set: draw positions until n are distinct.
	seen := make(map[int]struct{}, n)
	for len(seen) < n {
		i := rand.IntN(size)
		if _, dup := seen[i]; dup {
			continue
		}
		seen[i] = struct{}{}
		x.W.Bulk(s.Member(i, buf[:0]))
	}
}

// setMinBulkLen is the encoded size of the shortest member's bulk string.
func setMinBulkLen(s *types.Set) int64 {
	var buf [setMemberFormatCapacity]byte
	shortest := math.MaxInt
	for i, n := 0, s.Len(); i < n; i++ {
		shortest = min(shortest, len(s.Member(i, buf[:0])))
	}
	return collBulkLen(shortest)
}

// ---- SINTER / SMEMBERS / SINTERCARD / SINTERSTORE ----

// setInter is Redis 7.0's sinterGenericCommand: the intersection of the
// sets at keys, replied as a set, counted (cardOnly, stopping at limit
// when limit > 0) or stored at dst (which is replaced whatever its type, or
// deleted when the intersection is empty). A missing key is an empty set,
// but every existing key is type-checked first.
func setInter(x *Ctx, keys [][]byte, dst []byte, cardOnly bool, limit int64) {
	sets := make([]*types.Set, 0, len(keys))
	empty := false
	for _, k := range keys {
		o, ok := lookupKind(x, k, shard.KindSet, true)
		if !ok {
			return
		}
		if o == nil {
			empty = true
			continue
		}
		sets = append(sets, setVal(o))
	}
	if empty {
		switch {
		case dst != nil:
			x.delKeyNotify(dst)
			x.W.Int(0)
		case cardOnly:
			x.W.Int(0)
		default:
			x.W.Set(0)
		}
		return
	}
	// Iterate the smallest set, probing the others.
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].Len() < sets[j].Len() })
	first := sets[0]
	var buf [setMemberFormatCapacity]byte
	var hits []int // positions in first of the members in every set
	var card int64
	for i, n := 0, first.Len(); i < n; i++ {
		m := first.Member(i, buf[:0])
		all := true
		for _, other := range sets[1:] {
			if other != first && !other.Has(m) {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		card++
		if cardOnly {
			if limit > 0 && card >= limit {
				break
			}
			continue
		}
		hits = append(hits, i)
	}
	switch {
	case cardOnly:
		x.W.Int(card)
	case dst != nil:
		res := types.NewSet()
		maxIntset := setMaxIntset(x)
		for _, i := range hits {
			res.Add(first.Member(i, buf[:0]), maxIntset)
		}
		setStore(x, dst, res, "sinterstore")
	default:
		x.W.Set(len(hits))
		for _, i := range hits {
			x.W.Bulk(first.Member(i, buf[:0]))
		}
	}
}

// setStore replaces dst with res (a new key without expiry) and replies
// with its cardinality; an empty result deletes dst instead.
func setStore(x *Ctx, dst []byte, res *types.Set, event string) {
	if res.Len() == 0 {
		x.W.Int(0)
		x.delKeyNotify(dst)
		return
	}
	x.setKey(dst, setNewObject(res))
	x.keyModified(dst)
	x.W.Int(int64(res.Len()))
	x.notify(NotifySet, event, dst)
}

// sinterCardKeys finds SINTERCARD's keys: numkeys keys after the numkeys
// argument. A bad numkeys yields no keys (the command then reports it).
func sinterCardKeys(args [][]byte) [][]byte {
	if len(args) < 2 {
		return nil
	}
	n, ok := strictInt64(args[1])
	if !ok || n < 1 || n > int64(len(args)-2) {
		return nil
	}
	return args[2 : 2+n]
}

func cmdSInterCard(x *Ctx) {
	n, ok := strictInt64(x.Args[1])
	if !ok || n < 1 {
		x.W.Error(errSetNumKeys)
		return
	}
	if n > int64(len(x.Args)-2) {
		x.W.Error(errSetNumKeysArgs)
		return
	}
	var limit int64
	for j := 2 + int(n); j < len(x.Args); j++ {
		if optIs(x.Args[j], "limit") && j+1 < len(x.Args) {
			j++
			v, ok := strictInt64(x.Args[j])
			if !ok || v < 0 {
				x.W.Error(errSetLimitNeg)
				return
			}
			limit = v
			continue
		}
		x.W.Error(ErrSyntax)
		return
	}
	setInter(x, x.Args[2:2+n], nil, true, limit)
}

// ---- SUNION / SDIFF and their STORE forms ----

// setUnionDiff is Redis 7.0's sunionDiffGenericCommand. The result is a new
// set built member by member, so its encoding (and with it the reply order:
// ascending for an intset) is Redis's; for SDIFF that includes Redis's
// choice between its two algorithms, which can leave an all-integer result
// in the hashtable form.
func setUnionDiff(x *Ctx, keys [][]byte, dst []byte, diff bool) {
	sets := make([]*types.Set, len(keys)) // nil: missing key, an empty set
	sameSet := false
	for j, k := range keys {
		o, ok := lookupKind(x, k, shard.KindSet, true)
		if !ok {
			return
		}
		if o == nil {
			continue
		}
		sets[j] = setVal(o)
		if j > 0 && sets[0] == sets[j] {
			sameSet = true
		}
	}
	res := types.NewSet()
	maxIntset := setMaxIntset(x)
	var buf [setMemberFormatCapacity]byte
	switch {
	case !diff:
		for _, s := range sets {
			if s == nil {
				continue
			}
			for i, n := 0, s.Len(); i < n; i++ {
				res.Add(s.Member(i, buf[:0]), maxIntset)
			}
		}
	case sets[0] == nil || sameSet:
		// Nothing, or a set minus itself: empty.
	default:
		// Algorithm 1 probes the other sets for each member of the first
		// (work |first| per set, halved for its better constants);
		// algorithm 2 copies the first and removes the others' members.
		var work1, work2 int64
		for _, s := range sets {
			if s != nil {
				work1 += int64(sets[0].Len())
				work2 += int64(s.Len())
			}
		}
		first, rest := sets[0], sets[1:]
		if work1/2 <= work2 {
			// Probe the biggest sets first: a member is likelier found.
			rest = append([]*types.Set(nil), rest...)
			sort.SliceStable(rest, func(i, j int) bool { return setLen(rest[i]) > setLen(rest[j]) })
			for i, n := 0, first.Len(); i < n; i++ {
				m := first.Member(i, buf[:0])
				found := false
				for _, s := range rest {
					if s != nil && s.Has(m) {
						found = true
						break
					}
				}
				if !found {
					res.Add(m, maxIntset)
				}
			}
		} else {
			for i, n := 0, first.Len(); i < n; i++ {
				res.Add(first.Member(i, buf[:0]), maxIntset)
			}
			for _, s := range rest {
				if res.Len() == 0 {
					break
				}
				if s == nil {
					continue
				}
				for i, n := 0, s.Len(); i < n; i++ {
					res.Remove(s.Member(i, buf[:0]))
				}
			}
		}
	}
	if dst != nil {
		if diff {
			setStore(x, dst, res, "sdiffstore")
		} else {
			setStore(x, dst, res, "sunionstore")
		}
		return
	}
	x.W.Set(res.Len())
	setReplyMembers(x, res)
}

func setLen(s *types.Set) int {
	if s == nil {
		return 0
	}
	return s.Len()
}

// ---- SSCAN ----

// cmdSScan is SSCAN key cursor [MATCH pattern] [COUNT count]. An intset is
// returned whole with cursor 0, as in Redis. A hashtable is scanned with
// the resumable position cursor of types.Set.Scan (documented there):
// every member present for the whole scan is returned at least once.
// As in Redis, the cursor is checked before the key, the options after it.
func cmdSScan(x *Ctx) {
	cursor, ok := keysParseCursor(x.Args[2])
	if !ok {
		x.W.Error(errCollInvalidCursor)
		return
	}
	o, ok := lookupKind(x, x.Args[1], shard.KindSet, true)
	if !ok {
		return
	}
	if o == nil {
		collScanReply(x.W, 0, nil)
		return
	}
	opts, e := collParseScanOpts(x.Args[3:])
	if e != "" {
		x.W.Error(e)
		return
	}
	var out []string
	next := setVal(o).Scan(cursor, int(min(opts.Count, setMaxScanCountPerCall)), func(m []byte) {
		if !opts.UsePat || GlobMatch(opts.Pat, m, false) {
			out = append(out, string(m))
		}
	})
	collScanReply(x.W, next, out)
}
