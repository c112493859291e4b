package server

import (
	"math"
	"strconv"

	"github.com/kvd/kvd/shard/types"
)

// Redis's double parsing, shared by the sorted set and geo families.
//
// Redis reads scores with C's strtod in two ways:
//   - getDoubleFromObject / string2d (ZADD, ZINCRBY, WEIGHTS, GEOADD ...):
//     the whole argument must be one number, with no leading space; NaN,
//     overflow to infinity and underflow to zero are refused ("ERR value is
//     not a valid float"), while "inf", "+inf", "-Infinity" are accepted.
//   - zslParseRange (ZRANGEBYSCORE, ZCOUNT, ZREMRANGEBYSCORE ...): a leading
//     "(" makes the bound exclusive, then strtod must stop at the end of the
//     C string. Leading spaces are skipped, an empty bound is 0, overflow
//     gives an infinity and underflow 0; only NaN is refused.

// cStrtod scans b as glibc's strtod (C locale) does. It returns the value,
// the number of bytes consumed (0 when no conversion could be performed,
// strtod's endptr == nptr) and whether the conversion hit ERANGE with a
// result of zero or an infinity (underflow to zero, overflow).
func cStrtod(b []byte) (v float64, n int, rangeErr bool) {
	i := 0
	for i < len(b) && scoreIsSpace(b[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	rest := b[i:]
	switch {
	case scoreHasPrefixFold(rest, "infinity"):
		return math.Copysign(math.Inf(1), scoreSign(neg)), i + 8, false
	case scoreHasPrefixFold(rest, "inf"):
		return math.Copysign(math.Inf(1), scoreSign(neg)), i + 3, false
	case scoreHasPrefixFold(rest, "nan"):
		j := i + 3
		// An optional "(n-char-sequence)".
		if j < len(b) && b[j] == '(' {
			k := j + 1
			for k < len(b) && (scoreIsAlnum(b[k]) || b[k] == '_') {
				k++
			}
			if k < len(b) && b[k] == ')' {
				j = k + 1
			}
		}
		return math.NaN(), j, false
	}
	if len(rest) >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') {
		if v, n, rangeErr, ok := strtodHex(b, start, i+2, neg); ok {
			return v, n, rangeErr
		}
		// "0x" without hex digits: strtod reads the "0" alone.
	}
	j := i
	digits, nonzero := 0, false
	for j < len(b) && scoreIsDigit(b[j]) {
		nonzero = nonzero || b[j] != '0'
		j++
		digits++
	}
	if j < len(b) && b[j] == '.' {
		k := j + 1
		frac := 0
		for k < len(b) && scoreIsDigit(b[k]) {
			nonzero = nonzero || b[k] != '0'
			k++
			frac++
		}
		if digits+frac > 0 {
			j = k
			digits += frac
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		k := j + 1
		if k < len(b) && (b[k] == '+' || b[k] == '-') {
			k++
		}
		if k < len(b) && scoreIsDigit(b[k]) {
			for k < len(b) && scoreIsDigit(b[k]) {
				k++
			}
			j = k
		}
	}
	v, _ = strconv.ParseFloat(string(b[start:j]), 64)
	return v, j, strtodRangeErr(v, nonzero)
}

// strtodHex reads a hexadecimal float whose digits start at b[at] ("0x"
// already seen). ok is false when no hex digit follows.
func strtodHex(b []byte, start, at int, neg bool) (v float64, n int, rangeErr, ok bool) {
	j := at
	digits, nonzero := 0, false
	for j < len(b) && scoreIsHexDigit(b[j]) {
		nonzero = nonzero || b[j] != '0'
		j++
		digits++
	}
	if j < len(b) && b[j] == '.' {
		k := j + 1
		frac := 0
		for k < len(b) && scoreIsHexDigit(b[k]) {
			nonzero = nonzero || b[k] != '0'
			k++
			frac++
		}
		if digits+frac > 0 {
			j = k
			digits += frac
		}
	}
	if digits == 0 {
		return 0, 0, false, false
	}
	text := string(b[start:j])
	hasExp := false
	if j < len(b) && (b[j] == 'p' || b[j] == 'P') {
		k := j + 1
		if k < len(b) && (b[k] == '+' || b[k] == '-') {
			k++
		}
		if k < len(b) && scoreIsDigit(b[k]) {
			for k < len(b) && scoreIsDigit(b[k]) {
				k++
			}
			text = string(b[start:k])
			j = k
			hasExp = true
		}
	}
	if !hasExp {
		text += "p0" // Go wants the binary exponent that C makes optional
	}
	v, _ = strconv.ParseFloat(text, 64)
	return v, j, strtodRangeErr(v, nonzero), true
}

// strtodRangeErr reports strtod's ERANGE cases Redis cares about: an
// infinity from finite digits, or zero from nonzero digits.
func strtodRangeErr(v float64, nonzero bool) bool {
	return math.IsInf(v, 0) || (v == 0 && nonzero)
}

// parseScore parses a whole argument as a double the way Redis's
// getDoubleFromObject (string2d) does. It reports false for "ERR value is
// not a valid float".
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || scoreIsSpace(b[0]) {
		return 0, false
	}
	v, n, rangeErr := cStrtod(b)
	if n != len(b) || rangeErr || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// parseScoreBound parses one bound of a score range as zslParseRange: an
// optional "(" (exclusive), then strtod up to the end of the C string.
func parseScoreBound(b []byte) (v float64, ex, ok bool) {
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	v, n, _ := cStrtod(b)
	if n < len(b) && b[n] != 0 {
		return 0, false, false
	}
	if math.IsNaN(v) {
		return 0, false, false
	}
	return v, ex, true
}

// parseScoreRange parses min and max as Redis's zslParseRange; false means
// "ERR min or max is not a float".
func parseScoreRange(min, max []byte) (types.ScoreRange, bool) {
	var r types.ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = parseScoreBound(min); !ok {
		return r, false
	}
	if r.Max, r.MaxEx, ok = parseScoreBound(max); !ok {
		return r, false
	}
	return r, true
}

// parseLexBound parses one bound of a lex range as zslParseLexRangeItem:
// "+", "-", "(member" or "[member".
func parseLexBound(b []byte) (types.LexBound, bool) {
	if len(b) == 0 {
		return types.LexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		// Redis tests the next C character: "+" then a NUL byte is "+".
		if len(b) > 1 && b[1] != 0 {
			return types.LexBound{}, false
		}
		if b[0] == '+' {
			return types.LexBound{Inf: 1, Ex: true}, true
		}
		return types.LexBound{Inf: -1, Ex: true}, true
	case '(':
		return types.LexBound{Value: string(b[1:]), Ex: true}, true
	case '[':
		return types.LexBound{Value: string(b[1:])}, true
	}
	return types.LexBound{}, false
}

// parseLexRange parses min and max as Redis's zslParseLexRange; false means
// "ERR min or max not valid string range item".
func parseLexRange(min, max []byte) (types.LexRange, bool) {
	var r types.LexRange
	var ok bool
	if r.Min, ok = parseLexBound(min); !ok {
		return r, false
	}
	if r.Max, ok = parseLexBound(max); !ok {
		return r, false
	}
	return r, true
}

func scoreIsSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

func scoreIsDigit(c byte) bool { return c >= '0' && c <= '9' }

func scoreIsHexDigit(c byte) bool {
	return scoreIsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func scoreIsAlnum(c byte) bool {
	return scoreIsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// scoreHasPrefixFold reports whether b starts with the lower-case ASCII word s,
// ignoring case.
func scoreHasPrefixFold(b []byte, s string) bool {
	return len(b) >= len(s) && optIs(b[:len(s)], s)
}

func scoreSign(neg bool) float64 {
	if neg {
		return -1
	}
	return 1
}
