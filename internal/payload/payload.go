// Package payload reads the envelope of a BlueClerk webhook payload
// ({"event": …, "timestamp": …, "data": …}) in one pass over its bytes, so
// that the record under "data" can be decoded straight into its type. It
// reads the body as encoding/json would decode it into
// blueclerk.Event, or reports that it cannot vouch for that.
package payload

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Payload is what Scan finds in a webhook body. Its slices share body.
type Payload struct {
	Type      []byte // the contents of the string under "event"
	Timestamp []byte // the value under "timestamp", nil when absent
	Data      []byte // the value under "data", nil when absent
}

// Scan finds the values of a payload's keys, matched in any letter
// case as encoding/json matches them to Event's fields. It checks that body
// is one JSON object whose other values are JSON and whose "event" is a
// string; the caller checks the timestamp and data. It reports false when
// body is not such an object, or when it cannot vouch for reading it as
// encoding/json does: a key holds an escape or a byte beyond ASCII, a key
// appears twice, or "event" holds an escape or is not UTF-8.
func Scan(body []byte) (p Payload, ok bool) {
	var typ []byte
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return p, false
	}
	i = skipSpace(body, i+1)
	for more := i < len(body) && body[i] != '}'; more; {
		if i == len(body) || body[i] != '"' {
			return p, false
		}
		end := skipString(body, i)
		if end < 0 {
			return p, false
		}
		key := body[i+1 : end-1]
		if !plainString(key) || !isASCII(key) {
			return p, false
		}
		if i = skipSpace(body, end); i == len(body) || body[i] != ':' {
			return p, false
		}
		i = skipSpace(body, i+1)
		if end = skipValue(body, i); end < 0 {
			return p, false
		}
		value := body[i:end]
		var dst *[]byte
		switch {
		case bytes.EqualFold(key, []byte("event")):
			dst = &typ
		case bytes.EqualFold(key, []byte("timestamp")):
			dst = &p.Timestamp
		case bytes.EqualFold(key, []byte("data")):
			dst = &p.Data
		case !json.Valid(value):
			return p, false
		}
		if dst != nil {
			if *dst != nil {
				return p, false
			}
			*dst = value
		}
		switch i = skipSpace(body, end); {
		case i < len(body) && body[i] == ',':
			i = skipSpace(body, i+1)
		case i < len(body) && body[i] == '}':
			more = false
		default:
			return p, false
		}
	}
	if i == len(body) || skipSpace(body, i+1) != len(body) {
		return p, false
	}
	if len(typ) < 2 || typ[0] != '"' || !plainString(typ[1:len(typ)-1]) || !utf8.Valid(typ) {
		return p, false
	}
	p.Type = typ[1 : len(typ)-1]
	return p, true
}

// plainString reports whether s, the contents of a JSON string, holds no
// escape and no control character: whether it is the string's value.
func plainString(s []byte) bool {
	for _, c := range s {
		if c == '\\' || c < ' ' {
			return false
		}
	}
	return true
}

// isASCII reports whether s holds ASCII only.
func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// skipSpace returns the index of the first byte of b at or after i that is
// not JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at b[i],
// or -1 when b ends first. It checks no more than it needs to find the end.
func skipValue(b []byte, i int) int {
	if i == len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	// A number, true, false or null: up to the next delimiter.
	end := i
	for end < len(b) && !strings.ContainsRune(" \t\n\r,:]}", rune(b[end])) {
		end++
	}
	if end == i {
		return -1
	}
	return end
}

// skipString returns the index just past the JSON string starting at b[i],
// a quote, or -1 when b ends first.
func skipString(b []byte, i int) int {
	for j := i + 1; ; {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return -1
		}
		j += q
		// The quote ends the string unless an odd number of backslashes
		// escape it.
		n := 0
		for n < j-i-1 && b[j-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}
