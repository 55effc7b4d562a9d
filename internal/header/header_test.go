package header

import (
	"net/http"
	"testing"
	"time"
)

func TestNextLink(t *testing.T) {
	tests := []struct {
		links []string
		want  string
	}{
		{nil, ""},
		{[]string{`<https://a/x?page=2>; rel="next"`}, "https://a/x?page=2"},
		{[]string{`<https://a/1>; rel="prev", <https://a/3>; rel="next"`}, "https://a/3"},
		{[]string{`<https://a/1>; rel="prev"`, `</3>; rel=next`}, "/3"},
		{[]string{`<https://a/3>; rel="last next"`}, "https://a/3"},
		{[]string{`<https://a/3>; title="x, <y>; rel=next"; rel="last"`}, ""},
		{[]string{`<https://a/3>; REL="NEXT"`}, "https://a/3"},
		{[]string{`https://a/3; rel="next"`}, ""},
		{[]string{`<https://a/3; rel="next"`}, ""},
		{[]string{`<>; rel="next"`}, ""},
		{[]string{`,,, <https://a/4>;rel="next"`}, "https://a/4"},
		{[]string{`<https://a/4>; rel="nextish"`}, ""},
	}
	for _, tt := range tests {
		h := http.Header{"Link": tt.links}
		if got := NextLink(h); got != tt.want {
			t.Errorf("NextLink(%q) = %q, want %q", tt.links, got, tt.want)
		}
	}
}

func TestBearerError(t *testing.T) {
	tests := []struct {
		values            []string
		code, description string
	}{
		{nil, "", ""},
		{[]string{`Bearer realm="example"`}, "", ""},
		{[]string{`Bearer realm="example", error="invalid_token", error_description="The access token expired"`},
			"invalid_token", "The access token expired"},
		{[]string{`Basic realm="x"`, `Bearer error=insufficient_scope, scope="tickets.write"`}, "insufficient_scope", ""},
		{[]string{`bearer error="invalid_token", error_description="a \"quoted\" word"`}, "invalid_token", `a "quoted" word`},
		{[]string{`Bearer error="unterminated`}, "unterminated", ""},
		{[]string{`Bearer =,=,error`}, "", ""},
		{[]string{`Bearer`}, "", ""},
	}
	for _, tt := range tests {
		h := http.Header{"Www-Authenticate": tt.values}
		code, desc := BearerError(h)
		if code != tt.code || desc != tt.description {
			t.Errorf("BearerError(%q) = %q, %q; want %q, %q", tt.values, code, desc, tt.code, tt.description)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"120", 120 * time.Second, true},
		{" 0 ", 0, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 0, false},
		{"9223372036854775807", time.Duration(maxSeconds) * time.Second, true},
		{"Mon, 15 Jan 2024 10:32:00 GMT", 2 * time.Minute, true},
		{"Mon, 15 Jan 2024 10:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(http.Header{"Retry-After": {tt.value}}, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{`<https://a/3>; rel="next"`, `Bearer error="x", a="\"`, `Mon, 15 Jan 2024 10:32:00 GMT`, `120`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := http.Header{"Link": {s}, "Www-Authenticate": {s, "Bearer " + s}, "Retry-After": {s}}
		NextLink(h)
		BearerError(h)
		if d, ok := RetryAfter(h, time.Now()); ok && d < 0 {
			t.Fatalf("negative Retry-After %v for %q", d, s)
		}
	})
}
