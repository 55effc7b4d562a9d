package redisstore

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// Secrets that must never appear in an error.
const (
	secretAccess  = "at-SECRET-7d1e"
	secretRefresh = "rt-SECRET-93ab"
)

var testToken = &oauth2.Token{
	AccessToken:  secretAccess,
	TokenType:    "Bearer",
	RefreshToken: secretRefresh,
	Expiry:       time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC),
}

// assertNoSecret fails when err's text holds a token.
func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{secretAccess, secretRefresh, "SECRET"} {
		assert.NotContains(t, err.Error(), s)
	}
}

func TestTokenStoreConfig(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		s    *TokenStore
		want string
	}{
		{"nil client", NewTokenStore(nil, "k"), "nil Redis client"},
		{"empty key", NewTokenStore(rdb, ""), "empty key"},
		{"foreign option", NewTokenStore(rdb, "k", WithFallback(blueclerk.NewLimiter(blueclerk.PlanPro))), "option WithFallback does not apply to it"},
		{"negative wait", NewTokenStore(rdb, "k", WithLockWait(-time.Second)), "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Load(ctx)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, tc.s.Save(ctx, testToken), tc.want)
			_, err = tc.s.LockToken(ctx)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestTokenStoreSaveLoad(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	ctx := context.Background()
	key := testKey(t)
	s := NewTokenStore(rdb, key)

	tok, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, tok, "nothing stored yet")

	require.NoError(t, s.Save(ctx, testToken))
	tok, err = NewTokenStore(rdb, key).Load(ctx) // another replica
	require.NoError(t, err)
	assert.Equal(t, testToken.AccessToken, tok.AccessToken)
	assert.Equal(t, testToken.TokenType, tok.TokenType)
	assert.Equal(t, testToken.RefreshToken, tok.RefreshToken)
	assert.True(t, testToken.Expiry.Equal(tok.Expiry))

	raw, err := rdb.Get(ctx, key).Result()
	require.NoError(t, err)
	assert.JSONEq(t, `{"access_token":"at-SECRET-7d1e","token_type":"Bearer","refresh_token":"rt-SECRET-93ab","expiry":"2026-03-02T11:00:00Z"}`, raw)
	ttl, err := rdb.TTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), ttl, "the token is kept without expiry")

	require.ErrorContains(t, s.Save(ctx, nil), "nil token")
}

func TestTokenStoreBadValue(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	ctx := context.Background()
	for name, set := range map[string]func(key string) error{
		"truncated JSON": func(key string) error {
			return rdb.Set(ctx, key, `{"access_token":"at-SECRET-7d1e","refresh_token":"rt-SECRET`, 0).Err()
		},
		"no token": func(key string) error { return rdb.Set(ctx, key, `{"expiry":"2026-03-02T11:00:00Z"}`, 0).Err() },
		"wrong type": func(key string) error {
			return rdb.HSet(ctx, key, "access_token", secretAccess).Err()
		},
	} {
		t.Run(name, func(t *testing.T) {
			key := testKey(t)
			require.NoError(t, set(key))
			tok, err := NewTokenStore(rdb, key).Load(ctx)
			require.Error(t, err)
			assert.Nil(t, tok)
			assert.NotErrorIs(t, err, ErrUnavailable)
			assertNoSecret(t, err)
		})
	}
}

func TestTokenStoreLock(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	ctx := context.Background()
	key := testKey(t)
	a, b := NewTokenStore(rdb, key), NewTokenStore(rdb, key, WithLockWait(50*time.Millisecond))

	unlockA, err := a.LockToken(ctx)
	require.NoError(t, err)
	ttl, err := rdb.PTTL(ctx, key+":lock").Result()
	require.NoError(t, err)
	assert.InDelta(t, defaultLockTTL.Seconds(), ttl.Seconds(), 1, "the lock expires by itself")

	_, err = b.LockToken(ctx)
	require.ErrorContains(t, err, "still held by another replica")
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = a.LockToken(short)
	require.ErrorIs(t, err, context.DeadlineExceeded, "waits within ctx")

	// A waiter gets the lock once it is released.
	got := make(chan error, 1)
	go func() {
		unlock, err := a.LockToken(ctx)
		if err == nil {
			unlock()
		}
		got <- err
	}()
	unlockA()
	unlockA() // a second call does nothing
	require.NoError(t, <-got)

	// A lock that expired and was taken by another is not released by its
	// former holder.
	unlockB, err := b.LockToken(ctx)
	require.NoError(t, err)
	require.NoError(t, rdb.Del(ctx, key+":lock").Err()) // as if it expired
	unlockC, err := a.LockToken(ctx)
	require.NoError(t, err)
	unlockB()
	n, err := rdb.Exists(ctx, key+":lock").Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "the new holder's lock stays")
	unlockC()
	n, err = rdb.Exists(ctx, key+":lock").Result()
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestTokenStoreRedisDown(t *testing.T) {
	t.Parallel()
	srv := ownRedis(t)
	s := NewTokenStore(newClient(t, srv), "token")
	ctx := context.Background()
	require.NoError(t, s.Save(ctx, testToken))
	srv.stop()

	_, err := s.Load(ctx)
	require.ErrorIs(t, err, ErrUnavailable)
	assertNoSecret(t, err)
	err = s.Save(ctx, testToken)
	require.ErrorIs(t, err, ErrUnavailable)
	assertNoSecret(t, err)
	_, err = s.LockToken(ctx)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Contains(t, err.Error(), "Redis is unreachable")

	require.NoError(t, srv.start()) // empty: nothing was persisted
	tok, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, tok)
	require.NoError(t, s.Save(ctx, testToken))
	unlock, err := s.LockToken(ctx)
	require.NoError(t, err)
	unlock()
}

// loadCounter is a replica's TokenStore that closes every once the
// replicas together have made n loads.
type loadCounter struct {
	*TokenStore
	loads *atomic.Int64
	n     int64
	every chan struct{}
}

func (s loadCounter) Load(ctx context.Context) (*oauth2.Token, error) {
	if s.loads.Add(1) == s.n {
		close(s.every)
	}
	return s.TokenStore.Load(ctx)
}

// TestReplicasRefreshOnce: 50 goroutines on 4 replicas, each replica a
// PersistentTokenSource on its own TokenStore with the same key, find the
// stored token expired. One token request is made, and all get its token.
func TestReplicasRefreshOnce(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	key := testKey(t)
	var loads, requests atomic.Int64
	everyReplica := make(chan struct{})
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") != secretRefresh {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		// Answer once every replica has found the token expired: without
		// the lock, each would now be refreshing too.
		select {
		case <-everyReplica:
		case <-time.After(5 * time.Second):
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at-new","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-new"}`)
	}))
	defer endpoint.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
	cfg := &oauth2.Config{
		ClientID:     "client_1",
		ClientSecret: "cs-SECRET",
		Endpoint:     oauth2.Endpoint{TokenURL: endpoint.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	expired := *testToken
	expired.Expiry = time.Now().Add(-time.Minute)
	require.NoError(t, NewTokenStore(sharedClient(t), key).Save(ctx, &expired))

	var sources []oauth2.TokenSource
	for range 4 {
		store := loadCounter{NewTokenStore(newClient(t, shared), key), &loads, 4, everyReplica}
		sources = append(sources, blueclerk.PersistentTokenSource(ctx, cfg, store))
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			tok, err := sources[i%4].Token()
			if !assert.NoError(t, err) {
				return
			}
			assert.Equal(t, "at-new", tok.AccessToken)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, requests.Load(), "token requests")
	stored, err := NewTokenStore(sharedClient(t), key).Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "rt-new", stored.RefreshToken, "the rotated refresh token is saved")
	assert.True(t, stored.Expiry.After(time.Now()))
}
