package header

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// Budget is a request quota as one response reports it.
type Budget struct {
	Limit     int       // requests allowed in the window; 0 when not reported
	Remaining int       // requests left in the window, never above a reported Limit
	Reset     time.Time // when the window ends
}

// RateLimit reads the request budget of a response. It understands
//
//	X-RateLimit-Limit: 500, X-RateLimit-Remaining: 42, X-RateLimit-Reset: <Unix seconds, or seconds from now below 10^6>
//	RateLimit-Policy: "hour";q=500;w=3600 and RateLimit: "hour";r=42;t=1800
//	RateLimit: limit=500, remaining=42, reset=1800
//
// the second being draft-ietf-httpapi-ratelimit-headers (policy names as
// strings or tokens, the quota as q or the older l) and the third its earlier
// dictionary form; t and reset count seconds from now. X-RateLimit-* wins
// when complete. Among several IETF policies the one with the fewest
// remaining requests is reported, as the draft asks servers to do. Numbers
// must be non-negative integers of at most 15 digits (RFC 8941); anything
// else is ignored, and ok is false when no remaining count and reset time
// could be read.
func RateLimit(h http.Header, now time.Time) (b Budget, ok bool) {
	remaining, ok1 := count(Get(h, "X-Ratelimit-Remaining"))
	reset, ok2 := count(Get(h, "X-Ratelimit-Reset"))
	if ok1 && ok2 {
		limit, _ := count(Get(h, "X-Ratelimit-Limit"))
		b = Budget{Limit: toInt(limit), Remaining: toInt(remaining), Reset: resetAt(reset, now)}
	} else if b, ok = ietf(h, now); !ok {
		return Budget{}, false
	}
	if b.Limit > 0 && b.Remaining > b.Limit {
		b.Remaining = b.Limit
	}
	return b, true
}

// ietf reads the RateLimit and RateLimit-Policy fields.
func ietf(h http.Header, now time.Time) (Budget, bool) {
	var (
		b     Budget
		found bool
		name  string
	)
	for _, v := range h["Ratelimit"] {
		if d := authParams(v); d["remaining"] != "" { // the earlier dictionary form
			r, ok1 := count(d["remaining"])
			t, ok2 := count(d["reset"])
			if !ok1 || !ok2 {
				continue
			}
			limit, _ := count(d["limit"])
			return Budget{Limit: toInt(limit), Remaining: toInt(r), Reset: after(now, t)}, true
		}
		for m := range members(v) {
			r, ok1 := m.param("r")
			t, ok2 := m.param("t")
			if !ok1 || !ok2 || (found && toInt(r) >= b.Remaining) {
				continue // without t there is no window to place r in
			}
			b, found, name = Budget{Remaining: toInt(r), Reset: after(now, t)}, true, m.name
		}
	}
	if !found {
		return Budget{}, false
	}
	var policies []member
	for _, v := range h["Ratelimit-Policy"] {
		for m := range members(v) {
			policies = append(policies, m)
		}
	}
	for _, p := range policies {
		if p.name == name || len(policies) == 1 {
			if q, ok := p.param("q"); ok {
				b.Limit = toInt(q)
			} else if l, ok := p.param("l"); ok {
				b.Limit = toInt(l)
			}
			break
		}
	}
	return b, true
}

// member is one Item of a Structured Field List: a name (string or token)
// and its parameters.
type member struct {
	name   string
	params string // ";r=42;t=1800", not yet split
}

// param returns the integer value of parameter key.
func (m member) param(key string) (int64, bool) {
	for p := range strings.SplitSeq(m.params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.TrimSpace(k) == key {
			return count(v)
		}
	}
	return 0, false
}

// members yields the Items of a Structured Field List value, tolerating
// whitespace and skipping malformed members.
func members(v string) func(yield func(member) bool) {
	return func(yield func(member) bool) {
		for len(v) > 0 {
			v = strings.TrimLeft(v, " \t,")
			var m member
			if strings.HasPrefix(v, `"`) {
				end := strings.IndexByte(v[1:], '"')
				if end < 0 {
					return
				}
				m.name, v = v[1:end+1], v[end+2:]
			} else {
				end := strings.IndexAny(v, ";,")
				if end < 0 {
					end = len(v)
				}
				m.name, v = strings.TrimSpace(v[:end]), v[end:]
			}
			end := strings.IndexByte(v, ',')
			if end < 0 {
				end = len(v)
			}
			m.params, v = v[:end], v[end:]
			if m.name != "" && !yield(m) {
				return
			}
		}
	}
}

// count parses a non-negative decimal integer of at most 15 digits, the
// range of an RFC 8941 Integer.
func count(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// toInt converts a count to int, saturating where int has 32 bits.
func toInt(n int64) int { return int(min(n, math.MaxInt)) }

// after returns the time secs seconds after now.
func after(now time.Time, secs int64) time.Time {
	return now.Add(time.Duration(min(secs, maxSeconds)) * time.Second)
}

// maxDelta bounds the X-RateLimit-Reset values read as seconds from now
// rather than as a Unix time: no window lasts 11 days, and no Unix time
// this API sends is so small.
const maxDelta = 1_000_000

// resetAt reads X-RateLimit-Reset: Unix seconds, or seconds from now when
// below maxDelta.
func resetAt(v int64, now time.Time) time.Time {
	if v < maxDelta {
		return after(now, v)
	}
	return time.Unix(v, 0)
}
