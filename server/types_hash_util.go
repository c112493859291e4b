package server

import (
	"strconv"

	"github.com/kvd/kvd/proto"
)

// Helpers shared by the collection type families (HSCAN/SSCAN/ZSCAN option
// parsing and reply, bounds for random-member replies). Written with the
// hash family; usable by any family.

// errCollInvalidCursor is Redis's reply to an unparsable SCAN-family cursor.
const errCollInvalidCursor = "ERR invalid cursor"

// collScanOpts are the options of HSCAN, SSCAN and ZSCAN.
type collScanOpts struct {
	Count  int64  // COUNT, default 10
	Pat    []byte // MATCH pattern (points into the arguments)
	UsePat bool   // false when there is no pattern or it is exactly "*"
}

// Match reports whether member passes the MATCH filter.
func (o *collScanOpts) Match(member string) bool {
	return !o.UsePat || GlobMatch(o.Pat, keysBytes(member), false)
}

// collParseScanOpts parses "[MATCH pattern] [COUNT count]" as Redis's
// scanGenericCommand does for a key's collection (no TYPE): a non-integer
// COUNT is "value is not an integer", COUNT < 1 and anything unknown or
// incomplete a syntax error. It returns the error text, or "" on success.
func collParseScanOpts(args [][]byte) (collScanOpts, string) {
	opts := collScanOpts{Count: 10}
	for i := 0; i < len(args); i += 2 {
		more := len(args) - i
		switch {
		case optIs(args[i], "count") && more >= 2:
			n, ok := strictInt64(args[i+1])
			if !ok {
				return opts, ErrNotInteger
			}
			if n < 1 {
				return opts, ErrSyntax
			}
			opts.Count = n
		case optIs(args[i], "match") && more >= 2:
			opts.Pat = args[i+1]
			opts.UsePat = !(len(opts.Pat) == 1 && opts.Pat[0] == '*')
		default:
			return opts, ErrSyntax
		}
	}
	return opts, ""
}

// collScanReply writes a SCAN-family reply: the next cursor as a bulk
// string and the flat array of items (an array under RESP3 too, as in
// Redis 7.0).
func collScanReply(w *proto.Writer, next uint64, items []string) {
	w.Array(2)
	var tmp [24]byte
	w.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	w.StringArray(items)
}

// collRandMaxReply bounds the reply of a random-member command sampling
// with repetition (negative count: HRANDFIELD, SRANDMEMBER, ZRANDMEMBER),
// whose size the collection does not bound. Redis builds a reply of any
// size and exhausts memory; kvd answers errCollRandTooBig instead.
const collRandMaxReply = 512 << 20

const errCollRandTooBig = "ERR reply too large: the count would make the reply exceed 512mb"

// collRandHopeless reports whether count elements of at least minElem
// encoded bytes each would exceed collRandMaxReply, so the command can
// refuse before doing any work.
func collRandHopeless(count, minElem int64) bool {
	return count > collRandMaxReply/minElem
}

// collBulkLen is the encoded size of a bulk string of n bytes.
func collBulkLen(n int) int64 {
	digits := int64(1)
	for v := n; v >= 10; v /= 10 {
		digits++
	}
	return 1 + digits + 2 + int64(n) + 2
}
