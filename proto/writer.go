package proto

import (
	"math"
	"strconv"

	"github.com/tidwall/redcon"
)

// Writer appends RESP replies to B. Resp3 selects the RESP3 encoding of the
// typed replies (null, map, set, double, boolean, verbatim, push); everything
// else is identical in both protocols.
//
// The zero Writer writes RESP2. B is owned by the caller; the Writer only
// appends to it. A Writer is not safe for concurrent use.
type Writer struct {
	B     []byte
	Resp3 bool
}

// Reset empties the buffer, keeping its capacity.
func (w *Writer) Reset() { w.B = w.B[:0] }

// Len is the number of bytes written so far.
func (w *Writer) Len() int { return len(w.B) }

// OK writes +OK.
func (w *Writer) OK() { w.B = append(w.B, "+OK\r\n"...) }

// Simple writes a simple string. CR and LF are replaced by spaces.
func (w *Writer) Simple(s string) { w.B = redcon.AppendString(w.B, s) }

// Error writes an error reply. msg is the full text without the leading '-',
// e.g. "ERR syntax error" or "WRONGTYPE Operation against ...". CR and LF are
// replaced by spaces, as Redis does.
func (w *Writer) Error(msg string) { w.B = redcon.AppendError(w.B, msg) }

// Int writes an integer reply.
func (w *Writer) Int(n int64) { w.B = redcon.AppendInt(w.B, n) }

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) { w.B = redcon.AppendBulk(w.B, b) }

// BulkString writes a bulk string.
func (w *Writer) BulkString(s string) { w.B = redcon.AppendBulkString(w.B, s) }

// BulkInt writes n as a bulk string ("$2\r\n42\r\n").
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes the null bulk string (RESP2 "$-1") or RESP3 null.
func (w *Writer) Null() {
	if w.Resp3 {
		w.B = append(w.B, "_\r\n"...)
		return
	}
	w.B = append(w.B, "$-1\r\n"...)
}

// NullArray writes the null array (RESP2 "*-1") or RESP3 null.
func (w *Writer) NullArray() {
	if w.Resp3 {
		w.B = append(w.B, "_\r\n"...)
		return
	}
	w.B = append(w.B, "*-1\r\n"...)
}

// Array writes an array header of n elements.
func (w *Writer) Array(n int) { w.B = redcon.AppendArray(w.B, n) }

// Map writes a map header of n key/value pairs (RESP2: an array of 2n).
func (w *Writer) Map(n int) {
	if w.Resp3 {
		w.B = appendHeader(w.B, '%', n)
		return
	}
	w.Array(2 * n)
}

// Set writes a set header of n elements (RESP2: an array).
func (w *Writer) Set(n int) {
	if w.Resp3 {
		w.B = appendHeader(w.B, '~', n)
		return
	}
	w.Array(n)
}

// Push writes a push header of n elements (RESP2: an array).
func (w *Writer) Push(n int) {
	if w.Resp3 {
		w.B = appendHeader(w.B, '>', n)
		return
	}
	w.Array(n)
}

// Bool writes a boolean (RESP2: integer 1 or 0).
func (w *Writer) Bool(v bool) {
	switch {
	case w.Resp3 && v:
		w.B = append(w.B, "#t\r\n"...)
	case w.Resp3:
		w.B = append(w.B, "#f\r\n"...)
	case v:
		w.B = append(w.B, ":1\r\n"...)
	default:
		w.B = append(w.B, ":0\r\n"...)
	}
}

// Double writes a double the way Redis 7.0 does: RESP3 ",<v>", RESP2 a bulk
// string; "inf"/"-inf" for infinities, %.17g otherwise.
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	s := AppendDouble(tmp[:0], f)
	if w.Resp3 {
		w.B = append(w.B, ',')
		w.B = append(w.B, s...)
		w.B = append(w.B, '\r', '\n')
		return
	}
	w.Bulk(s)
}

// Verbatim writes a verbatim string of the given 3-letter format ("txt")
// under RESP3 and a plain bulk string under RESP2.
func (w *Writer) Verbatim(format, s string) {
	if !w.Resp3 {
		w.BulkString(s)
		return
	}
	w.B = appendHeader(w.B, '=', len(s)+4)
	w.B = append(w.B, format...)
	w.B = append(w.B, ':')
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// Raw appends already-encoded RESP.
func (w *Writer) Raw(b []byte) { w.B = append(w.B, b...) }

// StringArray writes an array of bulk strings.
func (w *Writer) StringArray(items []string) {
	w.Array(len(items))
	for _, s := range items {
		w.BulkString(s)
	}
}

// StringSet writes a set of bulk strings (an array under RESP2).
func (w *Writer) StringSet(items []string) {
	w.Set(len(items))
	for _, s := range items {
		w.BulkString(s)
	}
}

// AppendDouble formats f as Redis 7.0 does in replies: "inf", "-inf",
// "nan", or %.17g.
func AppendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

func appendHeader(b []byte, c byte, n int) []byte {
	b = append(b, c)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}
