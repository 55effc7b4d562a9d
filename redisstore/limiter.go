package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

const (
	// window is how long the API counts requests for (one hour). It is used
	// to foresee the next window when the current one ends before any answer
	// has reported it.
	window = time.Hour
	// sameWindow is how far two reported reset times may differ and still
	// name the same window: reset times given in seconds from now drift by
	// the network's delay.
	sameWindow = window / 4
	// maxAhead is the furthest reset time believed; a report beyond it is
	// taken for a server error, so that it cannot stop every replica for
	// days.
	maxAhead = 24 * time.Hour
	// defaultInFlightTTL is how long an acquired request counts as in flight
	// when its release never comes (the replica died).
	defaultInFlightTTL = time.Minute
	// pollEvery is the mean interval at which a request waiting for the
	// answers of requests in flight on other replicas asks Redis again.
	pollEvery = 20 * time.Millisecond
)

// Limiter is a [blueclerk.Limiter] whose account of one company's hourly
// budget lives in Redis, so that every replica of a backend that passes
// [blueclerk.WithLimiter] a Limiter on the same key draws on one budget.
// It is safe for concurrent use, starts no goroutines and needs no Close.
//
// It behaves like [blueclerk.NewLimiter] across processes. Once an answer
// has reported the budget, a request goes out at once while the lowest
// Remaining reported in the current window, less the requests in flight on
// every replica, is above zero; so replicas together never overdraw it.
// Answers arriving out of order only ever lower Remaining within a window; a
// reset clearly later than the current one starts a new window, and when
// the reset passes the plan's full budget is assumed until an answer says
// otherwise. An answer without a report counts as one request used. When
// the budget is spent, Acquire waits for the reset if that is within
// maxWait and ctx's deadline, and otherwise fails at once with a
// [*blueclerk.RateLimitError] whose Err is nil: nothing was sent. When the
// rest of the budget is in flight, Acquire waits for those answers, asking
// Redis again every 20 ms or so, for at most maxWait and until ctx's
// deadline, and then fails the same way (at once when maxWait is 0). A
// replica that dies mid-request stops counting against the budget after
// [WithInFlightTTL].
//
// Before any answer has reported the budget, requests are paced by the
// plan with redis_rate's GCRA: a burst of half the hourly budget at once,
// the other half spread over the hour, so that an occasional caller never
// waits and no hour sees more than the plan allows.
//
// Each decision is one Lua script over the key itself (a hash: limit,
// remaining, reset) and key+":inflight" (a sorted set of request ids scored
// by when they stop counting); the pacing state is at "rate:"+key. With
// Redis Cluster, put a hash tag in key (such as "blueclerk:{acme}") so that
// the first two share a slot. Keys expire by themselves an hour or two
// after their last use.
//
// When Redis fails, Acquire returns an error matching [ErrUnavailable], or
// with [WithFallback] asks the fallback limiter instead; it never waits past
// ctx.
type Limiter struct {
	rdb   redis.UniversalClient
	key   string
	keys  []string // the budget hash and the in-flight set
	plan  blueclerk.Plan
	pace  redis_rate.Limit
	gcra  *redis_rate.Limiter
	fall  blueclerk.Limiter
	now   func() time.Time
	ttl   time.Duration
	err   error // a configuration error, returned by every Acquire
	limit int   // the plan's hourly budget; 0 when unknown

	mu      sync.Mutex
	changed chan struct{} // closed by this replica's next release; made by a waiter
}

// NewLimiter returns a Limiter keeping the budget of the company that key
// names (such as "blueclerk:budget:" plus the company or OAuth client id) in
// rdb, for plan ("" when unknown: then nothing is paced until the first
// answer reports the budget). Give every replica the same key and plan.
//
// Options: [WithFallback], [WithInFlightTTL], [WithClock]. A nil rdb, an
// empty key, an unknown plan or an invalid option makes every Acquire fail
// with an error saying so.
func NewLimiter(rdb redis.UniversalClient, key string, plan blueclerk.Plan, opts ...Option) *Limiter {
	o := options{kind: kindLimiter, now: time.Now, inFlightTTL: defaultInFlightTTL}
	l := &Limiter{
		rdb:  rdb,
		key:  key,
		keys: []string{key, key + ":inflight"},
		plan: plan,
	}
	_, cluster := rdb.(*redis.ClusterClient)
	switch err := checkArgs(kindLimiter, rdb, "key", key); {
	case err != nil:
		l.err = err
	case plan != "" && plan != blueclerk.PlanFree && plan.HourlyLimit() == 0:
		l.err = fmt.Errorf("redisstore: NewLimiter: unknown plan %q (want FREE, STARTER, PRO, HIGH or \"\" when unknown)", string(plan))
	case cluster && !hasHashTag(key):
		l.err = fmt.Errorf("redisstore: NewLimiter: key %q has no hash tag; with Redis Cluster use one such as \"blueclerk:{acme}\"", key)
	default:
		l.err = o.apply(opts)
	}
	l.fall, l.now, l.ttl = o.fallback, o.now, o.inFlightTTL
	if l.limit = plan.HourlyLimit(); l.limit > 0 {
		burst := l.limit / 2
		l.pace = redis_rate.Limit{Rate: l.limit - burst, Burst: burst, Period: window}
	}
	if rdb != nil {
		l.gcra = redis_rate.NewLimiter(rdb)
	}
	return l
}

// WithFallback makes a [Limiter] ask fallback, such as
// [blueclerk.NewLimiter](plan), whenever Redis fails, instead of failing
// the request. The fallback's account covers this replica only, so while
// Redis is down the replicas together may overdraw the budget (up to one
// budget each); Redis is asked again on every Acquire, and is used as soon
// as it answers. For NewLimiter only.
func WithFallback(fallback blueclerk.Limiter) Option {
	return func(o *options) error {
		if err := o.only("WithFallback", kindLimiter); err != nil {
			return err
		}
		if fallback == nil {
			return fmt.Errorf("redisstore: NewLimiter: WithFallback(nil)")
		}
		o.fallback = fallback
		return nil
	}
}

// WithInFlightTTL sets how long a request counts as in flight when its
// release never comes, because the replica that sent it died (default 1
// minute), by Redis's clock. Make it longer than the longest request. For
// NewLimiter only.
func WithInFlightTTL(d time.Duration) Option {
	return func(o *options) error { return positive(o, "WithInFlightTTL", kindLimiter, d, &o.inFlightTTL) }
}

// WithClock makes a [Limiter] read the time from now instead of
// [time.Now] when it compares the reset times answers report, such as a
// test's clock shared with a blueclerktest server. Waits still run on real
// timers, and requests in flight expire by Redis's clock. For NewLimiter
// only.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if err := o.only("WithClock", kindLimiter); err != nil {
			return err
		}
		if now == nil {
			return fmt.Errorf("redisstore: NewLimiter: WithClock(nil)")
		}
		o.now = now
		return nil
	}
}

// hasHashTag reports whether a Redis Cluster would place key by a hash tag:
// a non-empty part between the first '{' and the next '}'.
func hasHashTag(key string) bool {
	_, rest, ok := strings.Cut(key, "{")
	end := strings.IndexByte(rest, '}')
	return ok && end > 0
}

// Decisions of the acquire script.
const (
	granted = iota // the request is registered in flight: send it
	pace           // no budget reported yet: ask the pacing limiter
	busy           // the rest of the budget is in flight
	spent          // nothing left until the reset
)

// windowLua is the start of both scripts: it reads the account (KEYS[1]),
// drops the expired requests in flight (KEYS[2]) and counts the rest, and
// moves to the next window once the current one has ended, as
// blueclerk.NewLimiter does. Common ARGV: now, window length, same-window
// tolerance (all milliseconds), the plan's limit. Requests in flight expire
// by Redis's own clock, so that replicas whose clocks differ agree on them.
const windowLua = `
redis.replicate_commands()
local now = tonumber(ARGV[1])
local length = tonumber(ARGV[2])
local tol = tonumber(ARGV[3])
local planLimit = tonumber(ARGV[4])
local t = redis.call("TIME")
local rnow = t[1] * 1000 + math.floor(t[2] / 1000)
local f = redis.call("HMGET", KEYS[1], "limit", "remaining", "reset", "foreseen", "floor")
local w = {limit = tonumber(f[1]) or planLimit, remaining = tonumber(f[2]) or 0,
	reset = tonumber(f[3]) or 0, foreseen = f[4] == "1", floor = tonumber(f[5]) or 0}
local dirty = false
if w.reset > 0 and now >= w.reset then
	if w.limit <= 0 then
		w.remaining, w.reset, w.foreseen, w.floor = 0, 0, false, 0
	else
		w.floor = w.reset + tol
		w.reset = w.reset + (math.floor((now - w.reset) / length) + 1) * length
		w.remaining, w.foreseen = w.limit, true
	end
	dirty = true
end
local function save()
	if not dirty then
		return
	end
	redis.call("HSET", KEYS[1], "limit", string.format("%d", w.limit),
		"remaining", string.format("%d", w.remaining), "reset", string.format("%d", w.reset),
		"foreseen", w.foreseen and "1" or "0", "floor", string.format("%d", w.floor))
	local ttl = 2 * length
	if w.reset > now then
		ttl = w.reset - now + length
	end
	redis.call("PEXPIRE", KEYS[1], string.format("%d", ttl))
end
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", rnow)
local inflight = redis.call("ZCARD", KEYS[2])
`

// acquireScript decides one request. ARGV after the common ones: the
// request id, how long it counts as in flight (ms), "1" when the pacing
// limiter has already let it through. It returns the decision, the wait
// until the reset (ms, for busy and spent), the limit and the budget left
// for others.
var acquireScript = redis.NewScript(windowLua + `
local function grant()
	redis.call("ZADD", KEYS[2], rnow + tonumber(ARGV[6]), ARGV[5])
	redis.call("PEXPIRE", KEYS[2], ARGV[6])
	save()
	return {0, 0, w.limit, math.max(w.remaining - inflight - 1, 0)}
end
if w.reset > 0 then
	if w.remaining > inflight then
		return grant()
	end
	save()
	if w.remaining > 0 then
		return {2, w.reset - now, w.limit, 0}
	end
	return {3, w.reset - now, w.limit, 0}
end
if ARGV[7] == "1" or planLimit <= 0 then
	return grant()
end
save()
return {1, 0, w.limit, 0}
`)

// releaseScript ends one request. ARGV after the common ones: the request
// id, "1" when its answer reported the budget, then the reported limit,
// remaining and reset (ms), and the furthest reset believed (ms).
var releaseScript = redis.NewScript(windowLua + `
redis.call("ZREM", KEYS[2], ARGV[5])
local used = false
if ARGV[6] == "1" then
	local limit, remaining, reset = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
	if reset > now and reset <= now + tonumber(ARGV[10]) then
		if w.reset == 0 or (w.foreseen and reset > w.floor) or (not w.foreseen and reset > w.reset + tol) then
			w.remaining, w.reset, w.foreseen, w.floor = remaining, reset, false, 0
			used = true
		elseif not w.foreseen and reset >= w.reset - tol then
			w.remaining = math.min(w.remaining, remaining)
			used = true
		end
		if used then
			if limit > 0 then
				w.limit = limit
			end
			if w.limit > 0 then
				w.remaining = math.min(w.remaining, w.limit)
			end
		end
	end
end
if not used and w.reset > 0 and w.remaining > 0 then
	w.remaining = w.remaining - 1
	used = true
end
dirty = dirty or used
save()
return 0
`)

// decision is what the acquire script answered.
type decision struct {
	status    int64
	wait      time.Duration
	limit     int
	remaining int
}

// errFreePlan refuses every request on the FREE plan.
var errFreePlan = fmt.Errorf("%w: the company is on the FREE plan; request not sent", blueclerk.ErrPlanRequired)

// Acquire waits until one request may be sent, as [blueclerk.Limiter]
// describes, and registers it as in flight on every replica. After a nil
// error, call release exactly once with the budget the answer reported (the
// zero RateLimit when it reported none or no answer came). release talks to
// Redis under ctx's values, without its cancellation, for at most a couple
// of seconds; if Redis does not answer, the request stops counting after
// [WithInFlightTTL].
//
// Errors: [blueclerk.ErrPlanRequired] for the FREE plan; a
// [*blueclerk.RateLimitError] when the budget is spent (or, before any
// report, the pacing would wait) longer than maxWait or past ctx's
// deadline, or when the requests in flight still hold the rest of it at
// maxWait or ctx's deadline; ctx's error when it is canceled first; an
// error matching [ErrUnavailable] when Redis does not answer and no
// fallback was set.
func (l *Limiter) Acquire(ctx context.Context, maxWait time.Duration) (func(blueclerk.RateLimit), error) {
	if l.err != nil {
		return nil, l.err
	}
	if l.plan == blueclerk.PlanFree {
		return nil, errFreePlan
	}
	id := rand.Text()
	paced := false
	var (
		// With the rest of the budget in flight: when to stop asking, and
		// the refusal then.
		bound time.Time
		held  error
	)
	for {
		now := l.now()
		d, err := l.decide(ctx, now, id, paced)
		if err != nil {
			if held != nil && errors.Is(err, context.DeadlineExceeded) {
				return nil, held // the deadline came while Redis was asked again
			}
			return l.unavailable(ctx, maxWait, err)
		}
		var (
			wait time.Duration
			wake <-chan struct{}
		)
		switch d.status {
		case granted:
			return l.releaser(ctx, id), nil
		case pace:
			res, err := l.gcra.Allow(ctx, l.key, l.pace)
			if err != nil {
				return l.unavailable(ctx, maxWait, failure(ctx, "pacing "+l.key, err))
			}
			if res.Allowed > 0 {
				paced = true
				continue
			}
			wait = res.RetryAfter
		case busy:
			// The rest of the budget is in flight: ask again until their
			// answers tell whether any is left, for at most maxWait from
			// when this call first found it so, and until ctx's deadline.
			if bound.IsZero() {
				bound = inFlightBound(ctx, maxWait)
			}
			held = l.refusal(now, d, d.wait)
			wait = min(pollEvery/2+mathrand.N(pollEvery), time.Until(bound))
			if wait <= 0 {
				return nil, held
			}
			wake = l.wake()
		case spent:
			wait = d.wait
		default:
			return nil, fmt.Errorf("redisstore: limiter %s: unexpected decision %d from Redis", l.key, d.status)
		}
		if d.status != busy && !fits(ctx, wait, maxWait) {
			return nil, l.refusal(now, d, wait)
		}
		err = sleep(ctx, wait, wake)
		if d.status == busy && (errors.Is(err, context.DeadlineExceeded) || err == nil && !time.Now().Before(bound)) {
			// The bound came before the answers: Redis is not asked again
			// under a ctx that may have ended.
			return nil, held
		}
		if err != nil {
			return nil, err
		}
	}
}

// inFlightBound returns when a call that starts waiting now for the
// answers of requests in flight stops: after maxWait, or at ctx's deadline
// if that comes first.
func inFlightBound(ctx context.Context, maxWait time.Duration) time.Time {
	bound := time.Now().Add(maxWait)
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(bound) {
		return deadline
	}
	return bound
}

// refusal is the error of a request refused after decision d, the budget
// being back after wait.
func (l *Limiter) refusal(now time.Time, d decision, wait time.Duration) error {
	return &blueclerk.RateLimitError{
		RateLimit: blueclerk.RateLimit{
			Plan:      l.plan,
			Limit:     d.limit,
			Remaining: d.remaining,
			Reset:     now.Add(wait),
		},
		RetryAfter: wait,
	}
}

// decide runs the acquire script for request id at now.
func (l *Limiter) decide(ctx context.Context, now time.Time, id string, paced bool) (decision, error) {
	p := "0"
	if paced {
		p = "1"
	}
	v, err := acquireScript.Run(ctx, l.rdb, l.keys,
		now.UnixMilli(), window.Milliseconds(), sameWindow.Milliseconds(), l.limit,
		id, l.ttl.Milliseconds(), p).Int64Slice()
	if err != nil {
		return decision{}, failure(ctx, "limiter "+l.key, err)
	}
	if len(v) != 4 {
		return decision{}, fmt.Errorf("redisstore: limiter %s: unexpected script answer %v", l.key, v)
	}
	return decision{status: v[0], wait: time.Duration(v[1]) * time.Millisecond, limit: int(v[2]), remaining: int(v[3])}, nil
}

// unavailable handles a Redis failure: the fallback's answer, or err. The
// end of ctx is no failure of Redis.
func (l *Limiter) unavailable(ctx context.Context, maxWait time.Duration, err error) (func(blueclerk.RateLimit), error) {
	if l.fall == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	return l.fall.Acquire(ctx, maxWait)
}

// releaser returns the release function of request id.
func (l *Limiter) releaser(ctx context.Context, id string) func(blueclerk.RateLimit) {
	var done atomic.Bool
	return func(rl blueclerk.RateLimit) {
		if done.Swap(true) {
			return
		}
		defer l.notify()
		ctx, cancel := detached(ctx)
		defer cancel()
		reported, reset := "0", int64(0)
		if !rl.Reset.IsZero() {
			reported, reset = "1", rl.Reset.UnixMilli()
		}
		// A failure leaves the request in flight until it expires; the
		// answer's report is lost, and the next answer brings another.
		_ = releaseScript.Run(ctx, l.rdb, l.keys,
			l.now().UnixMilli(), window.Milliseconds(), sameWindow.Milliseconds(), l.limit,
			id, reported, max(rl.Limit, 0), max(rl.Remaining, 0), reset, maxAhead.Milliseconds()).Err()
	}
}

// wake returns a channel closed by this replica's next release.
func (l *Limiter) wake() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.changed
}

// notify wakes the requests of this replica waiting for a release.
func (l *Limiter) notify() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// fits reports whether a wait of d is within maxWait and ctx's deadline.
func fits(ctx context.Context, d, maxWait time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return d <= maxWait && (!ok || !time.Now().Add(d).After(deadline))
}

var _ blueclerk.Limiter = (*Limiter)(nil)
