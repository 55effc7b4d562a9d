// Package header parses the HTTP response header fields the API uses to
// steer a client: Link (RFC 8288), WWW-Authenticate (RFC 6750), Retry-After
// (RFC 9110) and the request budget (X-RateLimit-*, RateLimit and
// RateLimit-Policy). Every parser accepts any input without panicking and
// reports absent or malformed values as not present.
package header

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// NextLink returns the target of the first Link entry with rel="next" (RFC
// 8288), or "" when there is none. The target is returned as written; the
// caller resolves it against the request URL.
func NextLink(h http.Header) string {
	for _, v := range h["Link"] {
		for len(v) > 0 {
			v = strings.TrimLeft(v, " \t,")
			if !strings.HasPrefix(v, "<") {
				break
			}
			end := strings.IndexByte(v, '>')
			if end < 0 {
				break
			}
			target := v[1:end]
			v = v[end+1:]
			params := v
			if i := nextEntry(v); i >= 0 {
				params, v = v[:i], v[i:]
			} else {
				v = ""
			}
			for _, p := range splitUnquoted(params, ';') {
				name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
					continue
				}
				for rel := range strings.FieldsSeq(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target
					}
				}
			}
		}
	}
	return ""
}

// splitUnquoted splits s at every sep outside double quotes.
func splitUnquoted(s string, sep byte) []string {
	var parts []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// nextEntry returns the index of the comma that starts the next link entry in
// s (a comma outside quotes followed by '<'), or -1.
func nextEntry(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ',':
			if !quoted && strings.HasPrefix(strings.TrimLeft(s[i+1:], " \t"), "<") {
				return i
			}
		}
	}
	return -1
}

// BearerError returns the error code and description of a Bearer challenge
// in WWW-Authenticate (RFC 6750 §3), such as "invalid_token" or
// "insufficient_scope".
func BearerError(h http.Header) (code, description string) {
	for _, v := range h["Www-Authenticate"] {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			continue
		}
		params := authParams(rest)
		if params["error"] != "" {
			return params["error"], params["error_description"]
		}
	}
	return "", ""
}

// authParams parses comma-separated auth-params (name=token or
// name="quoted string").
func authParams(s string) map[string]string {
	m := make(map[string]string)
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t,")
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			val = b.String()
			s = s[min(i+1, len(s)):]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val = strings.TrimSpace(s[:end])
			s = s[end:]
		}
		if _, seen := m[name]; !seen {
			m[name] = val
		}
	}
	return m
}

// RetryAfter parses Retry-After as delay-seconds or an HTTP date relative to
// now. It reports false for an absent or malformed value. A date in the past
// gives 0 and true. The result is not clamped; callers bound it.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(Get(h, "Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(maxSeconds) {
			n = int64(maxSeconds)
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// maxSeconds keeps a parsed number of seconds within time.Duration.
const maxSeconds = int64(1<<63-1) / int64(time.Second)

// Get returns the first value of the field whose canonical name is key
// (such as "X-Request-Id"): http.Header.Get without canonicalizing the name
// on every call. A response's header map holds canonical names only.
func Get(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
