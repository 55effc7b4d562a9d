// Package redisstore keeps the state that several replicas of one
// BlueClerk integration must share in Redis: the company's hourly request
// budget ([Limiter], a [blueclerk.Limiter]), the OAuth token ([TokenStore],
// a [blueclerk.TokenStore] and [blueclerk.TokenLocker]) and the record of
// handled webhooks ([DeliveryStore], a [blueclerk.DeliveryStore]).
//
// Every decision is one atomic Lua script or single command, so replicas
// never need to agree on anything but Redis. Nothing here starts a goroutine:
// waiting for budget or for a lock happens in the caller's goroutine, bounded
// by its context.
//
// # When Redis fails
//
// Every command runs under the caller's context. An error caused by Redis
// not answering (refused connection, timeout, closed pool, a server still
// loading or failing over) matches
// [ErrUnavailable] and wraps the go-redis error; one Redis answered with
// (such as WRONGTYPE for a key used by something else) wraps that answer.
// Neither ever holds a token. A [Limiter] given [WithFallback] keeps the
// budget in process while Redis is failing and returns to Redis as soon as
// it answers again.
//
// How long a command may take when Redis is slow or gone is up to the
// client passed in. go-redis honours a context's deadline only with
// ContextTimeoutEnabled; without it a command waits for ReadTimeout
// whatever ctx says (a cancellation is seen between commands either way).
// DialTimeout, ReadTimeout and WriteTimeout (go-redis defaults: 5, 3 and 3
// seconds), MaxRetries (default 3) and DialerRetries (default 5 dials, 100
// ms apart) bound what ctx does not. A request path usually wants them
// shorter:
//
//	rdb := redis.NewClient(&redis.Options{
//		Addr:                  "redis:6379",
//		ContextTimeoutEnabled: true,
//		DialTimeout:           time.Second,
//		ReadTimeout:           500 * time.Millisecond,
//		WriteTimeout:          500 * time.Millisecond,
//		MaxRetries:            1,
//		DialerRetries:         1,
//	})
//
// Close the client when done; the stores here hold nothing else.
//
// # Redis Cluster
//
// With a *redis.ClusterClient, give a [Limiter]'s key a hash tag (such as
// "blueclerk:budget:{acme}"): each of its decisions is one script over two
// keys, which a cluster runs only within one hash slot. The token store and
// the delivery store touch one key per command and need none. Each store
// keeps its guarantees on a cluster; across a failover, writes the old
// master had not yet replicated may be lost (the README says what that
// costs).
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is matched by every error caused by Redis not answering: a
// refused or broken connection, a timeout, a closed client, or a server
// that cannot serve for now (LOADING, READONLY during a failover, CLUSTERDOWN
// and the like). The error also wraps the go-redis error that says which.
var ErrUnavailable = errors.New("redisstore: Redis is unreachable or did not answer in time")

// Option configures [NewLimiter], [NewTokenStore] or [NewDeliveryStore].
// Each option says which of them it applies to; passing it to another makes
// that store's methods fail with an error saying so.
type Option func(*options) error

// kind names the constructor an options value is built for.
type kind string

const (
	kindLimiter    kind = "NewLimiter"
	kindTokenStore kind = "NewTokenStore"
	kindDeliveries kind = "NewDeliveryStore"
)

// options holds every option's value, with the defaults each constructor
// sets before applying the caller's.
type options struct {
	kind kind

	// Limiter.
	fallback    blueclerk.Limiter
	now         func() time.Time
	inFlightTTL time.Duration

	// TokenStore.
	lockTTL  time.Duration
	lockWait time.Duration

	// DeliveryStore.
	claimTTL time.Duration
	doneTTL  time.Duration
}

// apply runs opts over o, returning the first error.
func (o *options) apply(opts []Option) error {
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return err
		}
	}
	return nil
}

// only returns an error when o is not being built for one of kinds.
func (o *options) only(name string, kinds ...kind) error {
	for _, k := range kinds {
		if o.kind == k {
			return nil
		}
	}
	return fmt.Errorf("redisstore: %s: option %s does not apply to it (it applies to %s)", o.kind, name, kinds[0])
}

// positive is the shared check of a duration option.
func positive(o *options, name string, k kind, d time.Duration, set *time.Duration) error {
	if err := o.only(name, k); err != nil {
		return err
	}
	if d <= 0 {
		return fmt.Errorf("redisstore: %s: %s(%v): the duration must be positive", k, name, d)
	}
	*set = d
	return nil
}

// checkArgs reports a missing client or key, which no method can do
// without.
func checkArgs(k kind, rdb redis.UniversalClient, keyName, key string) error {
	switch {
	case rdb == nil:
		return fmt.Errorf("redisstore: %s: nil Redis client (pass a *redis.Client, *redis.ClusterClient or redis.NewUniversalClient)", k)
	case key == "":
		return fmt.Errorf("redisstore: %s: empty %s", k, keyName)
	}
	return nil
}

// failure describes an error from a Redis command made for op. ctx's own
// end is reported as such; everything else either matches ErrUnavailable
// (Redis did not answer) or carries Redis's answer.
func failure(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("redisstore: %s: %w", op, ctxErr)
	}
	// A command cut off at ctx's deadline may fail before ctx reports it.
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return fmt.Errorf("redisstore: %s: %w", op, context.DeadlineExceeded)
	}
	var answer redis.Error
	if errors.As(err, &answer) && !unavailableAnswer(answer.Error()) {
		return fmt.Errorf("redisstore: %s: Redis answered with an error: %w", op, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// unavailableAnswer reports whether an error answer means the server
// cannot serve right now (loading, failing over, cluster down) rather than
// that the command was wrong.
func unavailableAnswer(msg string) bool {
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// deleteIfOwner deletes KEYS[1] when it still holds ARGV[1], so that a lock
// or claim that expired and was taken by someone else is left alone.
var deleteIfOwner = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)

// detached returns a context for a command that must run after ctx ended,
// such as releasing a lock: ctx's values without its cancellation, bounded
// by cleanupTimeout.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// cleanupTimeout bounds a command that runs after the caller's context may
// have ended. What it leaves undone expires in Redis by itself.
const cleanupTimeout = 2 * time.Second

// sleep waits for d, for wake to be closed (nil never is) or for ctx to
// end, whichever comes first, and returns ctx's error in the last case.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
