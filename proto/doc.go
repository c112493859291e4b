// Package proto reads RESP requests and encodes RESP2/RESP3 replies.
//
// It owns the wire format and nothing else: it knows no command names, no
// keyspace and no sockets. The server feeds it bytes (Reader) and asks it to
// append replies to a byte slice (Writer).
//
// Buffer ownership: Reader parses in place. The argument slices it returns are
// sub-slices of its read buffer and stay valid only until the next call to
// Reader.Compact or Reader.Fill, which may move or overwrite the bytes. Callers
// that keep an argument beyond that (a stored value, a key in a map) must copy
// it. Writer appends to a caller-owned slice and never retains anything else.
package proto
