package shard

import "unsafe"

// Kind is the type of a stored value, as TYPE reports it.
type Kind uint8

// The value kinds.
const (
	KindString Kind = iota + 1
	KindList
	KindSet
	KindZSet
	KindHash
	KindStream
	KindFlash // a flash-sale item's internal state (server/flash.go); TYPE "flash"
)

var kindNames = [...]string{"none", "string", "list", "set", "zset", "hash", "stream", "flash"}

// String is the name TYPE replies with.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// keyInline is the longest key stored inside the Object itself. With it
// the Object is 80 bytes, one Go size class, the same as without the key
// (58 bytes of fields round up to 64, and a separately allocated key
// costs a 16-byte string header plus its own allocation).
const keyInline = 13

// Object is one stored value.
//
// Str holds a string value; Val holds the structure of every other kind
// (the type packages own its layout). Expire is an absolute Unix time in
// milliseconds, 0 when the key is persistent. Atime is the last access in
// Unix milliseconds (OBJECT IDLETIME).
//
// The object also holds the key it is stored under (the keyspace's hash
// table stores only object pointers): inline when it is short, else in
// kext. Inline key bytes are written once, when the object is first
// stored, and never changed afterwards, so the strings key() returns stay
// valid; an object stored again under another key (RENAME) gets kext.
type Object struct {
	Str    []byte
	Val    any
	Expire int64
	Atime  int64
	kext   *string // the key when it is not inline
	Kind   Kind
	// Enc is what OBJECT ENCODING must say of a string beyond what its
	// bytes tell (see StrEnc); SetStr resets it.
	Enc  StrEnc
	klen uint8 // inline key length + 1; 0 when no inline key
	kin  [keyInline]byte
}

// StrEnc records how Redis would have stored a string where its bytes do
// not tell.
type StrEnc uint8

const (
	// EncAuto: the encoding follows from the bytes ("int" for a canonical
	// int64, else "embstr" up to 44 bytes, else "raw").
	EncAuto StrEnc = iota
	// EncRaw: modified in place (APPEND, SETRANGE, SETBIT, PFADD ...),
	// which Redis always reports as "raw".
	EncRaw
	// EncNoInt: created without trying the int encoding (INCRBYFLOAT's
	// result), so "embstr" or "raw" even when it reads as an integer.
	EncNoInt
)

// SetStr replaces the string value, reusing the old buffer when it is large
// enough: steady-state overwrites of same-sized values do not allocate.
// v is copied; the caller keeps ownership of it.
func (o *Object) SetStr(v []byte) {
	if cap(o.Str) >= len(v) && cap(o.Str) <= 2*len(v)+32 {
		o.Str = append(o.Str[:0], v...)
	} else {
		o.Str = append(make([]byte, 0, len(v)), v...)
	}
	o.Kind, o.Val, o.Enc = KindString, nil, EncAuto
}

// key is the key the object is stored under ("" before it is stored).
// The string shares the object's memory; it stays valid and unchanged.
func (o *Object) key() string {
	if o.kext != nil {
		return *o.kext
	}
	if o.klen == 0 {
		return ""
	}
	return unsafe.String(&o.kin[0], int(o.klen-1))
}

func (o *Object) hasKey() bool { return o.kext != nil || o.klen != 0 }

// setKey records the key the object is stored under.
func (o *Object) setKey(k []byte) {
	if o.hasKey() {
		if o.key() == string(k) {
			return
		}
		s := string(k)
		o.kext = &s
		return
	}
	if len(k) <= keyInline {
		copy(o.kin[:], k)
		o.klen = uint8(len(k) + 1)
		return
	}
	s := string(k)
	o.kext = &s
}
