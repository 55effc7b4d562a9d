package blueclerk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/backoff"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// testToken is the access token every test client sends; it must never
// appear in an error or a log line.
const testToken = "tok-3f9a-SECRET"

var testTokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken, TokenType: "Bearer"})

// headerValue returns the first value of a header field stored under any
// case of its name, as a request built by the client holds it.
func headerValue(h http.Header, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// roundTripFunc is an in-memory http.RoundTripper: inside a synctest bubble
// it takes simulated time only.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// answer builds a response with a JSON body and header fields given as
// name, value pairs.
func answer(status int, body string, fields ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(fields); i += 2 {
		h.Add(fields[i], fields[i+1])
	}
	return &http.Response{
		StatusCode: status,
		Header:     h,
		Body:       io.NopCloser(strings.NewReader(body)),
	}
}

// budgetFields returns X-RateLimit-* fields.
func budgetFields(limit, remaining int, reset time.Time) []string {
	return []string{
		"X-RateLimit-Limit", strconv.Itoa(limit),
		"X-RateLimit-Remaining", strconv.Itoa(remaining),
		"X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10),
	}
}

// script answers requests in turn from its steps, repeating the last, and
// records what it received.
type script struct {
	mu    sync.Mutex
	steps []func(*http.Request) (*http.Response, error)
	reqs  []*http.Request
	keys  []string // Idempotency-Key of each request
	auth  []string // Authorization of each request
}

func (s *script) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, r)
	s.keys = append(s.keys, headerValue(r.Header, "Idempotency-Key"))
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	step := s.steps[min(n, len(s.steps)-1)]
	s.mu.Unlock()
	return step(r)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// reply is a script step answering status with fields.
func reply(status int, fields ...string) func(*http.Request) (*http.Response, error) {
	return func(r *http.Request) (*http.Response, error) {
		body := `{"leads": []}`
		switch {
		case r.Method == http.MethodPost && status < 300:
			body = `{"id": "ticket_1", "description": "Leaky faucet"}`
		case status >= 300:
			body = `{"error": "failure", "message": "simulated"}`
		}
		return answer(status, body, fields...), nil
	}
}

func newTestClient(t testing.TB, rt http.RoundTripper, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithBaseURL("https://api.blueclerk.test"), WithHTTPClient(&http.Client{Transport: rt})}, opts...)
	c, err := NewClient(testTokenSource, opts...)
	require.NoError(t, err)
	return c
}

var ticket = &CreateTicketParams{CustomerID: "cust_456", Description: "Leaky faucet"}

// hourServer simulates the API's rate limiting in process: it counts
// requests per company in fixed one-hour windows, reports the budget on
// every answer and answers 429 beyond the limit. It takes some latency to
// answer, different for each request, so that answers overtake each other.
type hourServer struct {
	limit int

	mu      sync.Mutex
	served  map[int64]int // requests served per window (Unix hour)
	tooMany int           // 429 answers
	rnd     *rand.Rand
}

func newHourServer(limit int) *hourServer {
	return &hourServer{limit: limit, served: make(map[int64]int), rnd: rand.New(rand.NewPCG(1, 2))}
}

func (s *hourServer) RoundTrip(r *http.Request) (*http.Response, error) {
	now := time.Now()
	window := now.Unix() / 3600
	reset := time.Unix((window+1)*3600, 0)
	s.mu.Lock()
	latency := time.Duration(20+s.rnd.IntN(180)) * time.Millisecond
	used := s.served[window]
	ok := used < s.limit
	if ok {
		used++
		s.served[window] = used
	} else {
		s.tooMany++
	}
	s.mu.Unlock()
	time.Sleep(latency)
	fields := budgetFields(s.limit, s.limit-used, reset)
	if !ok {
		fields = append(fields, "Retry-After", strconv.Itoa(int(reset.Sub(now).Seconds())))
		return answer(http.StatusTooManyRequests, `{"error": "rate_limited"}`, fields...), nil
	}
	return answer(http.StatusOK, `{"leads": []}`, fields...), nil
}

// TestHourOfTraffic runs 20 goroutines wanting 2,000 calls on a PRO plan
// (500 an hour) against a server counting fixed windows: the client must
// cause no 429 and still use the budget of every window it had demand in.
// A naive loop that only retries on 429 is run against the same server to
// show the difference.
func TestHourOfTraffic(t *testing.T) {
	t.Parallel()
	const workers, calls = 20, 2000
	synctest.Test(t, func(t *testing.T) {
		srv := newHourServer(PlanPro.HourlyLimit())
		c := newTestClient(t, srv, WithPlan(PlanPro))
		start := time.Now()
		var wg sync.WaitGroup
		var refusals atomic.Int64
		for range workers {
			wg.Go(func() {
				for done := 0; done < calls/workers; {
					_, err := c.Leads.List(t.Context())
					var rle *RateLimitError
					switch {
					case errors.As(err, &rle):
						refusals.Add(1)
						if !assert.Nil(t, rle.Err, "the client let a request be answered 429") || !assert.Positive(t, rle.RetryAfter) {
							return
						}
						time.Sleep(rle.RetryAfter)
					case err != nil:
						t.Errorf("List: %v", err)
						return
					default:
						done++
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)

		total, last := 0, int64(0)
		for w, n := range srv.served {
			total += n
			last = max(last, w)
		}
		assert.Equal(t, calls, total)
		assert.Zero(t, srv.tooMany, "429 answers")
		first := start.Unix() / 3600
		for w := first; w < last; w++ {
			assert.GreaterOrEqual(t, srv.served[w], 490, "window %d used %d of 500", w-first, srv.served[w])
		}
		t.Logf("SDK client: %d calls in %v simulated, %d answered 429, per window %v, %d refusals before sending",
			total, elapsed, srv.tooMany, perWindow(srv, first, last), refusals.Load())

		// The naive client: a plain loop that retries on 429 after 10 s.
		naive := newHourServer(PlanPro.HourlyLimit())
		start = time.Now()
		for range workers {
			wg.Go(func() {
				for done := 0; done < calls/workers; {
					req, _ := http.NewRequest(http.MethodGet, "https://api.blueclerk.test/api/v1/leads", nil)
					resp, _ := naive.RoundTrip(req)
					resp.Body.Close()
					if resp.StatusCode == http.StatusTooManyRequests {
						time.Sleep(10 * time.Second)
						continue
					}
					done++
				}
			})
		}
		wg.Wait()
		first = start.Unix() / 3600
		last = first
		for w := range naive.served {
			last = max(last, w)
		}
		t.Logf("naive loop: %d calls in %v simulated, %d answered 429, per window %v",
			calls, time.Since(start), naive.tooMany, perWindow(naive, first, last))
		assert.Positive(t, naive.tooMany)
	})
}

func perWindow(s *hourServer, first, last int64) []int {
	var out []int
	for w := first; w <= last; w++ {
		out = append(out, s.served[w])
	}
	return out
}

// TestBudgetSpent: the budget is spent with its reset 10 minutes away. A
// caller who waits at most a minute is refused at once without sending; one
// who waits 15 minutes gets the call through after the reset.
func TestBudgetSpent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		maxWait  time.Duration
		deadline time.Duration
		refused  bool
	}{
		{"wait 1m", time.Minute, 0, true},
		{"wait 15m", 15 * time.Minute, 0, false},
		{"wait 15m, deadline in 5m", 15 * time.Minute, 5 * time.Minute, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				reset := time.Now().Add(10 * time.Minute)
				s := &script{steps: []func(*http.Request) (*http.Response, error){
					reply(http.StatusOK, budgetFields(500, 0, reset)...),
					reply(http.StatusOK, budgetFields(500, 499, reset.Add(time.Hour))...),
				}}
				c := newTestClient(t, s, WithPlan(PlanPro), WithRateLimitWait(tt.maxWait))
				ctx := t.Context()
				if tt.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.deadline)
					defer cancel()
				}
				_, err := c.Leads.List(ctx)
				require.NoError(t, err)
				start := time.Now()
				_, err = c.Leads.List(ctx)
				if !tt.refused {
					require.NoError(t, err)
					assert.Equal(t, 10*time.Minute, time.Since(start))
					assert.Equal(t, 2, s.count())
					assert.Equal(t, 499, c.RateLimit().Remaining)
					return
				}
				assert.ErrorIs(t, err, ErrRateLimited)
				var rle *RateLimitError
				require.ErrorAs(t, err, &rle)
				assert.Nil(t, rle.Err, "nothing was sent")
				assert.Equal(t, 10*time.Minute, rle.RetryAfter)
				assert.True(t, rle.RateLimit.Reset.Equal(reset), "Reset %v, want %v", rle.RateLimit.Reset, reset)
				assert.Equal(t, RateLimit{Plan: PlanPro, Limit: 500, Remaining: 0, Reset: rle.RateLimit.Reset}, rle.RateLimit)
				assert.Zero(t, time.Since(start), "refused after waiting")
				assert.Equal(t, 1, s.count(), "requests sent")
				assert.NotContains(t, err.Error(), testToken)
			})
		})
	}
}

// TestRetries covers which answers are retried, for reads and writes, and
// how long the client waits first.
func TestRetries(t *testing.T) {
	t.Parallel()
	ok := reply(http.StatusOK)
	created := reply(http.StatusCreated)
	httpDate := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(http.TimeFormat) }
	type step = func(*http.Request) (*http.Response, error)
	tests := []struct {
		name       string
		write      bool
		opts       []Option
		steps      func() []step // built inside the bubble, where time.Now is simulated
		sent       int
		wait       time.Duration // exact simulated time the call takes; -1: less than the first backoff
		fails      bool          // the call fails, matching every err
		err        []error       // errors.Is targets
		notErr     []error
		retryAfter time.Duration // of the returned *Error
	}{
		{name: "503 then 200, Retry-After in seconds", steps: func() []step {
			return []step{reply(503, "Retry-After", "2"), ok}
		}, sent: 2, wait: 2 * time.Second},
		{name: "503 then 200, Retry-After as a date", steps: func() []step {
			return []step{reply(503, "Retry-After", httpDate(3*time.Second)), ok}
		}, sent: 2, wait: 3 * time.Second},
		{name: "Retry-After date in the past", steps: func() []step {
			return []step{reply(503, "Retry-After", httpDate(-time.Hour)), ok}
		}, sent: 2, wait: -1},
		{name: "malformed Retry-After", steps: func() []step {
			return []step{reply(503, "Retry-After", "soon"), ok}
		}, sent: 2, wait: -1},
		{name: "negative Retry-After", steps: func() []step {
			return []step{reply(503, "Retry-After", "-30"), ok}
		}, sent: 2, wait: -1},
		{name: "Retry-After beyond WithRateLimitWait is not waited", steps: func() []step {
			return []step{reply(503, "Retry-After", "999999"), ok}
		}, sent: 1, wait: 0, err: []error{ErrServer}, retryAfter: 999999 * time.Second},
		{name: "Retry-After within a longer WithRateLimitWait", opts: []Option{WithRateLimitWait(5 * time.Minute)}, steps: func() []step {
			return []step{reply(503, "Retry-After", "240"), ok}
		}, sent: 2, wait: 4 * time.Minute},
		{name: "429 Retry-After", steps: func() []step {
			return []step{reply(429, "Retry-After", "5"), ok}
		}, sent: 2, wait: 5 * time.Second},
		{name: "429 with only the reset", steps: func() []step {
			return []step{reply(429, budgetFields(500, 0, time.Now().Add(20*time.Second))...), ok}
		}, sent: 2, wait: 20 * time.Second},
		{name: "429 Retry-After beyond WithRateLimitWait", steps: func() []step {
			return []step{reply(429, "Retry-After", "120"), ok}
		}, sent: 1, wait: 0, err: []error{ErrRateLimited}, retryAfter: 2 * time.Minute},
		{name: "GET 408", steps: func() []step { return []step{reply(408), ok} }, sent: 2, wait: -1},
		{name: "GET 500", steps: func() []step { return []step{reply(500), ok} }, sent: 2, wait: -1},
		{name: "GET 502", steps: func() []step { return []step{reply(502), ok} }, sent: 2, wait: -1},
		{name: "GET 504", steps: func() []step { return []step{reply(504), ok} }, sent: 2, wait: -1},
		{name: "GET network error", steps: func() []step {
			return []step{func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF }, ok}
		}, sent: 2, wait: -1},
		{name: "GET 404 not retried", steps: func() []step { return []step{reply(404), ok} }, sent: 1, wait: 0, err: []error{ErrNotFound}},
		{name: "GET 501 not retried", steps: func() []step { return []step{reply(501), ok} }, sent: 1, wait: 0, err: []error{ErrServer}},
		{name: "GET retries run out", steps: func() []step { return []step{reply(503, "Retry-After", "1")} }, sent: 4, wait: 3 * time.Second, err: []error{ErrServer}},
		{name: "WithMaxRetries(0)", opts: []Option{WithMaxRetries(0)}, steps: func() []step { return []step{reply(503, "Retry-After", "1"), ok} }, sent: 1, wait: 0, err: []error{ErrServer}},

		{name: "POST 429", write: true, steps: func() []step { return []step{reply(429, "Retry-After", "1"), created} }, sent: 2, wait: time.Second},
		{name: "POST 503 with Retry-After", write: true, steps: func() []step { return []step{reply(503, "Retry-After", "1"), created} }, sent: 2, wait: time.Second},
		{name: "POST 503 without Retry-After", write: true, steps: func() []step { return []step{reply(503), created} }, sent: 1, wait: 0, err: []error{ErrServer}, notErr: []error{ErrOutcomeUnknown}},
		{name: "POST 500", write: true, steps: func() []step { return []step{reply(500), created} }, sent: 1, wait: 0, err: []error{ErrServer, ErrOutcomeUnknown}},
		{name: "POST 502", write: true, steps: func() []step { return []step{reply(502), created} }, sent: 1, wait: 0, err: []error{ErrServer, ErrOutcomeUnknown}},
		{name: "POST 504", write: true, steps: func() []step { return []step{reply(504), created} }, sent: 1, wait: 0, err: []error{ErrServer, ErrOutcomeUnknown}},
		{name: "POST 408", write: true, steps: func() []step { return []step{reply(408), created} }, sent: 1, wait: 0, fails: true, notErr: []error{ErrOutcomeUnknown}},
		{name: "POST lost answer", write: true, steps: func() []step {
			return []step{func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF }, created}
		}, sent: 1, wait: 0, err: []error{ErrOutcomeUnknown, io.ErrUnexpectedEOF}},
		{name: "POST 500, idempotent retries", write: true, opts: []Option{WithIdempotentRetries(true)},
			steps: func() []step { return []step{reply(500), created} }, sent: 2, wait: -1},
		{name: "POST lost answer, idempotent retries", write: true, opts: []Option{WithIdempotentRetries(true)}, steps: func() []step {
			return []step{func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF }, created}
		}, sent: 2, wait: -1},
		{name: "POST lost answers, idempotent retries run out", write: true, opts: []Option{WithIdempotentRetries(true), WithMaxRetries(1)}, steps: func() []step {
			return []step{func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF }}
		}, sent: 2, wait: -1, err: []error{ErrOutcomeUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := &script{steps: tt.steps()}
				c := newTestClient(t, s, tt.opts...)
				start := time.Now()
				var err error
				if tt.write {
					_, err = c.Tickets.Create(t.Context(), ticket)
				} else {
					_, err = c.Leads.List(t.Context())
				}
				took := time.Since(start)
				if !tt.fails && len(tt.err) == 0 {
					require.NoError(t, err)
				} else {
					require.Error(t, err)
				}
				for _, target := range tt.err {
					assert.ErrorIs(t, err, target)
				}
				for _, target := range tt.notErr {
					assert.NotErrorIs(t, err, target)
				}
				if tt.retryAfter > 0 {
					var e *Error
					require.ErrorAs(t, err, &e)
					assert.Equal(t, tt.retryAfter, e.RetryAfter)
				}
				assert.Equal(t, tt.sent, s.count(), "requests sent")
				if tt.wait >= 0 {
					assert.Equal(t, tt.wait, took, "simulated time taken")
				} else {
					assert.Less(t, took, defaultBackoff.Base, "simulated time taken")
				}
				for i, key := range s.keys {
					assert.Equal(t, s.keys[0], key, "Idempotency-Key of attempt %d", i+1)
					assert.Equal(t, tt.write, key != "", "Idempotency-Key sent")
					assert.Equal(t, "Bearer "+testToken, s.auth[i], "Authorization of attempt %d", i+1)
				}
				if err != nil {
					assert.NotContains(t, err.Error(), testToken)
				}
			})
		})
	}
}

// TestRetryReplaysBody: every attempt of a write sends the whole body.
func TestRetryReplaysBody(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var bodies []string
		s := &script{steps: []func(*http.Request) (*http.Response, error){
			reply(503, "Retry-After", "1"), reply(429, "Retry-After", "1"), reply(http.StatusCreated),
		}}
		c := newTestClient(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			b, _ := io.ReadAll(r.Body)
			bodies = append(bodies, string(b))
			r.Body = io.NopCloser(bytes.NewReader(b))
			return s.RoundTrip(r)
		}))
		_, err := c.Tickets.Create(t.Context(), ticket)
		require.NoError(t, err)
		require.Len(t, bodies, 3)
		assert.Contains(t, bodies[0], "Leaky faucet")
		assert.Equal(t, bodies[0], bodies[1])
		assert.Equal(t, bodies[0], bodies[2])
	})
}

// TestRetryCancel: cancelling the context while waiting to retry returns at
// once.
func TestRetryCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []func(*http.Request) (*http.Response, error){reply(503, "Retry-After", "30")}}
		c := newTestClient(t, s)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		_, err := c.Leads.List(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, time.Second, time.Since(start))
		assert.Equal(t, 1, s.count())
	})
}

// TestRetryDeadline: a retry that would have to wait past the context's
// deadline is not waited for; the answer is returned at once.
func TestRetryDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []func(*http.Request) (*http.Response, error){reply(503, "Retry-After", "30"), reply(200)}}
		c := newTestClient(t, s)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Leads.List(ctx)
		assert.ErrorIs(t, err, ErrServer)
		assert.Zero(t, time.Since(start))
		assert.Equal(t, 1, s.count())
	})
}

// TestTokenFailure: a token source that fails is neither retried nor taken
// for a lost write.
func TestTokenFailure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []func(*http.Request) (*http.Response, error){reply(http.StatusCreated)}}
		failure := errors.New("token endpoint unreachable")
		c, err := NewClient(oauth2.ReuseTokenSource(nil, failingSource{failure}),
			WithBaseURL("https://api.blueclerk.test"), WithHTTPClient(&http.Client{Transport: s}), WithPlan(PlanPro))
		require.NoError(t, err)
		start := time.Now()
		_, err = c.Tickets.Create(t.Context(), ticket)
		assert.ErrorIs(t, err, failure)
		assert.NotErrorIs(t, err, ErrOutcomeUnknown)
		assert.Zero(t, s.count())
		assert.Zero(t, time.Since(start), "retried")
	})
}

type failingSource struct{ err error }

func (s failingSource) Token() (*oauth2.Token, error) { return nil, s.err }

// TestFreePlan: a FREE client sends nothing.
func TestFreePlan(t *testing.T) {
	t.Parallel()
	s := &script{steps: []func(*http.Request) (*http.Response, error){reply(http.StatusOK)}}
	c := newTestClient(t, s, WithPlan(PlanFree))
	_, err := c.Leads.List(t.Context())
	assert.ErrorIs(t, err, ErrPlanRequired)
	_, err = c.Tickets.Create(t.Context(), ticket)
	assert.ErrorIs(t, err, ErrPlanRequired)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	_, err = c.Docs(t.Context())
	assert.ErrorIs(t, err, ErrPlanRequired)
	assert.Zero(t, s.count(), "requests sent")

	_, err = NewLimiter(PlanFree).Acquire(t.Context(), time.Minute)
	assert.ErrorIs(t, err, ErrPlanRequired)
}

// TestPacingWithoutHeaders: before any answer reports the budget, a plan
// is kept by pacing: a fresh client bursts (the quickstart's calls are not
// slowed), and no hour sees more than the plan allows.
func TestPacingWithoutHeaders(t *testing.T) {
	t.Parallel()
	t.Run("quickstart burst", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			s := &script{steps: []func(*http.Request) (*http.Response, error){reply(http.StatusOK)}}
			c := newTestClient(t, s, WithPlan(PlanStarter))
			start := time.Now()
			for range 15 {
				_, err := c.Leads.List(t.Context())
				require.NoError(t, err)
			}
			assert.Zero(t, time.Since(start))
		})
	})
	t.Run("no hour over the plan", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			var sent []time.Time
			c := newTestClient(t, roundTripFunc(func(*http.Request) (*http.Response, error) {
				sent = append(sent, time.Now())
				return answer(http.StatusOK, `{"leads": []}`), nil
			}), WithPlan(PlanStarter), WithRateLimitWait(time.Hour))
			for range 300 {
				_, err := c.Leads.List(t.Context())
				require.NoError(t, err)
			}
			for i := range sent {
				j := i
				for j < len(sent) && sent[j].Sub(sent[i]) < time.Hour {
					j++
				}
				require.LessOrEqual(t, j-i, 100, "requests in the hour from %v", sent[i])
			}
			assert.Equal(t, sent[0], sent[49], "the first half of the budget is not paced")
		})
	})
	t.Run("refused when pacing would wait too long", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			s := &script{steps: []func(*http.Request) (*http.Response, error){reply(http.StatusOK)}}
			c := newTestClient(t, s, WithPlan(PlanStarter), WithRateLimitWait(0))
			for range 50 {
				_, err := c.Leads.List(t.Context())
				require.NoError(t, err)
			}
			_, err := c.Leads.List(t.Context())
			var rle *RateLimitError
			require.ErrorAs(t, err, &rle)
			assert.Equal(t, 72*time.Second, rle.RetryAfter.Round(time.Second))
			assert.Equal(t, 50, s.count())
		})
	})
	t.Run("without a plan the first answer teaches", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			reset := time.Now().Add(30 * time.Minute)
			s := &script{steps: []func(*http.Request) (*http.Response, error){
				reply(http.StatusOK, budgetFields(100, 1, reset)...),
				reply(http.StatusOK, budgetFields(100, 0, reset)...),
			}}
			c := newTestClient(t, s)
			for range 2 {
				_, err := c.Leads.List(t.Context())
				require.NoError(t, err)
			}
			_, err := c.Leads.List(t.Context())
			assert.ErrorIs(t, err, ErrRateLimited)
			assert.Equal(t, 2, s.count())
			assert.Equal(t, RateLimit{Limit: 100, Remaining: 0, Reset: reset.Truncate(time.Second)}, c.RateLimit())
		})
	})
}

// TestMisbehavingHeaders: whatever a server says of its budget, calls go on
// without a panic or a long stall.
func TestMisbehavingHeaders(t *testing.T) {
	t.Parallel()
	for _, fields := range [][]string{
		{"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "9000", "X-RateLimit-Reset", "+3600s"},
		{"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "946684000"}, // in the past
		{"X-RateLimit-Limit", "lots", "X-RateLimit-Remaining", "few", "X-RateLimit-Reset", "soon"},
		{"X-RateLimit-Limit", "-1", "X-RateLimit-Remaining", "-1", "X-RateLimit-Reset", "-1"},
		{"X-RateLimit-Limit", "99999999999999999999", "X-RateLimit-Remaining", "99999999999999999999", "X-RateLimit-Reset", "99999999999999999999"},
		{"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "999999999999999"}, // year 31 million
		{"RateLimit", `"hour";r=0;t=999999999999999`},
		{"RateLimit", `"hour";r=0;t=0`},
		{"RateLimit", `"hour";r=;t=`, "RateLimit-Policy", `"hour";q=-5`},
		{"RateLimit", `limit=1, remaining=0, reset=-1`},
		{"Retry-After", "-1", "RateLimit", `"hour";r=99999999999999;t=5`},
	} {
		t.Run(strings.Join(fields, " "), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				now := strconv.FormatInt(time.Now().Unix()+3600, 10)
				f := make([]string, len(fields))
				for i, v := range fields {
					f[i] = strings.ReplaceAll(v, "+3600s", now)
				}
				s := &script{steps: []func(*http.Request) (*http.Response, error){reply(http.StatusOK, f...)}}
				c := newTestClient(t, s, WithPlan(PlanPro))
				start := time.Now()
				for range 20 {
					_, err := c.Leads.List(t.Context())
					require.NoError(t, err)
				}
				assert.Less(t, time.Since(start), time.Minute)
				rl := c.RateLimit()
				assert.GreaterOrEqual(t, rl.Remaining, 0)
				assert.LessOrEqual(t, rl.Remaining, max(rl.Limit, 0))
			})
		})
	}
}

// TestRateLimitReported: the client and its errors report the last budget
// seen, with the plan.
func TestRateLimitReported(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		reset := time.Now().Add(40 * time.Minute)
		s := &script{steps: []func(*http.Request) (*http.Response, error){
			reply(http.StatusOK, budgetFields(500, 321, reset)...),
			reply(http.StatusNotFound),
		}}
		c := newTestClient(t, s, WithPlan(PlanPro))
		assert.Equal(t, RateLimit{Plan: PlanPro}, c.RateLimit())
		_, err := c.Leads.List(t.Context())
		require.NoError(t, err)
		want := RateLimit{Plan: PlanPro, Limit: 500, Remaining: 321, Reset: reset}
		assert.Equal(t, want, c.RateLimit())
		_, err = c.Leads.List(t.Context())
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, want, e.RateLimit)
	})
}

// TestLimiterOutOfOrder: answers arriving out of order never raise the
// remaining budget of a window; a later reset starts a new one; answers
// without a report count one request.
func TestLimiterOutOfOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter("").(*limiter)
		ctx := t.Context()
		reset := time.Now().Add(time.Hour)
		var releases []func(RateLimit)
		for range 4 {
			rel, err := l.Acquire(ctx, 0)
			require.NoError(t, err)
			releases = append(releases, rel)
		}
		releases[0](RateLimit{Limit: 10, Remaining: 3, Reset: reset})
		releases[1](RateLimit{Limit: 10, Remaining: 5, Reset: reset}) // answered earlier, arrived later
		assert.Equal(t, 3, l.w.Remaining)
		releases[2](RateLimit{})
		assert.Equal(t, 2, l.w.Remaining, "an answer without a report counts one")
		// One in flight, two left: one more may go, then callers wait, as
		// long as ctx's deadline and maxWait allow.
		fifth, err := l.Acquire(ctx, 0)
		require.NoError(t, err)
		ctx2, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err = l.Acquire(ctx2, time.Hour)
		var rle *RateLimitError
		assert.ErrorAs(t, err, &rle, "took a request the ones in flight may need")
		// A waiter gets the next slot when an answer shows budget left.
		got := make(chan error)
		go func() {
			rel, err := l.Acquire(ctx, time.Minute)
			if err == nil {
				rel(RateLimit{Limit: 10, Remaining: 0, Reset: reset})
			}
			got <- err
		}()
		synctest.Wait()
		releases[3](RateLimit{Limit: 10, Remaining: 2, Reset: reset})
		require.NoError(t, <-got)
		fifth(RateLimit{Limit: 10, Remaining: 1, Reset: reset})
		assert.Equal(t, 0, l.w.Remaining)
		assert.Equal(t, 0, l.inflight)
		// Spent: refused at once for a reset beyond maxWait.
		_, err = l.Acquire(ctx, time.Minute)
		require.ErrorAs(t, err, &rle)
		assert.Equal(t, time.Until(reset), rle.RetryAfter)
		// A later reset is a new window.
		l.release(RateLimit{Limit: 10, Remaining: 9, Reset: reset.Add(time.Hour)})
		assert.Equal(t, 9, l.w.Remaining)
	})
}

// TestLimiterInFlightWaitBounded: while the requests in flight hold the
// rest of the budget, the wait for their answers is bounded by maxWait and
// ctx's deadline like every other wait: past the bound the call is refused
// with *RateLimitError, and with maxWait 0 it is refused at once.
func TestLimiterInFlightWaitBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(PlanPro)
		ctx := t.Context()
		reset := time.Now().Add(time.Hour)
		seed, err := l.Acquire(ctx, 0)
		require.NoError(t, err)
		seed(RateLimit{Limit: 500, Remaining: 1, Reset: reset})
		last, err := l.Acquire(ctx, 0) // holds the rest of the budget
		require.NoError(t, err)

		for _, tc := range []struct {
			name             string
			maxWait, timeout time.Duration
			waited           time.Duration
		}{
			{"maxWait 0", 0, time.Hour, 0},
			{"maxWait", 3 * time.Second, time.Hour, 3 * time.Second},
			{"deadline before maxWait", time.Hour, 2 * time.Second, 2 * time.Second},
		} {
			ctx, cancel := context.WithTimeout(ctx, tc.timeout)
			start := time.Now()
			_, err := l.Acquire(ctx, tc.maxWait)
			cancel()
			var rle *RateLimitError
			if assert.ErrorAs(t, err, &rle, tc.name) {
				assert.Nil(t, rle.Err, "%s: nothing was sent", tc.name)
				assert.Equal(t, RateLimit{Plan: PlanPro, Limit: 500, Remaining: 0, Reset: reset}, rle.RateLimit, tc.name)
				assert.Equal(t, time.Until(reset), rle.RetryAfter, "%s: the reset is when budget is sure to be back", tc.name)
			}
			assert.Equal(t, tc.waited, time.Since(start), tc.name)
		}

		// A cancel still ends the wait with ctx's error, and an answer
		// within the bound still lets a waiter through.
		canceled, cancel := context.WithCancel(ctx)
		got := make(chan error)
		go func() {
			_, err := l.Acquire(canceled, time.Minute)
			got <- err
		}()
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-got, context.Canceled)
		go func() {
			rel, err := l.Acquire(ctx, time.Minute)
			if err == nil {
				rel(RateLimit{Limit: 500, Remaining: 9, Reset: reset.Add(time.Hour)})
			}
			got <- err
		}()
		time.Sleep(30 * time.Second)
		last(RateLimit{Limit: 500, Remaining: 10, Reset: reset.Add(time.Hour)}) // a new window
		require.NoError(t, <-got)
	})
}

// TestLoggerNeverLogsToken: one debug line per attempt, without the token.
func TestLoggerNeverLogsToken(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		s := &script{steps: []func(*http.Request) (*http.Response, error){
			reply(503, "Retry-After", "2"),
			func(r *http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("connection reset (sent %s)", r.URL.Path)
			},
			reply(http.StatusOK),
		}}
		c := newTestClient(t, s, WithLogger(logger))
		_, err := c.Leads.List(t.Context())
		require.NoError(t, err)
		out := buf.String()
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 3, out)
		assert.Contains(t, lines[0], `method=GET path=/api/v1/leads status=503 request_id="" attempt=1 duration=0s retry_in=2s`)
		assert.Contains(t, lines[1], "status=0 request_id=\"\" attempt=2 duration=0s error=")
		assert.Contains(t, lines[2], `status=200 request_id="" attempt=3 duration=0s`)
		assert.NotContains(t, lines[2], "retry_in")
		assert.NotContains(t, out, testToken)
		assert.NotContains(t, out, "Bearer")
		assert.NotContains(t, out, "Authorization")
	})
}

// The tests below need real sockets, so they run outside synctest bubbles
// with a short backoff.

// fastRetries makes c's retries wait a millisecond at most.
func fastRetries(c *Client) {
	c.backoff = backoff.Policy{Base: time.Millisecond, Cap: time.Millisecond}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestConnectionRefused: a request whose dial failed surely was not sent,
// so it is retried, a write included.
func TestConnectionRefused(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			var served atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				served.Add(1)
				w.Header().Set("Content-Type", "application/json")
				if r.Method == http.MethodPost {
					w.WriteHeader(http.StatusCreated)
					_, _ = io.WriteString(w, `{"id": "ticket_1"}`)
					return
				}
				_, _ = io.WriteString(w, `{"leads": []}`)
			}))
			defer srv.Close()
			refused := closedPort(t)
			var dials atomic.Int32
			tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				addr := srv.Listener.Addr().String()
				if dials.Add(1) == 1 {
					addr = refused
				}
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}}
			defer tr.CloseIdleConnections()
			c := newTestClient(t, tr, WithBaseURL(srv.URL))
			fastRetries(c)
			var err error
			if method == http.MethodPost {
				_, err = c.Tickets.Create(t.Context(), ticket)
			} else {
				_, err = c.Leads.List(t.Context())
			}
			require.NoError(t, err)
			assert.EqualValues(t, 2, dials.Load())
			assert.EqualValues(t, 1, served.Load())
		})
	}
}

// TestLostResponse: the server reads a write and drops the connection
// without answering. By default the write is not repeated and the error
// says its outcome is unknown; with WithIdempotentRetries it is repeated
// with the same Idempotency-Key. The connection is a fresh one, or one kept
// alive from an earlier call (where net/http itself would replay a request
// carrying an Idempotency-Key).
func TestLostResponse(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, tt := range []struct {
		name       string
		reused     bool
		idempotent bool
	}{
		{"fresh connection", false, false},
		{"kept-alive connection", true, false},
		{"fresh connection, idempotent retries", false, true},
		{"kept-alive connection, idempotent retries", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				keys []string
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.Method == http.MethodGet {
					_, _ = io.WriteString(w, `{"leads": []}`)
					return
				}
				_, _ = io.Copy(io.Discard, r.Body)
				mu.Lock()
				keys = append(keys, r.Header.Get("Idempotency-Key"))
				first := len(keys) == 1
				mu.Unlock()
				if first {
					conn, _, err := http.NewResponseController(w).Hijack()
					if err == nil {
						_ = conn.Close()
					}
					return
				}
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, `{"id": "ticket_1"}`)
			}))
			defer srv.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := newTestClient(t, tr, WithBaseURL(srv.URL), WithIdempotentRetries(tt.idempotent))
			fastRetries(c)
			if tt.reused {
				_, err := c.Leads.List(t.Context())
				require.NoError(t, err)
			}
			_, err := c.Tickets.Create(t.Context(), ticket)
			mu.Lock()
			defer mu.Unlock()
			if tt.idempotent {
				require.NoError(t, err)
				require.Len(t, keys, 2)
				assert.NotEmpty(t, keys[0])
				assert.Equal(t, keys[0], keys[1], "Idempotency-Key of the retry")
				return
			}
			assert.Len(t, keys, 1, "requests received")
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			assert.NotErrorIs(t, err, ErrServer)
			assert.NotContains(t, err.Error(), testToken)
		})
	}
}

// TestLostResponseRead: a read whose answer was lost is simply retried.
func TestLostResponseRead(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 1 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"leads": []}`)
	}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := newTestClient(t, tr, WithBaseURL(srv.URL))
	fastRetries(c)
	_, err := c.Leads.List(t.Context())
	require.NoError(t, err)
	assert.EqualValues(t, 2, served.Load())
}

// BenchmarkTransport measures what the budget and retry layers add to a
// successful request, against the same in-memory transport alone.
func BenchmarkTransport(b *testing.B) {
	h := http.Header{}
	for _, kv := range [][2]string{
		{"Content-Type", "application/json"}, {"X-RateLimit-Limit", "2000"},
		{"X-RateLimit-Remaining", "1500"}, {"X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)},
	} {
		h.Set(kv[0], kv[1])
	}
	bare := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: h, Body: http.NoBody}, nil
	})
	req, err := http.NewRequest(http.MethodGet, "https://api.blueclerk.test/api/v1/leads", nil)
	require.NoError(b, err)
	c := newTestClient(b, bare, WithPlan(PlanHigh))
	layers := roundTripFunc(func(r *http.Request) (*http.Response, error) { return c.send(r, &call{}, false) })
	for _, bb := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"bare", bare},
		{"limiter+token+retry", layers},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := bb.rt.RoundTrip(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatal(resp, err)
				}
			}
		})
	}
}
