package server

import (
	"math"

	"github.com/kvd/kvd/proto"
)

// The one option parser of the string family: SET's NX|XX, GET and
// EX|PX|EXAT|PXAT|KEEPTTL, and GETEX's EX|PX|EXAT|PXAT|PERSIST, as Redis 7.0's
// parseExtendedStringArgumentsOrReply. SETEX and PSETEX reuse its expiry
// arithmetic (setExpireAt).

// setOptFlags are the options a SET or GETEX call carries.
type setOptFlags uint16

const (
	setOptNX setOptFlags = 1 << iota
	setOptXX
	setOptGet
	setOptKeepTTL
	setOptPersist
	setOptEX
	setOptPX
	setOptEXAT
	setOptPXAT

	// setOptExpire is any of the options that take an expiry argument.
	setOptExpire = setOptEX | setOptPX | setOptEXAT | setOptPXAT
)

// setOptsMode selects which command's grammar parseSetOpts accepts.
type setOptsMode uint8

const (
	setOptsModeSet   setOptsMode = iota // SET: NX XX GET KEEPTTL EX PX EXAT PXAT
	setOptsModeGetEx                    // GETEX: PERSIST EX PX EXAT PXAT
)

// setOpts is a parsed option list. Expire is the argument of the expiry
// option (aliasing the command's arguments, so valid only during the call).
type setOpts struct {
	Flags  setOptFlags
	Expire []byte
}

// parseSetOpts parses the options that follow SET key value or GETEX key.
// It reports false for Redis's "ERR syntax error": an unknown or misplaced
// option, an expiry option without its argument, or two options that
// exclude each other (NX with XX; two different expiry options; KEEPTTL or
// PERSIST with an expiry). Repeating the same option is allowed and the
// last expiry argument wins, as in Redis. The expiry argument itself is not
// checked here: Redis validates it later (setExpireAt), after every option has
// been accepted.
func parseSetOpts(args [][]byte, mode setOptsMode) (setOpts, bool) {
	var o setOpts
	for j := 0; j < len(args); j++ {
		opt := args[j]
		hasNext := j+1 < len(args)
		f := o.Flags
		switch {
		case mode == setOptsModeSet && optIs(opt, "nx") && f&setOptXX == 0:
			o.Flags |= setOptNX
		case mode == setOptsModeSet && optIs(opt, "xx") && f&setOptNX == 0:
			o.Flags |= setOptXX
		case mode == setOptsModeSet && optIs(opt, "get"):
			o.Flags |= setOptGet
		case mode == setOptsModeSet && optIs(opt, "keepttl") && f&(setOptPersist|setOptExpire) == 0:
			o.Flags |= setOptKeepTTL
		case mode == setOptsModeGetEx && optIs(opt, "persist") && f&(setOptKeepTTL|setOptExpire) == 0:
			o.Flags |= setOptPersist
		case optIs(opt, "ex") && hasNext && f&(setOptKeepTTL|setOptPersist|setOptExpire&^setOptEX) == 0:
			o.Flags |= setOptEX
			o.Expire = args[j+1]
			j++
		case optIs(opt, "px") && hasNext && f&(setOptKeepTTL|setOptPersist|setOptExpire&^setOptPX) == 0:
			o.Flags |= setOptPX
			o.Expire = args[j+1]
			j++
		case optIs(opt, "exat") && hasNext && f&(setOptKeepTTL|setOptPersist|setOptExpire&^setOptEXAT) == 0:
			o.Flags |= setOptEXAT
			o.Expire = args[j+1]
			j++
		case optIs(opt, "pxat") && hasNext && f&(setOptKeepTTL|setOptPersist|setOptExpire&^setOptPXAT) == 0:
			o.Flags |= setOptPXAT
			o.Expire = args[j+1]
			j++
		default:
			return setOpts{}, false
		}
	}
	return o, true
}

// setExpireErr is why an expiry argument was refused.
type setExpireErr uint8

const (
	setExpireOK     setExpireErr = iota
	setExpireNotInt              // "ERR value is not an integer or out of range"
	setExpireBad                 // "ERR invalid expire time in '<cmd>' command"
)

// text is the error reply for e in command name.
func (e setExpireErr) text(name string) string {
	if e == setExpireNotInt {
		return ErrNotInteger
	}
	return "ERR invalid expire time in '" + name + "' command"
}

// setExpireAt turns the argument of the expiry option in flags (one of setOptEX,
// setOptPX, setOptEXAT, setOptPXAT) into an absolute Unix time in milliseconds, as
// Redis 7.0's getExpireMillisecondsOrReply: the value must be a positive
// integer; seconds are multiplied by 1000 and relative times get now added,
// and an overflow of either step is an invalid expire time. An absolute time
// in the past is accepted (the key then expires at once).
func setExpireAt(flags setOptFlags, arg []byte, now int64) (int64, setExpireErr) {
	v, ok := strictInt64(arg)
	if !ok {
		return 0, setExpireNotInt
	}
	seconds := flags&(setOptEX|setOptEXAT) != 0
	if v <= 0 || (seconds && v > math.MaxInt64/1000) {
		return 0, setExpireBad
	}
	if seconds {
		v *= 1000
	}
	if flags&(setOptEX|setOptPX) != 0 {
		if now > 0 && v > math.MaxInt64-now {
			return 0, setExpireBad
		}
		v += now
		if v <= 0 {
			return 0, setExpireBad
		}
	}
	return v, setExpireOK
}

// strictInt64 parses a decimal integer exactly as Redis's string2ll: an
// optional '-', no '+', no spaces, no leading zeros ("0" alone is fine, "-0"
// and "01" are not), and it must fit in 64 bits.
func strictInt64(b []byte) (int64, bool) { return proto.ParseInt(b) }

// optIs reports whether b equals the lower-case ASCII word s, ignoring
// case, without allocating.
func optIs(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
