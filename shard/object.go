package shard

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

// Object is one stored value.
//
// Str holds a string value; Val holds the structure of every other kind
// (the type packages own its layout). Expire is an absolute Unix time in
// milliseconds, 0 when the key is persistent. Atime is the last access in
// Unix milliseconds (OBJECT IDLETIME).
type Object struct {
	Str    []byte
	Val    any
	Expire int64
	Atime  int64
	Kind   Kind
	// Raw marks a string that was modified in place (APPEND, SETRANGE),
	// which Redis always reports with the "raw" encoding.
	Raw bool
}

// SetStr replaces the string value, reusing the old buffer when it is large
// enough: steady-state overwrites of same-sized values do not allocate.
// v is copied; the caller keeps ownership of it.
func (o *Object) SetStr(v []byte) {
	if cap(o.Str) >= len(v) && cap(o.Str) <= 2*len(v)+32 {
		o.Str = append(o.Str[:0], v...)
	} else {
		o.Str = append(make([]byte, 0, len(v)), v...)
	}
	o.Kind, o.Val, o.Raw = KindString, nil, false
}
