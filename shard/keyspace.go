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

// lookup finds key, deleting it first if it has expired.
func (d *DB) lookup(key []byte) (*table, *Object) {
	slot := KeySlot(key)
	if d.w != nil {
		d.w.slotHits[slot]++ // per-slot load (load.go)
	}
	t := d.e.slots[slot].table(d.idx, false)
	if t == nil {
		return nil, nil
	}
	o := t.m[string(key)]
	if o == nil {
		return t, nil
	}
	if o.Expire != 0 && o.Expire <= d.Now() {
		d.expire(t, string(key))
		return t, nil
	}
	return t, o
}

func (d *DB) expire(t *table, key string) {
	delete(t.m, key)
	t.setVolatile(key, false)
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
	_, o := d.lookup(key)
	return o
}

// LookupRead finds a live key for reading: counts a keyspace hit or miss and
// refreshes the access time unless NoTouch.
func (d *DB) LookupRead(key []byte) *Object {
	_, o := d.lookup(key)
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
// bookkeeping). The key bytes are copied.
func (d *DB) Add(key []byte, o *Object) {
	slot := KeySlot(key)
	s := &d.e.slots[slot]
	t := s.table(d.idx, true)
	k := string(key)
	t.m[k] = o
	t.setVolatile(k, o.Expire != 0)
	if o.Atime == 0 && d.w != nil {
		o.Atime = d.w.now()
	}
	if s.waiters != nil { // a new key may serve blocked clients, as in Redis's dbAdd
		d.e.signal(s, slot, waitKey{d.idx, k})
	}
}

// SetString stores a string value under key with the given expiry (0 for
// none), reusing the existing object and buffer when key already holds a
// value: a steady-state overwrite allocates nothing. val is copied.
func (d *DB) SetString(key, val []byte, expire int64) *Object {
	t, o := d.lookup(key)
	if o == nil {
		o = &Object{Expire: expire}
		o.SetStr(val)
		d.Add(key, o)
		return o
	}
	o.SetStr(val)
	if o.Expire != expire {
		o.Expire = expire
		t.setVolatile(string(key), expire != 0)
	}
	if d.w != nil {
		o.Atime = d.w.now()
	}
	return o
}

// SetExpire changes the expiry of a live key's object (0 = persist).
func (d *DB) SetExpire(key []byte, o *Object, at int64) {
	o.Expire = at
	if t := d.slotOf(key).table(d.idx, false); t != nil {
		t.setVolatile(string(key), at != 0)
	}
}

// Delete removes key and reports whether a live key was removed.
func (d *DB) Delete(key []byte) bool {
	t, o := d.lookup(key)
	if o == nil {
		return false
	}
	k := string(key)
	delete(t.m, k)
	t.setVolatile(k, false)
	return true
}

// Len counts the keys of the database in the given slots (expired keys not
// yet reclaimed included, as Redis's DBSIZE does).
func (d *DB) Len(slots []int) int {
	n := 0
	for _, s := range slots {
		if t := d.e.slots[s].table(d.idx, false); t != nil {
			n += len(t.m)
		}
	}
	return n
}

// VolatileLen counts the keys with an expiry in the given slots.
func (d *DB) VolatileLen(slots []int) int {
	n := 0
	for _, s := range slots {
		if t := d.e.slots[s].table(d.idx, false); t != nil {
			n += len(t.vol)
		}
	}
	return n
}

// ForEach calls fn for every live key of the database in slot s until fn
// returns false. fn must not add or delete keys of that slot. It reports
// whether the walk ran to the end.
func (d *DB) ForEach(s int, fn func(key string, o *Object) bool) bool {
	t := d.e.slots[s].table(d.idx, false)
	if t == nil {
		return true
	}
	now := d.Now()
	for k, o := range t.m {
		if o.Expire != 0 && o.Expire <= now {
			continue
		}
		if !fn(k, o) {
			return false
		}
	}
	return true
}

// SlotLen is the number of keys (live or not yet reclaimed) of the database
// in slot s.
func (d *DB) SlotLen(s int) int {
	if t := d.e.slots[s].table(d.idx, false); t != nil {
		return len(t.m)
	}
	return 0
}

// Flush drops every key of the database in the given slots.
func (d *DB) Flush(slots []int) {
	for _, s := range slots {
		*d.e.slots[s].storage(d.idx) = table{}
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
				if t := d.e.slots[s].table(d.idx, false); t != nil {
					for k, o := range t.m {
						if o.Expire != 0 && o.Expire <= now {
							d.expire(t, k)
						}
					}
				}
			}
			continue
		}
		r := rnd(total)
		for _, s := range slots {
			t := d.e.slots[s].table(d.idx, false)
			if t == nil {
				continue
			}
			if r >= len(t.m) {
				r -= len(t.m)
				continue
			}
			for k, o := range t.m {
				if r > 0 {
					r--
					continue
				}
				if o.Expire != 0 && o.Expire <= now {
					d.expire(t, k)
					break
				}
				return k, true
			}
			break
		}
	}
}
