package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"github.com/redis/go-redis/v9"
)

const (
	// defaultClaimTTL is how long a claim lasts when its holder never
	// finishes it (the replica died): a redelivery after it runs again.
	defaultClaimTTL = 10 * time.Minute
	// defaultDoneTTL is how long a handled webhook-id is remembered: longer
	// than the sender goes on redelivering.
	defaultDoneTTL = 24 * time.Hour
	// doneMarker is the value of a handled webhook-id; a claim's value is
	// claimPrefix and the claiming store's id.
	doneMarker  = "done"
	claimPrefix = "claimed:"
)

// DeliveryStore is a [blueclerk.DeliveryStore] in Redis: set it as
// [blueclerk.WebhookVerifier].Deliveries on every replica, with the same
// prefix, and a webhook delivered to several replicas at once, or
// redelivered to another, is handled once. It is safe for concurrent use
// and needs no Close.
//
// Each webhook-id is one key, prefix+id: a claim (SET NX, lasting
// [WithClaimTTL]) while a replica handles it, then "done" for
// [WithDoneTTL].
type DeliveryStore struct {
	rdb      redis.UniversalClient
	prefix   string
	owner    string // this store's claim value
	claimTTL time.Duration
	doneTTL  time.Duration
	err      error // a configuration error, returned by every call
}

// NewDeliveryStore returns a DeliveryStore keeping webhook-ids under prefix
// in rdb (such as "blueclerk:webhook:"). Give every replica the same prefix.
//
// Options: [WithClaimTTL], [WithDoneTTL]. A nil rdb, an empty prefix or an
// invalid option makes every method fail with an error saying so.
func NewDeliveryStore(rdb redis.UniversalClient, prefix string, opts ...Option) *DeliveryStore {
	o := options{kind: kindDeliveries, claimTTL: defaultClaimTTL, doneTTL: defaultDoneTTL}
	s := &DeliveryStore{rdb: rdb, prefix: prefix, owner: claimPrefix + rand.Text()}
	s.err = checkArgs(kindDeliveries, rdb, "prefix", prefix)
	if err := o.apply(opts); err != nil && s.err == nil {
		s.err = err
	}
	s.claimTTL, s.doneTTL = o.claimTTL, o.doneTTL
	return s
}

// WithClaimTTL sets how long a claimed webhook-id stays claimed when its
// handler never finishes, because the replica died (default 10 minutes):
// until then redeliveries are answered "in progress", after it they run
// again. Make it longer than a handler runs. For NewDeliveryStore only.
func WithClaimTTL(d time.Duration) Option {
	return func(o *options) error { return positive(o, "WithClaimTTL", kindDeliveries, d, &o.claimTTL) }
}

// WithDoneTTL sets how long a handled webhook-id is remembered (default 24
// hours). For NewDeliveryStore only.
func WithDoneTTL(d time.Duration) Option {
	return func(o *options) error { return positive(o, "WithDoneTTL", kindDeliveries, d, &o.doneTTL) }
}

// claimScript claims KEYS[1] with the value ARGV[1] for ARGV[2]
// milliseconds unless it exists, and says what it found: 0 nothing (now
// claimed), 1 a claim, 2 done.
var claimScript = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if not v then
	redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
	return 0
end
if v == "` + doneMarker + `" then
	return 2
end
return 1
`)

// Claim reports what every replica knows of webhook-id id and, when it is
// new, claims it for the caller, who must then call Finish. Of concurrent
// claims on one id, on any replica, exactly one gets
// [blueclerk.DeliveryNew]. An error matching [ErrUnavailable] means Redis
// did not answer: the Handler then answers 503 and the sender retries.
func (s *DeliveryStore) Claim(ctx context.Context, id string) (blueclerk.DeliveryState, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	n, err := claimScript.Run(ctx, s.rdb, []string{s.prefix + id}, s.owner, s.claimTTL.Milliseconds()).Int64()
	if err != nil {
		return 0, failure(ctx, "claiming webhook "+id, err)
	}
	switch n {
	case 0:
		return blueclerk.DeliveryNew, nil
	case 1:
		return blueclerk.DeliveryInProgress, nil
	case 2:
		return blueclerk.DeliveryDone, nil
	}
	return 0, fmt.Errorf("redisstore: claiming webhook %s: unexpected script answer %d", id, n)
}

// Finish ends the caller's claim on id. handled=true records id as done for
// [WithDoneTTL]; handled=false forgets the claim, if it is still this
// store's, so that a redelivery runs again.
func (s *DeliveryStore) Finish(ctx context.Context, id string, handled bool) error {
	if err := s.check(id); err != nil {
		return err
	}
	var err error
	if handled {
		err = s.rdb.Set(ctx, s.prefix+id, doneMarker, s.doneTTL).Err()
	} else {
		err = deleteIfOwner.Run(ctx, s.rdb, []string{s.prefix + id}, s.owner).Err()
	}
	if err != nil {
		return failure(ctx, "finishing webhook "+id, err)
	}
	return nil
}

func (s *DeliveryStore) check(id string) error {
	switch {
	case s.err != nil:
		return s.err
	case id == "":
		return errors.New("redisstore: DeliveryStore: empty webhook id")
	}
	return nil
}

var _ blueclerk.DeliveryStore = (*DeliveryStore)(nil)
