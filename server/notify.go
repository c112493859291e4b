package server

import (
	"strconv"

	"github.com/kvd/kvd/shard"
)

// Keyspace notifications (Redis's notify.c): when notify-keyspace-events
// enables an event's class, the event is published on
// __keyspace@<db>__:<key> (message: the event name; class K) and/or on
// __keyevent@<db>__:<event> (message: the key; class E).
//
// Commands call x.notify at exactly the places Redis 7.0 calls
// notifyKeyspaceEvent, with the same class and event name, and
// x.keyModified where Redis calls signalModifiedKey. With the default
// notify-keyspace-events "" a call costs one atomic load and test (no
// allocation): the effective flags are kept in Config.NotifyEvents, and are
// 0 unless K or E is set (without them Redis publishes nothing either).
// Enabled, the channel name is built on the stack and publish copies it
// into the subscribers' frames without blocking, so workers may publish
// while they run commands (inside barriers too).
//
// Commands that Redis runs key by key (MSET, DEL, EXISTS, ...) and kvd
// splits into parallel per-worker parts run as one barrier instead while
// notifications are on (conn.go), so that their events keep key order.

// NotifyClass is a set of notification classes (Redis's NOTIFY_* flags, same
// bits).
type NotifyClass uint32

// The classes, with their character in notify-keyspace-events.
const (
	NotifyKeyspace NotifyClass = 1 << iota // K: __keyspace@<db>__:<key> channels
	NotifyKeyevent                         // E: __keyevent@<db>__:<event> channels
	NotifyGeneric                          // g: DEL, EXPIRE, RENAME, ...
	NotifyString                           // $: string commands
	NotifyList                             // l: list commands
	NotifySet                              // s: set commands
	NotifyHash                             // h: hash commands
	NotifyZSet                             // z: sorted set commands
	NotifyExpired                          // x: a key expired
	NotifyEvicted                          // e: a key was evicted (maxmemory)
	NotifyStream                           // t: stream commands
	NotifyKeyMiss                          // m: a read found no key
	NotifyLoaded                           // module-only (never set from the config)
	NotifyModule                           // d: module key type events
	NotifyNew                              // n: a key was created

	// NotifyAll is the "A" alias: g$lshzxetd.
	NotifyAll = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash |
		NotifyZSet | NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule
)

// errNotifyClass is Redis's reason for an invalid notify-keyspace-events.
const errNotifyClass = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."

// ParseNotifyClasses is Redis's keyspaceEventsStringToFlags: every
// character adds a class; any other character makes the value invalid.
func ParseNotifyClasses(s string) (NotifyClass, bool) {
	var f NotifyClass
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'A':
			f |= NotifyAll
		case 'g':
			f |= NotifyGeneric
		case '$':
			f |= NotifyString
		case 'l':
			f |= NotifyList
		case 's':
			f |= NotifySet
		case 'h':
			f |= NotifyHash
		case 'z':
			f |= NotifyZSet
		case 'x':
			f |= NotifyExpired
		case 'e':
			f |= NotifyEvicted
		case 'K':
			f |= NotifyKeyspace
		case 'E':
			f |= NotifyKeyevent
		case 't':
			f |= NotifyStream
		case 'm':
			f |= NotifyKeyMiss
		case 'd':
			f |= NotifyModule
		case 'n':
			f |= NotifyNew
		default:
			return 0, false
		}
	}
	return f, true
}

// String is Redis's keyspaceEventsFlagsToString: the canonical text CONFIG
// GET reports ("A" for the whole alias, then K, E, m).
func (f NotifyClass) String() string {
	var b []byte
	if f&NotifyAll == NotifyAll {
		b = append(b, 'A')
	} else {
		for _, c := range []struct {
			f  NotifyClass
			ch byte
		}{
			{NotifyGeneric, 'g'}, {NotifyString, '$'}, {NotifyList, 'l'}, {NotifySet, 's'},
			{NotifyHash, 'h'}, {NotifyZSet, 'z'}, {NotifyExpired, 'x'}, {NotifyEvicted, 'e'},
			{NotifyStream, 't'}, {NotifyModule, 'd'}, {NotifyNew, 'n'},
		} {
			if f&c.f != 0 {
				b = append(b, c.ch)
			}
		}
	}
	if f&NotifyKeyspace != 0 {
		b = append(b, 'K')
	}
	if f&NotifyKeyevent != 0 {
		b = append(b, 'E')
	}
	if f&NotifyKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// canonicalNotifyEvents validates a notify-keyspace-events value and
// returns its canonical form (the param table's canonical step).
func canonicalNotifyEvents(v string) (string, error) {
	f, ok := ParseNotifyClasses(v)
	if !ok {
		return "", errNotify
	}
	return f.String(), nil
}

var errNotify = notifyError(errNotifyClass)

type notifyError string

func (e notifyError) Error() string { return string(e) }

// applyNotifyEvents stores the effective flags of a valid value: 0 unless K
// or E is set, so that the check on the command path is a single atomic
// load and test. Config.Set calls it with the value as given, not the
// canonical text, which (as in Redis) drops 'n' after 'A'.
func applyNotifyEvents(c *Config, v string) {
	f, _ := ParseNotifyClasses(v)
	if f&(NotifyKeyspace|NotifyKeyevent) == 0 {
		f = 0
	}
	c.NotifyEvents.Store(uint32(f))
}

// notifyOn reports whether events of class are published (one atomic
// load). Call sites use it to skip work only notifications need.
func (x *Ctx) notifyOn(class NotifyClass) bool {
	s := x.Srv
	return s != nil && NotifyClass(s.cfg.NotifyEvents.Load())&class != 0
}

// notify is Redis's notifyKeyspaceEvent for the command's database. It
// costs one atomic load when class is not enabled.
func (x *Ctx) notify(class NotifyClass, event string, key []byte) {
	if x.notifyOn(class) {
		x.publishEvent(class, event, key)
	}
}

// publishEvent is notify's slow path, kept out of line so that the
// disabled path stays a load and a test.
//
//go:noinline
func (x *Ctx) publishEvent(class NotifyClass, event string, key []byte) {
	x.Srv.notifyKeyspaceEvent(class, event, key, x.DB.Index())
}

// notifyKeyspaceEvent publishes event for key in database db on the
// keyspace and/or keyevent channel, if class is enabled. Safe from any
// goroutine; it never blocks (publish does not).
func (s *Server) notifyKeyspaceEvent(class NotifyClass, event string, key []byte, db int) {
	f := NotifyClass(s.cfg.NotifyEvents.Load())
	if f&class == 0 {
		return
	}
	var buf [128]byte
	if f&NotifyKeyspace != 0 {
		ch := append(buf[:0], "__keyspace@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, key...)
		s.publish(ch, keysBytes(event))
	}
	if f&NotifyKeyevent != 0 {
		ch := append(buf[:0], "__keyevent@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, event...)
		s.publish(ch, key)
	}
}

// keyExpired is the engine's OnExpire hook: it runs on the worker that
// owns key whenever a key is reclaimed because its time has passed (lazily
// by a lookup or by the active expiry cycle), as Redis's
// deleteExpiredKeyAndPropagate: the "expired" event, then the tracking
// invalidation (signalModifiedKey).
func (s *Server) keyExpired(db int, key string) {
	if NotifyClass(s.cfg.NotifyEvents.Load())&NotifyExpired != 0 {
		s.notifyKeyspaceEvent(NotifyExpired, "expired", keysBytes(key), db)
	}
	s.trackingExpired(db, key)
}

// ---- keyspace helpers for the command families ----
//
// Each wraps a shard.DB operation with the notifications Redis's db.c
// function of the same name sends.

// lookupRead is Redis's lookupKeyRead: DB.LookupRead plus the "keymiss"
// event (class m) when the key is missing.
func (x *Ctx) lookupRead(key []byte) *shard.Object {
	o := x.DB.LookupRead(key)
	if o == nil {
		x.notify(NotifyKeyMiss, "keymiss", key)
	}
	return o
}

// dbAdd is Redis's dbAdd: key is known not to exist; it is added and the
// "new" event sent.
func (x *Ctx) dbAdd(key []byte, o *shard.Object) {
	x.DB.Add(key, o)
	x.notify(NotifyNew, "new", key)
}

// setKey stores o under key, replacing any value (Redis's setKey with its
// dbAdd/dbOverwrite choice): "new" when the key did not exist.
func (x *Ctx) setKey(key []byte, o *shard.Object) {
	if x.notifyOn(NotifyNew) && !x.DB.Exists(key) {
		x.DB.Add(key, o)
		x.notify(NotifyNew, "new", key)
		return
	}
	x.DB.Add(key, o)
}

// setString is DB.SetString with the "new" event when the key is created.
func (x *Ctx) setString(key, val []byte, expire int64) *shard.Object {
	if x.notifyOn(NotifyNew) && !x.DB.Exists(key) {
		o := x.DB.SetString(key, val, expire)
		x.notify(NotifyNew, "new", key)
		return o
	}
	return x.DB.SetString(key, val, expire)
}

// changed is the pair every write ends with: signalModifiedKey, then the
// event.
func (x *Ctx) changed(class NotifyClass, event string, key []byte) {
	s := x.Srv
	if s == nil {
		return // a bare Ctx (unit tests): no server, nothing to tell
	}
	x.keyModified(key)
	if NotifyClass(s.cfg.NotifyEvents.Load())&class != 0 {
		x.publishEvent(class, event, key)
	}
}

// delIfEmpty deletes key when its collection o became empty, with the
// generic "del" event, as every collection command does after removing
// elements. It reports whether the key was deleted.
func (x *Ctx) delIfEmpty(key []byte, o *shard.Object) bool {
	if c, ok := o.Val.(collection); ok && c.Len() == 0 {
		x.DB.Delete(key)
		x.notify(NotifyGeneric, "del", key)
		return true
	}
	return false
}

// delKeyNotify deletes key if it exists and then sends "del" and signals
// the modification (the STORE commands with an empty result, BITOP, ...).
// It reports whether a key was deleted.
func (x *Ctx) delKeyNotify(key []byte) bool {
	if x.DB.Delete(key) {
		x.keyModified(key)
		x.notify(NotifyGeneric, "del", key)
		return true
	}
	return false
}
