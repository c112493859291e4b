package proto

import (
	"bytes"
	"errors"
	"io"
)

// Limits Redis applies while parsing; the server may change MaxBulk and
// MaxQuery (proto-max-bulk-len, client-query-buffer-limit).
const (
	// MaxInline is the longest inline command or count line (PROTO_INLINE_MAX_SIZE).
	MaxInline = 64 * 1024
	// MaxUnauthArgs and MaxUnauthBulk bound what a client may announce
	// before it has authenticated, as in Redis 7.
	MaxUnauthArgs = 10
	MaxUnauthBulk = 16384
	maxMultibulk  = 1<<31 - 1

	minBuf    = 16 * 1024
	shrinkBuf = 64 * 1024
)

// ErrIncomplete means the buffer holds no complete command yet.
var ErrIncomplete = errors.New("incomplete command")

// ErrQueryLimit means a client's unparsed input exceeded MaxQuery.
var ErrQueryLimit = errors.New("client query buffer limit exceeded")

// ProtocolError is a malformed request. Redis answers "-ERR <Msg>" and closes
// the connection.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return e.Msg }

func protoErr(msg string) error { return &ProtocolError{Msg: "Protocol error: " + msg} }

// Reader parses RESP multibulk and inline commands from one connection.
//
// Use: Fill reads more bytes; Next returns commands until ErrIncomplete;
// when the caller is done with every argument returned since the last
// Release, it calls Release. Arguments are sub-slices of the read buffer and
// stay valid until Release; Fill and Feed may move the buffer, so they must
// only be called after Release. A client announcing a huge bulk never
// makes the Reader allocate that size up front: the buffer grows only as
// bytes actually arrive, up to MaxQuery.
type Reader struct {
	buf  []byte
	r, w int // unread bytes are buf[r:w]

	argv [][]byte // arena for the arguments of all commands since Release

	// MaxBulk is proto-max-bulk-len; MaxQuery bounds the unparsed bytes.
	MaxBulk  int64
	MaxQuery int64
	// Unauthenticated applies Redis's stricter pre-AUTH limits.
	Unauthenticated bool
}

// NewReader returns a Reader with Redis's default limits.
func NewReader() *Reader {
	return &Reader{MaxBulk: 512 << 20, MaxQuery: 1 << 30}
}

// Buffered reports how many unparsed bytes are held.
func (rd *Reader) Buffered() int { return rd.w - rd.r }

// Feed appends p to the buffer (for tests and in-process callers). Like
// Fill, it may only be called after Release.
func (rd *Reader) Feed(p []byte) {
	rd.makeRoom(len(p))
	rd.w += copy(rd.buf[rd.w:], p)
}

// Fill reads once from src into the buffer. Arguments returned before must
// have been released. It returns ErrQueryLimit when the unparsed input is
// already over MaxQuery.
func (rd *Reader) Fill(src io.Reader) (int, error) {
	if int64(rd.w-rd.r) >= rd.MaxQuery {
		return 0, ErrQueryLimit
	}
	rd.makeRoom(1)
	n, err := src.Read(rd.buf[rd.w:])
	rd.w += n
	return n, err
}

// makeRoom ensures at least n free bytes after w, compacting first and
// doubling only when the unread data really fills the buffer. The buffer
// is always used at its full length.
func (rd *Reader) makeRoom(n int) {
	if rd.buf == nil {
		rd.buf = make([]byte, max(minBuf, n))
	}
	if rd.r == rd.w {
		rd.r, rd.w = 0, 0
		if len(rd.buf) > shrinkBuf && n <= minBuf {
			rd.buf = make([]byte, minBuf) // give back a buffer a big request grew
		}
	}
	if len(rd.buf)-rd.w >= n {
		return
	}
	if rd.r > 0 {
		copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.w -= rd.r
		rd.r = 0
		if len(rd.buf)-rd.w >= n {
			return
		}
	}
	nb := make([]byte, max(2*len(rd.buf), rd.w+n))
	copy(nb, rd.buf[:rd.w])
	rd.buf = nb
}

// Release declares every argument returned so far dead.
func (rd *Reader) Release() {
	clear(rd.argv)
	rd.argv = rd.argv[:0]
}

// Next parses the next complete command. It returns ErrIncomplete when more
// bytes are needed (nothing is consumed then), a *ProtocolError for
// malformed input, or the arguments. Empty commands (an empty inline line,
// "*0") are skipped. The returned slice and its elements are valid until
// Release.
func (rd *Reader) Next() ([][]byte, error) {
	for {
		if rd.r >= rd.w {
			return nil, ErrIncomplete
		}
		var args [][]byte
		var err error
		if rd.buf[rd.r] == '*' {
			args, err = rd.multibulk()
		} else {
			args, err = rd.inline()
		}
		if err != nil || len(args) > 0 {
			return args, err
		}
	}
}

func (rd *Reader) multibulk() ([][]byte, error) {
	data := rd.buf[rd.r:rd.w]
	cr := lineEnd(data, '\r')
	if cr < 0 {
		if len(data) > MaxInline {
			return nil, protoErr("too big mbulk count string")
		}
		return nil, ErrIncomplete
	}
	if cr+1 >= len(data) {
		return nil, ErrIncomplete // the byte after '\r' is skipped unchecked, as in Redis
	}
	n, ok := ParseInt(data[1:cr])
	if !ok || n > maxMultibulk {
		return nil, protoErr("invalid multibulk length")
	}
	if rd.Unauthenticated && n > MaxUnauthArgs {
		return nil, protoErr("unauthenticated multibulk length")
	}
	pos := cr + 2
	if n <= 0 {
		rd.r += pos
		return nil, nil
	}
	start := len(rd.argv)
	for i := int64(0); i < n; i++ {
		if pos >= len(data) {
			return rd.incomplete(start)
		}
		cr = lineEnd(data[pos:], '\r')
		if cr < 0 {
			if len(data)-pos > MaxInline {
				rd.argv = rd.argv[:start]
				return nil, protoErr("too big bulk count string")
			}
			return rd.incomplete(start)
		}
		cr += pos
		if cr+1 >= len(data) {
			return rd.incomplete(start)
		}
		if c := data[pos]; c != '$' {
			rd.argv = rd.argv[:start]
			if c == '\r' || c == '\n' {
				c = ' ' // Redis never puts a line break in an error reply
			}
			return nil, protoErr("expected '$', got '" + string([]byte{c}) + "'")
		}
		blen, ok := ParseInt(data[pos+1 : cr])
		if !ok || blen < 0 || blen > rd.MaxBulk {
			rd.argv = rd.argv[:start]
			return nil, protoErr("invalid bulk length")
		}
		if rd.Unauthenticated && blen > MaxUnauthBulk {
			rd.argv = rd.argv[:start]
			return nil, protoErr("unauthenticated bulk length")
		}
		pos = cr + 2
		if int64(len(data)-pos) < blen+2 {
			return rd.incomplete(start)
		}
		end := pos + int(blen)
		rd.argv = append(rd.argv, data[pos:end:end])
		pos = end + 2
	}
	rd.r += pos
	return rd.argv[start:len(rd.argv):len(rd.argv)], nil
}

func (rd *Reader) incomplete(start int) ([][]byte, error) {
	rd.argv = rd.argv[:start]
	return nil, ErrIncomplete
}

func trimCR(data []byte, nl int) int {
	if nl > 0 && data[nl-1] == '\r' {
		return nl - 1
	}
	return nl
}

// lineEnd returns the index of the first c in b, or -1 when there is none
// or a NUL byte comes first: Redis finds line ends with strchr on its query
// buffer, which stops at NUL, so a line holding a NUL never completes (it
// ends as "too big ..." once the buffer passes MaxInline).
//
// Protocol header lines ("*3", "$64") are a few bytes long: a plain loop
// over the first bytes finds their end faster than two vectorized
// IndexByte calls would (their setup cost dominates on short inputs); a
// longer line (inline commands) falls back to IndexByte.
func lineEnd(b []byte, c byte) int {
	n := min(len(b), 16)
	for i := 0; i < n; i++ {
		switch b[i] {
		case c:
			return i
		case 0:
			return -1
		}
	}
	if n == len(b) {
		return -1
	}
	i := bytes.IndexByte(b[n:], c)
	if i < 0 {
		return -1
	}
	i += n
	if bytes.IndexByte(b[n:i], 0) >= 0 {
		return -1
	}
	return i
}

// ParseInt parses a decimal int64 exactly as Redis's string2ll does (protocol
// lengths, and every strict integer argument): optional '-', then "0" alone or digits without a leading zero;
// no '+', no spaces, at most 20 bytes.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	const limit = 1 << 63 // magnitude of math.MinInt64
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (limit-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		return -int64(v), true // v == 1<<63 wraps to MinInt64, as wanted
	}
	if v > limit-1 {
		return 0, false
	}
	return int64(v), true
}

// inline parses one inline command line, splitting it like Redis's
// sdssplitargs (double quotes with escapes, single quotes). Unescaping is
// done in place: the result is never longer than its source.
func (rd *Reader) inline() ([][]byte, error) {
	data := rd.buf[rd.r:rd.w]
	nl := lineEnd(data, '\n')
	if nl < 0 {
		if len(data) > MaxInline {
			return nil, protoErr("too big inline request")
		}
		return nil, ErrIncomplete
	}
	line := data[:trimCR(data, nl)]
	start := len(rd.argv)
	args, ok := SplitArgs(line, rd.argv)
	if !ok {
		rd.argv = rd.argv[:start]
		return nil, protoErr("unbalanced quotes in request")
	}
	rd.argv = args
	rd.r += nl + 1
	return rd.argv[start:len(rd.argv):len(rd.argv)], nil
}

// SplitArgs splits line as sdssplitargs does, appending the arguments to dst.
// Quoted arguments are unescaped in place, so line is modified and the
// appended slices alias it. It reports false on unbalanced quotes. Like
// sdssplitargs, which reads a C string, it stops at a NUL byte.
func SplitArgs(line []byte, dst [][]byte) ([][]byte, bool) {
	if z := bytes.IndexByte(line, 0); z >= 0 {
		line = line[:z]
	}
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return dst, true
		}
		out := i // write position for this argument (in place)
		begin := i
		inq, insq := false, false
		for {
			if inq {
				if i >= len(line) {
					return dst, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					line[out] = hexVal(line[i+2])<<4 | hexVal(line[i+3])
					out++
					i += 4
					continue
				case c == '\\' && i+1 < len(line):
					i++
					switch line[i] {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					default:
						c = line[i]
					}
				case c == '"':
					// closing quote must be followed by a space or the end
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return dst, false
					}
					i++
					goto done
				}
				line[out] = c
				out++
				i++
				continue
			}
			if insq {
				if i >= len(line) {
					return dst, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					c = '\''
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return dst, false
					}
					i++
					goto done
				}
				line[out] = c
				out++
				i++
				continue
			}
			if i >= len(line) {
				goto done
			}
			switch c := line[i]; c {
			case ' ', '\n', '\r', '\t', 0:
				goto done
			case '"':
				inq = true
				i++
			case '\'':
				insq = true
				i++
			default:
				line[out] = c
				out++
				i++
			}
		}
	done:
		dst = append(dst, line[begin:out:out])
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
