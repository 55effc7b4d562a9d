package header

import (
	"net/http"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	in := func(d time.Duration) time.Time { return now.Add(d) }
	tests := []struct {
		name   string
		fields []string // name, value pairs
		want   Budget
		ok     bool
	}{
		{"none", nil, Budget{}, false},
		{"x-ratelimit", []string{"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "42", "X-RateLimit-Reset", "1700001800"},
			Budget{500, 42, in(30 * time.Minute)}, true},
		{"x-ratelimit reset in seconds from now", []string{"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "42", "X-RateLimit-Reset", "1800"},
			Budget{500, 42, in(30 * time.Minute)}, true},
		{"x-ratelimit reset just below a Unix time", []string{"X-RateLimit-Remaining", "42", "X-RateLimit-Reset", "999999"},
			Budget{0, 42, in(999999 * time.Second)}, true},
		{"x-ratelimit without limit", []string{"X-RateLimit-Remaining", "42", "X-RateLimit-Reset", "1700001800"},
			Budget{0, 42, in(30 * time.Minute)}, true},
		{"x-ratelimit without reset", []string{"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "42"}, Budget{}, false},
		{"remaining above limit", []string{"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "9000", "X-RateLimit-Reset", "1700001800"},
			Budget{500, 500, in(30 * time.Minute)}, true},
		{"reset in the past is reported as is", []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1600000000"},
			Budget{0, 0, time.Unix(1_600_000_000, 0)}, true},
		{"negative remaining", []string{"X-RateLimit-Remaining", "-1", "X-RateLimit-Reset", "1700001800"}, Budget{}, false},
		{"not a number", []string{"X-RateLimit-Remaining", "lots", "X-RateLimit-Reset", "soon"}, Budget{}, false},
		{"float", []string{"X-RateLimit-Remaining", "4.5", "X-RateLimit-Reset", "1700001800"}, Budget{}, false},
		{"huge number", []string{"X-RateLimit-Remaining", "99999999999999999999", "X-RateLimit-Reset", "1700001800"}, Budget{}, false},
		{"15 digits", []string{"X-RateLimit-Remaining", "999999999999999", "X-RateLimit-Reset", "999999999999999"},
			Budget{0, 999999999999999, time.Unix(999999999999999, 0)}, true},
		{"spaces", []string{"X-RateLimit-Remaining", " 7 ", "X-RateLimit-Reset", " 1700000060"}, Budget{0, 7, in(time.Minute)}, true},

		{"ietf", []string{"RateLimit-Policy", `"hour";q=500;w=3600`, "RateLimit", `"hour";r=42;t=1800`},
			Budget{500, 42, in(30 * time.Minute)}, true},
		{"ietf token names", []string{"RateLimit-Policy", `hour;q=500;w=3600`, "RateLimit", `hour;r=42;t=1800`},
			Budget{500, 42, in(30 * time.Minute)}, true},
		{"ietf older l", []string{"RateLimit-Policy", `default;l=100;w=60`, "RateLimit", `default;r=50;t=30`},
			Budget{100, 50, in(30 * time.Second)}, true},
		{"ietf without policy", []string{"RateLimit", `"hour";r=42;t=1800`}, Budget{0, 42, in(30 * time.Minute)}, true},
		{"ietf without t", []string{"RateLimit", `"hour";r=42`}, Budget{}, false},
		{"ietf lowest of several", []string{
			"RateLimit-Policy", `"min";q=50;w=60, "hour";q=500;w=3600`,
			"RateLimit", `"min";r=20;t=40, "hour";r=7;t=1800`},
			Budget{500, 7, in(30 * time.Minute)}, true},
		{"ietf lowest across field lines", []string{
			"RateLimit-Policy", `"day";q=5000;w=86400`, "RateLimit-Policy", `"hour";q=500;w=3600`,
			"RateLimit", `"day";r=100;t=36000`, "RateLimit", `"hour";r=25;t=700`},
			Budget{500, 25, in(700 * time.Second)}, true},
		{"ietf unmatched policies", []string{
			"RateLimit-Policy", `"a";q=1;w=1, "b";q=2;w=2`, "RateLimit", `"c";r=1;t=5`},
			Budget{0, 1, in(5 * time.Second)}, true},
		{"ietf remaining above quota", []string{"RateLimit-Policy", `"hour";q=500`, "RateLimit", `"hour";r=501;t=10`},
			Budget{500, 500, in(10 * time.Second)}, true},
		{"ietf extra parameters", []string{"RateLimit-Policy", `"hour";q=500;qu="request";pk=:YWJj:;w=3600`, "RateLimit", `"hour";r=1;t=2;pk=:YWJj:`},
			Budget{500, 1, in(2 * time.Second)}, true},
		{"ietf negative", []string{"RateLimit", `"hour";r=-1;t=10`}, Budget{}, false},
		{"ietf huge t", []string{"RateLimit", `"hour";r=1;t=999999999999999`},
			Budget{0, 1, now.Add(time.Duration(maxSeconds) * time.Second)}, true},
		{"ietf unterminated name", []string{"RateLimit", `"hour;r=1;t=10`}, Budget{}, false},
		{"ietf garbage", []string{"RateLimit", `;;,,==;"`}, Budget{}, false},
		{"dictionary", []string{"RateLimit", `limit=500, remaining=42, reset=1800`}, Budget{500, 42, in(30 * time.Minute)}, true},
		{"dictionary without limit", []string{"RateLimit", `remaining=0, reset=60`}, Budget{0, 0, in(time.Minute)}, true},
		{"dictionary bad reset", []string{"RateLimit", `limit=500, remaining=42, reset=soon`}, Budget{}, false},
		{"x-ratelimit wins", []string{"X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "1700000010", "RateLimit", `"hour";r=42;t=1800`},
			Budget{0, 1, in(10 * time.Second)}, true},
		{"ietf when x-ratelimit is broken", []string{"X-RateLimit-Remaining", "x", "X-RateLimit-Reset", "1700000010", "RateLimit", `"hour";r=42;t=1800`},
			Budget{0, 42, in(30 * time.Minute)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := make(http.Header)
			for i := 0; i+1 < len(tt.fields); i += 2 {
				h.Add(tt.fields[i], tt.fields[i+1])
			}
			got, ok := RateLimit(h, now)
			if ok != tt.ok || got.Limit != tt.want.Limit || got.Remaining != tt.want.Remaining || !got.Reset.Equal(tt.want.Reset) {
				t.Errorf("RateLimit(%v) = %+v, %v; want %+v, %v", h, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzRateLimit(f *testing.F) {
	f.Add("500", "42", "1700001800", `"hour";q=500;w=3600`, `"hour";r=42;t=1800`)
	f.Add("", "", "", `a;l=1`, `limit=1, remaining=1, reset=1`)
	f.Fuzz(func(t *testing.T, limit, remaining, reset, policy, rl string) {
		h := http.Header{
			"X-Ratelimit-Limit": {limit}, "X-Ratelimit-Remaining": {remaining}, "X-Ratelimit-Reset": {reset},
			"Ratelimit-Policy": {policy}, "Ratelimit": {rl},
		}
		b, ok := RateLimit(h, time.Unix(1_700_000_000, 0))
		if ok && (b.Remaining < 0 || b.Limit < 0 || (b.Limit > 0 && b.Remaining > b.Limit)) {
			t.Errorf("RateLimit = %+v", b)
		}
	})
}
