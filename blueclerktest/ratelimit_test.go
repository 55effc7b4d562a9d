package blueclerktest

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

func TestBudgetHeadersAnd429(t *testing.T) {
	t.Parallel()
	clock := newClock() // 10:20 UTC
	s := newServer(t, WithClock(clock.Now), WithHourlyLimit(3))
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	reset := strconv.FormatInt(time.Date(2024, 1, 15, 11, 0, 0, 0, time.UTC).Unix(), 10)
	for i, want := range []string{"2", "1", "0"} {
		r := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"])
		h := r.header
		if r.status != 201 || h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != want ||
			h.Get("X-RateLimit-Reset") != reset {
			t.Fatalf("request %d: %d limit %q remaining %q reset %q", i+1, r.status,
				h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"))
		}
	}
	for _, m := range []string{"POST", "GET"} {
		r := mustSend(t, hc, m, s.URL+"/api/v1/tickets", tok, validBodies["tickets"])
		if r.status != http.StatusTooManyRequests || r.errorCode(t) != "rate_limited" ||
			r.header.Get("Retry-After") != "2400" || r.header.Get("X-RateLimit-Remaining") != "0" ||
			r.header.Get("X-RateLimit-Reset") != reset {
			t.Fatalf("%s over budget: %d %v %s", m, r.status, r.header, r.body)
		}
	}
	if n := len(s.Tickets()); n != 3 {
		t.Fatalf("%d tickets, want 3: a 429 must create nothing", n)
	}
	clock.Advance(40 * time.Minute) // 11:00, a new window
	r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", tok, "")
	if r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("new window: %d remaining %q", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
}

func TestBudgetFollowsPlan(t *testing.T) {
	t.Parallel()
	for plan, want := range map[blueclerk.Plan]string{
		blueclerk.PlanStarter: "100", blueclerk.PlanPro: "500", blueclerk.PlanHigh: "2000",
	} {
		s := newServer(t, WithPlan(plan))
		r := mustSend(t, testClient(t), "GET", s.URL+"/api/v1/leads", s.IssueToken().AccessToken, "")
		if r.header.Get("X-RateLimit-Limit") != want || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(mustAtoi(want)-1) {
			t.Errorf("%s: limit %q remaining %q", plan, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
		}
	}
	if r := mustSend(t, testClient(t), "GET", newServer(t).URL+"/api/v1/leads", "", ""); r.header.Get("X-RateLimit-Limit") != "" {
		t.Error("an unauthenticated answer reports a budget")
	}
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}
