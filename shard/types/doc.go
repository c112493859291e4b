// Package types holds the value structures of the non-string kinds (hash,
// list, set, sorted set, ...) stored in shard.Object.Val.
//
// It owns data layout and algorithms only: no RESP, no keyspace, no
// configuration reads. Thresholds (listpack/intset limits) are passed in by
// the caller. Every structure implements Copy() any (COPY) and
// Encoding() string (OBJECT ENCODING, Redis 7.0 names), and is touched
// only by the worker owning its key, so none of it is locked.
//
// Byte slices passed in are copied when stored; slices returned point into
// the structure and are valid only until its next modification.
package types
