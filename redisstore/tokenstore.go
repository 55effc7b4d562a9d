package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"sync"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
)

const (
	// defaultLockTTL bounds how long a replica that died while refreshing
	// keeps the others from refreshing. It covers a refresh with its retries.
	defaultLockTTL = 30 * time.Second
	// lockPoll is the mean interval at which a replica waiting for the lock
	// asks again.
	lockPoll = 25 * time.Millisecond
)

// TokenStore is a [blueclerk.TokenStore] keeping one OAuth token in Redis,
// shared by every replica that uses the same key, and a
// [blueclerk.TokenLocker]: [blueclerk.PersistentTokenSource] takes its lock
// around a refresh, so that when the token expires exactly one replica
// refreshes it and the others load the result. It is safe for concurrent
// use and needs no Close.
//
// The token is stored at key as JSON (access_token, token_type,
// refresh_token, expiry; the format of [blueclerk.FileTokenStore]) without
// expiry, so that its refresh token outlives the access token; the lock is
// key+":lock". Anyone who can read the key can use the token: protect the
// Redis server (ACLs, TLS) accordingly. Errors never contain the token.
type TokenStore struct {
	rdb      redis.UniversalClient
	key      string
	lockKey  string
	lockTTL  time.Duration
	lockWait time.Duration
	err      error // a configuration error, returned by every call
}

// NewTokenStore returns a TokenStore keeping the token at key in rdb (such
// as "blueclerk:token:" plus the OAuth client id). Give every replica the
// same key.
//
// Options: [WithLockTTL], [WithLockWait]. A nil rdb, an empty key or an
// invalid option makes every method fail with an error saying so.
func NewTokenStore(rdb redis.UniversalClient, key string, opts ...Option) *TokenStore {
	o := options{kind: kindTokenStore, lockTTL: defaultLockTTL}
	s := &TokenStore{rdb: rdb, key: key, lockKey: key + ":lock"}
	s.err = checkArgs(kindTokenStore, rdb, "key", key)
	if err := o.apply(opts); err != nil && s.err == nil {
		s.err = err
	}
	s.lockTTL, s.lockWait = o.lockTTL, o.lockWait
	if s.lockWait == 0 {
		s.lockWait = s.lockTTL
	}
	return s
}

// WithLockTTL sets how long the token lock lasts when its holder never
// releases it, because it died mid-refresh (default 30 seconds). Make it
// longer than a refresh takes: a refresh outliving its lock may race
// another one, and with rotating refresh tokens one of them then fails.
// For NewTokenStore only.
func WithLockTTL(d time.Duration) Option {
	return func(o *options) error { return positive(o, "WithLockTTL", kindTokenStore, d, &o.lockTTL) }
}

// WithLockWait sets how long LockToken waits for another replica's lock
// before failing (default: the lock TTL, by when a lock whose holder died
// has expired). ctx's deadline bounds the wait too. For NewTokenStore
// only.
func WithLockWait(d time.Duration) Option {
	return func(o *options) error { return positive(o, "WithLockWait", kindTokenStore, d, &o.lockWait) }
}

// Load returns the stored token, or nil, nil when none is stored. It
// fails, without quoting the value, when the key holds something else.
func (s *TokenStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	b, err := s.rdb.Get(ctx, s.key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, failure(ctx, "loading the token at "+s.key, err)
	}
	var tok oauth2.Token // stored in oauth2.Token's JSON form, as blueclerk.FileTokenStore keeps it
	if json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" && tok.RefreshToken == "" {
		return nil, fmt.Errorf("redisstore: %s holds no saved token; delete the key and log in again", s.key)
	}
	return &tok, nil
}

// Save replaces the stored token with tok, for every replica.
func (s *TokenStore) Save(ctx context.Context, tok *oauth2.Token) error {
	if s.err != nil {
		return s.err
	}
	if tok == nil {
		return errors.New("redisstore: TokenStore.Save: nil token")
	}
	b, err := json.Marshal(&oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType,
		RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}) // not ExpiresIn, relative to issue time
	if err != nil {
		return fmt.Errorf("redisstore: encoding the token for %s failed", s.key)
	}
	if err := s.rdb.Set(ctx, s.key, b, 0).Err(); err != nil {
		return failure(ctx, "saving the token at "+s.key, err)
	}
	return nil
}

// LockToken takes the lock on the token shared by every replica, waiting
// while another holds it, for at most [WithLockWait] and within ctx. unlock
// releases it (once; later calls do nothing), and only if it is still this
// caller's: a lock held past [WithLockTTL] has expired and may be another's.
//
// It fails with an error saying the lock is held when the wait runs out,
// with ctx's error when ctx ends, and with an error matching
// [ErrUnavailable] when Redis does not answer.
func (s *TokenStore) LockToken(ctx context.Context) (unlock func(), err error) {
	if s.err != nil {
		return nil, s.err
	}
	owner := rand.Text()
	deadline := time.Now().Add(s.lockWait)
	for {
		ok, err := s.rdb.SetNX(ctx, s.lockKey, owner, s.lockTTL).Result()
		if err != nil {
			return nil, failure(ctx, "locking "+s.lockKey, err)
		}
		if ok {
			break
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("redisstore: the token lock %s is still held by another replica after %v; retry, or wait for it to expire (WithLockTTL %v)", s.lockKey, s.lockWait, s.lockTTL)
		}
		if err := sleep(ctx, min(lockPoll/2+mathrand.N(lockPoll), left), nil); err != nil {
			return nil, fmt.Errorf("redisstore: waiting for the token lock %s: %w", s.lockKey, err)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := detached(ctx)
			defer cancel()
			// On failure the lock expires after the lock TTL.
			_ = deleteIfOwner.Run(ctx, s.rdb, []string{s.lockKey}, owner).Err()
		})
	}, nil
}

var (
	_ blueclerk.TokenStore  = (*TokenStore)(nil)
	_ blueclerk.TokenLocker = (*TokenStore)(nil)
)
