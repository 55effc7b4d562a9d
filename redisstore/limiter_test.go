package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func newTestClock() *blueclerktest.Clock {
	return blueclerktest.NewClock(time.Date(2026, 3, 2, 10, 5, 0, 0, time.UTC))
}

// account reads the budget a limiter keeps in Redis.
type account struct {
	limit, remaining, inflight int
	reset                      time.Time
	foreseen                   bool
}

func readAccount(t *testing.T, rdb redis.UniversalClient, key string) account {
	t.Helper()
	ctx := context.Background()
	v, err := rdb.HMGet(ctx, key, "limit", "remaining", "reset", "foreseen").Result()
	require.NoError(t, err)
	num := func(x any) int64 {
		s, _ := x.(string)
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	n, err := rdb.ZCard(ctx, key+":inflight").Result()
	require.NoError(t, err)
	a := account{limit: int(num(v[0])), remaining: int(num(v[1])), inflight: int(n), foreseen: v[3] == "1"}
	if r := num(v[2]); r > 0 {
		a.reset = time.UnixMilli(r).UTC()
	}
	return a
}

// testKey is a key of the test's own on the shared server, new on each
// run of the test.
func testKey(t testing.TB) string { return "test:" + t.Name() + ":" + rand.Text() }

// acquire acquires one request or fails the test.
func acquire(t *testing.T, l *Limiter) func(blueclerk.RateLimit) {
	t.Helper()
	release, err := l.Acquire(context.Background(), 0)
	require.NoError(t, err)
	return release
}

func TestLimiterConfig(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	for _, tc := range []struct {
		name string
		l    *Limiter
		want string
	}{
		{"nil client", NewLimiter(nil, "k", blueclerk.PlanPro), "nil Redis client"},
		{"empty key", NewLimiter(rdb, "", blueclerk.PlanPro), "empty key"},
		{"unknown plan", NewLimiter(rdb, "k", "GOLD"), `unknown plan "GOLD"`},
		{"foreign option", NewLimiter(rdb, "k", blueclerk.PlanPro, WithLockTTL(time.Second)), "option WithLockTTL does not apply"},
		{"zero TTL", NewLimiter(rdb, "k", blueclerk.PlanPro, WithInFlightTTL(0)), "must be positive"},
		{"nil fallback", NewLimiter(rdb, "k", blueclerk.PlanPro, WithFallback(nil)), "WithFallback(nil)"},
		{"nil clock", NewLimiter(rdb, "k", blueclerk.PlanPro, WithClock(nil)), "WithClock(nil)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.l.Acquire(context.Background(), time.Minute)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	_, err := NewLimiter(cluster, "blueclerk:acme", blueclerk.PlanPro).Acquire(context.Background(), 0)
	require.ErrorContains(t, err, "hash tag")
}

func TestLimiterFreePlan(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: the refusal must come before Redis.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	_, err := NewLimiter(rdb, "k", blueclerk.PlanFree).Acquire(context.Background(), time.Minute)
	require.ErrorIs(t, err, blueclerk.ErrPlanRequired)
	assert.NotErrorIs(t, err, ErrUnavailable)
}

// TestLimiterAccount follows one account through reports from two
// replicas: in flight, out of order, without reports, across windows.
func TestLimiterAccount(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	key := testKey(t)
	clock := newTestClock()
	a := NewLimiter(rdb, key, blueclerk.PlanPro, WithClock(clock.Now))
	b := NewLimiter(rdb, key, blueclerk.PlanPro, WithClock(clock.Now))
	reset := clock.Now().Truncate(time.Hour).Add(time.Hour) // 11:00
	report := func(remaining int, reset time.Time) blueclerk.RateLimit {
		return blueclerk.RateLimit{Limit: 500, Remaining: remaining, Reset: reset}
	}

	// Before any report the plan paces, and the first request goes at once.
	acquire(t, a)(report(2, reset))
	acc := readAccount(t, rdb, key)
	require.Equal(t, account{limit: 500, remaining: 2, reset: reset}, acc)

	// Two in flight on two replicas use up the 2 left: a third waits for
	// their answers rather than being refused, until ctx's deadline.
	r1, r2 := acquire(t, a), acquire(t, b)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := a.Acquire(short, time.Hour)
	var rle *blueclerk.RateLimitError
	require.ErrorAs(t, err, &rle, "with the rest in flight, Acquire waits within ctx's deadline")
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond, "waited for the answers")
	assert.Equal(t, reset, rle.RateLimit.Reset.UTC(), "the budget is sure to be back at the reset")
	third := make(chan error, 1)
	go func() {
		release, err := a.Acquire(context.Background(), time.Minute)
		if err == nil {
			release(blueclerk.RateLimit{})
		}
		third <- err
	}()
	r1(report(1, reset))
	r2(report(0, reset))
	require.ErrorAs(t, <-third, &rle, "spent until 11:00, further than a minute")
	assert.Nil(t, rle.Err, "refused without sending")
	assert.Equal(t, blueclerk.PlanPro, rle.RateLimit.Plan)
	assert.Equal(t, reset, rle.RateLimit.Reset.UTC())
	assert.Equal(t, 55*time.Minute, rle.RetryAfter)

	// An answer that left earlier but arrives later does not raise it.
	b.releaser(context.Background(), "late")(report(7, reset))
	assert.Equal(t, 0, readAccount(t, rdb, key).remaining)

	// A later reset is a new window, even with more left.
	next := reset.Add(time.Hour)
	b.releaser(context.Background(), "next")(report(100, next))
	acc = readAccount(t, rdb, key)
	assert.Equal(t, 100, acc.remaining)
	assert.Equal(t, next, acc.reset)

	// An answer without a report counts as one request.
	acquire(t, b)(blueclerk.RateLimit{})
	assert.Equal(t, 99, readAccount(t, rdb, key).remaining)

	// Once the reset passes, the plan's full budget is foreseen until the
	// hour after...
	clock.Advance(2 * time.Hour) // 12:05, past 12:00
	release := acquire(t, a)
	acc = readAccount(t, rdb, key)
	assert.Equal(t, account{limit: 500, remaining: 500, inflight: 1, reset: next.Add(time.Hour), foreseen: true}, acc)
	// ...a straggler of the past window counts as one request...
	release(report(3, next))
	assert.Equal(t, 499, readAccount(t, rdb, key).remaining)
	// ...and the first report of the new window replaces the foreseen one.
	acquire(t, b)(report(480, next.Add(time.Hour)))
	acc = readAccount(t, rdb, key)
	assert.Equal(t, account{limit: 500, remaining: 480, reset: next.Add(time.Hour)}, acc)
}

// TestLimiterDeadReplica: a replica that dies with a request in flight
// holds its share of the budget only until the in-flight TTL.
func TestLimiterDeadReplica(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	key := testKey(t)
	dead := NewLimiter(rdb, key, blueclerk.PlanPro, WithInFlightTTL(50*time.Millisecond))
	alive := NewLimiter(rdb, key, blueclerk.PlanPro)
	reset := time.Now().Add(time.Hour)
	alive.releaser(context.Background(), "seed")(blueclerk.RateLimit{Limit: 500, Remaining: 1, Reset: reset})
	_ = acquire(t, dead) // never released: the last request is in flight
	require.Equal(t, 1, readAccount(t, rdb, key).inflight)

	// With 1 left, a grant means the dead replica's request was dropped.
	release, err := alive.Acquire(context.Background(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 1, readAccount(t, rdb, key).inflight, "only the live request")
	release(blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: reset})
	assert.Equal(t, 0, readAccount(t, rdb, key).inflight)
}

// TestLimiterPacesBeforeReport: without a report, a plan's first half
// goes at once and the rest is spread over the hour.
func TestLimiterPacesBeforeReport(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	l := NewLimiter(rdb, testKey(t), blueclerk.PlanStarter)
	for range 50 {
		acquire(t, l)(blueclerk.RateLimit{})
	}
	_, err := l.Acquire(context.Background(), 10*time.Second)
	var rle *blueclerk.RateLimitError
	require.ErrorAs(t, err, &rle, "the 51st request of a STARTER plan waits for pacing")
	assert.Nil(t, rle.Err)
	assert.Equal(t, blueclerk.PlanStarter, rle.RateLimit.Plan)
	// 50 requests over the hour: one every 72 seconds.
	assert.InDelta(t, 72, rle.RetryAfter.Seconds(), 2)

	// Without a plan, nothing is paced until a report.
	unplanned := NewLimiter(rdb, testKey(t)+":noplan", "")
	for range 100 {
		acquire(t, unplanned)(blueclerk.RateLimit{})
	}
}

// TestLimiterWaitsForReset: a spent budget is waited for when the reset is
// within maxWait and ctx's deadline, and refused at once otherwise.
func TestLimiterWaitsForReset(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	key := testKey(t)
	l := NewLimiter(rdb, key, blueclerk.PlanPro)
	reset := time.Now().Add(time.Second)
	l.releaser(context.Background(), "seed")(blueclerk.RateLimit{Limit: 500, Remaining: 0, Reset: reset})

	var rle *blueclerk.RateLimitError
	_, err := l.Acquire(context.Background(), 0)
	require.ErrorAs(t, err, &rle, "maxWait 0")
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = l.Acquire(short, time.Minute)
	require.ErrorAs(t, err, &rle, "the reset is past ctx's deadline")

	release, err := l.Acquire(context.Background(), time.Minute)
	require.NoError(t, err)
	release(blueclerk.RateLimit{})
	assert.Equal(t, 499, readAccount(t, rdb, key).remaining)
}

// TestLimiterReplicasNeverOverdraw: 4 replicas of 8 goroutines each spend
// one budget, answers reordered, without a single refusal from the server.
func TestLimiterReplicasNeverOverdraw(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	key := testKey(t)
	clock := newTestClock()
	const budget = 300
	srv := &countingServer{limit: budget, reset: clock.Now().Add(time.Hour)}
	var wg sync.WaitGroup
	for range 4 {
		l := NewLimiter(newClient(t, shared), key, blueclerk.PlanHigh, WithClock(clock.Now))
		for range 8 {
			wg.Go(func() {
				for {
					release, err := l.Acquire(context.Background(), time.Second)
					if err != nil {
						var rle *blueclerk.RateLimitError
						if !errors.As(err, &rle) {
							t.Error(err)
						}
						return
					}
					rl := srv.take()
					runtime.Gosched() // let answers overtake each other
					release(rl)
				}
			})
		}
	}
	wg.Wait()
	assert.Zero(t, srv.refused.Load(), "requests the server refused (429)")
	assert.EqualValues(t, budget, srv.served.Load(), "the whole budget is used")
}

// countingServer stands for the API's budget: a fixed window of limit
// requests.
type countingServer struct {
	limit   int64
	reset   time.Time
	served  atomic.Int64
	refused atomic.Int64
}

func (s *countingServer) take() blueclerk.RateLimit {
	n := s.served.Add(1)
	if n > s.limit {
		s.served.Add(-1)
		s.refused.Add(1)
		n = s.limit
	}
	return blueclerk.RateLimit{Limit: int(s.limit), Remaining: int(s.limit - n), Reset: s.reset}
}

// countingLimiter counts the requests a fallback limiter lets through.
type countingLimiter struct {
	blueclerk.Limiter
	n atomic.Int64
}

func (c *countingLimiter) Acquire(ctx context.Context, maxWait time.Duration) (func(blueclerk.RateLimit), error) {
	c.n.Add(1)
	return c.Limiter.Acquire(ctx, maxWait)
}

// TestLimiterRedisDown: with Redis killed, Acquire fails clearly or falls
// back, as configured, and returns to Redis when it is back.
func TestLimiterRedisDown(t *testing.T) {
	t.Parallel()
	srv := ownRedis(t)
	rdb := newClient(t, srv)
	strict := NewLimiter(rdb, "budget", blueclerk.PlanPro)
	fallback := &countingLimiter{Limiter: blueclerk.NewLimiter(blueclerk.PlanPro)}
	lenient := NewLimiter(rdb, "budget", blueclerk.PlanPro, WithFallback(fallback))
	ctx := context.Background()

	acquire(t, strict)(blueclerk.RateLimit{})
	inFlight := acquire(t, lenient)

	srv.stop()
	inFlight(blueclerk.RateLimit{}) // returns; the entry expires in Redis
	_, err := strict.Acquire(ctx, time.Minute)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Contains(t, err.Error(), "Redis is unreachable")
	assert.Contains(t, err.Error(), srv.addr(), "wraps the go-redis error")
	release, err := lenient.Acquire(ctx, time.Minute)
	require.NoError(t, err, "falls back")
	release(blueclerk.RateLimit{})
	assert.EqualValues(t, 1, fallback.n.Load())
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = lenient.Acquire(canceled, time.Minute)
	require.ErrorIs(t, err, context.Canceled, "an ended ctx is not a Redis failure")
	assert.EqualValues(t, 1, fallback.n.Load())

	require.NoError(t, srv.start())
	acquire(t, strict)(blueclerk.RateLimit{})
	acquire(t, lenient)(blueclerk.RateLimit{})
	assert.EqualValues(t, 1, fallback.n.Load(), "back on Redis")
}

// TestLimiterRedisSlow: a Redis that does not answer holds Acquire no
// longer than ctx's deadline, with a client that honours it.
func TestLimiterRedisSlow(t *testing.T) {
	t.Parallel()
	srv := ownRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr(), ReadTimeout: time.Minute, ContextTimeoutEnabled: true})
	defer rdb.Close()
	l := NewLimiter(rdb, "budget", blueclerk.PlanPro)
	admin := newClient(t, srv)
	require.NoError(t, admin.Do(context.Background(), "CLIENT", "PAUSE", "5000", "ALL").Err())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := l.Acquire(ctx, time.Minute)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, strings.HasPrefix(err.Error(), "redisstore: limiter budget:"), err.Error())
}

// TestReplicasShareOneBudget: 4 replicas, each a blueclerk.Client with its
// own Limiter on one key and its own Redis connections, spend a PRO
// company's budget on a blueclerktest server for two hours of a clock they
// share with the server, which the test moves by an hour between windows.
// Every request a replica does not send is refused by its limiter; none is
// refused by the server.
func TestReplicasShareOneBudget(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	clock := newTestClock()
	srv := blueclerktest.NewServer(blueclerktest.WithPlan(blueclerk.PlanPro), blueclerktest.WithClock(clock.Now))
	defer srv.Close()
	var tok atomic.Pointer[oauth2.Token]
	tok.Store(srv.IssueToken())
	ts := tokenFunc(func() (*oauth2.Token, error) { return tok.Load(), nil })

	var statuses statusCounter
	key := testKey(t)
	var clients []*blueclerk.Client
	for range 4 {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(tr.CloseIdleConnections)
		c, err := blueclerk.NewClient(ts,
			blueclerk.WithBaseURL(srv.URL),
			blueclerk.WithPlan(blueclerk.PlanPro),
			blueclerk.WithRateLimitWait(time.Second),
			blueclerk.WithHTTPClient(&http.Client{Transport: statuses.wrap(tr)}),
			blueclerk.WithLimiter(NewLimiter(newClient(t, shared), key, blueclerk.PlanPro, WithClock(clock.Now))),
		)
		require.NoError(t, err)
		clients = append(clients, c)
	}

	budget := blueclerk.PlanPro.HourlyLimit()
	for hour := range 2 {
		if hour > 0 {
			clock.Advance(time.Hour)
			tok.Store(srv.IssueToken())
		}
		statuses.reset()
		var refused atomic.Int64
		var wg sync.WaitGroup
		for _, c := range clients {
			for range 8 {
				wg.Go(func() {
					for {
						_, err := c.Leads.List(context.Background())
						var rle *blueclerk.RateLimitError
						switch {
						case err == nil:
							continue
						case errors.As(err, &rle) && rle.Err == nil:
							refused.Add(1) // spent: not sent
						default:
							t.Errorf("hour %d: %v", hour, err)
						}
						return
					}
				})
			}
		}
		wg.Wait()
		ok, tooMany := statuses.get(http.StatusOK), statuses.get(http.StatusTooManyRequests)
		t.Logf("hour %d: %d answered 200, %d answered 429, %d refused by the limiters", hour, ok, tooMany, refused.Load())
		assert.Zero(t, tooMany, "hour %d: 429 answers", hour)
		assert.LessOrEqual(t, ok, budget, "hour %d", hour)
		assert.GreaterOrEqual(t, ok, budget*95/100, "hour %d: at least 95%% of the budget used", hour)
		assert.EqualValues(t, 32, refused.Load(), "hour %d: each goroutine stopped by its limiter", hour)
	}
}

// tokenFunc is an oauth2.TokenSource.
type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

// statusCounter counts the status codes of the answers that pass it.
type statusCounter struct {
	mu sync.Mutex
	n  map[int]int
}

func (s *statusCounter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		if err == nil {
			s.mu.Lock()
			s.n[resp.StatusCode]++
			s.mu.Unlock()
		}
		return resp, err
	})
}

func (s *statusCounter) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n = make(map[int]int)
}

func (s *statusCounter) get(code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[code]
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
