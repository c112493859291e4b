package shard

// DB is one database as a running job sees it: a cheap value made per
// command. Every method must be called from the worker that owns the key's
// slot (or from a Barrier function holding that worker).
type DB struct {
	e   *Engine
	w   *Worker
	idx int
	now int64
	// NoTouch leaves access times alone (CLIENT NO-TOUCH, OBJECT).
	NoTouch bool
}

// DB returns database idx as seen by worker w.
func (e *Engine) DB(w *Worker, idx int) DB { return DB{e: e, w: w, idx: idx} }

// Index is the database number.
func (d *DB) Index() int { return d.idx }

// Engine returns the engine the database belongs to.
func (d *DB) Engine() *Engine { return d.e }

// Now is the command's clock reading in Unix milliseconds, read once per DB
// value so that one command sees one time.
func (d *DB) Now() int64 {
	if d.now == 0 {
		d.now = d.e.Clock()
	}
	return d.now
}

func (d *DB) slotOf(key []byte) *Slot { return &d.e.slots[KeySlot(key)] }

// lookup finds key, deleting it first if it has expired. It returns the
// key's slot and table hash, its table (nil when the database has none in
// that slot), and the live object and its position (nil, -1 when none).
func (d *DB) lookup(key []byte) (int, uint32, *table, int, *Object) {
	slot, h := keyHash(key)
	if d.w != nil {
		d.w.slotHits[slot]++ // per-slot load (load.go)
	}
	t := d.e.slots[slot].get(d.idx)
	if t == nil {
		return slot, h, nil, -1, nil
	}
	i := t.find(key, h)
	if i < 0 {
		return slot, h, t, -1, nil
	}
	o := t.objs[i]
	if o.Expire != 0 && o.Expire <= d.Now() {
		d.expireAt(t, i)
		t.shrink()
		return slot, h, t, -1, nil
	}
	return slot, h, t, i, o
}

// expireAt deletes the expired entry at position i of t. It does not
// shrink t (see removeAt).
func (d *DB) expireAt(t *table, i int) {
	key := t.objs[i].key()
	t.removeAt(i)
	if d.w != nil {
		d.w.Stats.expired.Add(1)
	}
	if h := d.e.OnExpire; h != nil {
		h(d.idx, key)
	}
}

// Lookup finds a live key for writing: no hit/miss accounting, no access
// time update.
func (d *DB) Lookup(key []byte) *Object {
	_, _, _, _, o := d.lookup(key)
	return o
}

// LookupRead finds a live key for reading: counts a keyspace hit or miss and
// refreshes the access time unless NoTouch.
func (d *DB) LookupRead(key []byte) *Object {
	_, _, _, _, o := d.lookup(key)
	if d.w != nil {
		if o == nil {
			d.w.Stats.misses.Add(1)
		} else {
			d.w.Stats.hits.Add(1)
		}
	}
	if o != nil && !d.NoTouch {
		o.Atime = d.w.now()
	}
	return o
}

// Exists reports whether key is live, without touching stats or access time.
func (d *DB) Exists(key []byte) bool { return d.Lookup(key) != nil }

// Add stores o under key, replacing any previous value (and its expiry
// bookkeeping). The key bytes are copied (into o).
func (d *DB) Add(key []byte, o *Object) {
	slot, h := keyHash(key)
	s := &d.e.slots[slot]
	t := s.table(d.idx, true)
	o.setKey(key)
	if i := t.find(key, h); i >= 0 {
		if old := t.objs[i]; old != o {
			t.unvol(old)
			t.objs[i] = o
		}
	} else {
		t.insert(o, h)
	}
	d.added(s, slot, t, o)
}

// added finishes storing the new object o in t.
func (d *DB) added(s *Slot, slot int, t *table, o *Object) {
	t.setVolatile(o, o.Expire != 0)
	if o.Atime == 0 && d.w != nil {
		o.Atime = d.w.now()
	}
	if s.waiters != nil { // a new key may serve blocked clients, as in Redis's dbAdd
		d.e.signal(s, slot, waitKey{d.idx, o.key()})
	}
}

// SetString stores a string value under key with the given expiry (0 for
// none), reusing the existing object and buffer when key already holds a
// value: a steady-state overwrite allocates nothing. val is copied.
func (d *DB) SetString(key, val []byte, expire int64) *Object {
	slot, h, t, _, o := d.lookup(key)
	if o == nil {
		o = &Object{Expire: expire}
		o.SetStr(val)
		o.setKey(key)
		s := &d.e.slots[slot]
		if t == nil {
			t = s.table(d.idx, true)
		}
		t.insert(o, h)
		d.added(s, slot, t, o)
		return o
	}
	o.SetStr(val)
	if o.Expire != expire {
		o.Expire = expire
		t.setVolatile(o, expire != 0)
	}
	if d.w != nil {
		o.Atime = d.w.now()
	}
	return o
}

// SetExpire changes the expiry of a live key's object (0 = persist).
func (d *DB) SetExpire(key []byte, o *Object, at int64) {
	o.Expire = at
	if t := d.slotOf(key).get(d.idx); t != nil {
		t.setVolatile(o, at != 0)
	}
}

// Delete removes key and reports whether a live key was removed.
func (d *DB) Delete(key []byte) bool {
	_, _, t, i, o := d.lookup(key)
	if o == nil {
		return false
	}
	t.removeAt(i)
	t.shrink()
	return true
}

// Len counts the keys of the database in the given slots (expired keys not
// yet reclaimed included, as Redis's DBSIZE does).
func (d *DB) Len(slots []int) int {
	n := 0
	for _, s := range slots {
		if t := d.e.slots[s].get(d.idx); t != nil {
			n += t.n
		}
	}
	return n
}

// VolatileLen counts the keys with an expiry in the given slots.
func (d *DB) VolatileLen(slots []int) int {
	n := 0
	for _, s := range slots {
		if t := d.e.slots[s].get(d.idx); t != nil {
			n += len(t.vol)
		}
	}
	return n
}

// ForEach calls fn for every live key of the database in slot s until fn
// returns false. fn must not add or delete keys of that slot. It reports
// whether the walk ran to the end. The key string stays valid after fn
// returns.
func (d *DB) ForEach(s int, fn func(key string, o *Object) bool) bool {
	t := d.e.slots[s].get(d.idx)
	if t == nil {
		return true
	}
	now := d.Now()
	for i, h := range t.hs {
		if h == 0 {
			continue
		}
		o := t.objs[i]
		if o.Expire != 0 && o.Expire <= now {
			continue
		}
		if !fn(o.key(), o) {
			return false
		}
	}
	return true
}

// SlotLen is the number of keys (live or not yet reclaimed) of the database
// in slot s.
func (d *DB) SlotLen(s int) int {
	if t := d.e.slots[s].get(d.idx); t != nil {
		return t.n
	}
	return 0
}

// Flush drops every key of the database in the given slots.
func (d *DB) Flush(slots []int) {
	for _, s := range slots {
		sl := &d.e.slots[s]
		if t := sl.get(d.idx); t != nil {
			sl.nvol -= int32(len(t.vol))
			sl.set(d.idx, nil)
		}
	}
}

// RandomKey returns a random live key of the database among the given slots
// (RANDOMKEY), or false when there is none. rnd(n) must return a number in
// [0, n). Expired keys it meets are reclaimed (and counted as expired), as
// Redis's dbRandomKey does; after many misses it reclaims every expired key
// of the slots once, so a keyspace of mostly expired keys cannot make it
// spin.
func (d *DB) RandomKey(slots []int, rnd func(n int) int) (string, bool) {
	now := d.Now()
	for tries := 0; ; tries++ {
		total := d.Len(slots)
		if total == 0 {
			return "", false
		}
		if tries == 100 {
			for _, s := range slots {
				if t := d.e.slots[s].get(d.idx); t != nil {
					d.expireAll(t, now)
				}
			}
			continue
		}
		r := rnd(total)
		for _, s := range slots {
			t := d.e.slots[s].get(d.idx)
			if t == nil {
				continue
			}
			if r >= t.n {
				r -= t.n
				continue
			}
			i := t.nth(r)
			o := t.objs[i]
			if o.Expire != 0 && o.Expire <= now {
				d.expireAt(t, i)
				t.shrink()
				break
			}
			return o.key(), true
		}
	}
}

// expireAll reclaims every expired key of t. After removeAt(i) the
// position i is checked again: only entries from later positions (or,
// wrapping around, already checked ones) move into it.
func (d *DB) expireAll(t *table, now int64) {
	for i := 0; i < len(t.hs); {
		if t.hs[i] != 0 {
			if o := t.objs[i]; o.Expire != 0 && o.Expire <= now {
				d.expireAt(t, i)
				continue
			}
		}
		i++
	}
	t.shrink()
}
