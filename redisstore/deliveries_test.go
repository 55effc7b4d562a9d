package redisstore

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeliveryStoreConfig(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		s    *DeliveryStore
		id   string
		want string
	}{
		{"nil client", NewDeliveryStore(nil, "p:"), "msg_1", "nil Redis client"},
		{"empty prefix", NewDeliveryStore(rdb, ""), "msg_1", "empty prefix"},
		{"foreign option", NewDeliveryStore(rdb, "p:", WithLockTTL(time.Second)), "msg_1", "option WithLockTTL does not apply to it"},
		{"zero TTL", NewDeliveryStore(rdb, "p:", WithDoneTTL(0)), "msg_1", "must be positive"},
		{"empty id", NewDeliveryStore(rdb, "p:"), "", "empty webhook id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Claim(ctx, tc.id)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, tc.s.Finish(ctx, tc.id, true), tc.want)
		})
	}
}

func TestDeliveryStoreStates(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	ctx := context.Background()
	prefix := testKey(t) + ":"
	a, b := NewDeliveryStore(rdb, prefix), NewDeliveryStore(rdb, prefix)
	state := func(s *DeliveryStore, id string) blueclerk.DeliveryState {
		t.Helper()
		st, err := s.Claim(ctx, id)
		require.NoError(t, err)
		return st
	}
	ttl := func(id string) time.Duration {
		t.Helper()
		d, err := rdb.PTTL(ctx, prefix+id).Result()
		require.NoError(t, err)
		return d
	}

	// Claimed by a, in progress for b, done for both.
	require.Equal(t, blueclerk.DeliveryNew, state(a, "msg_1"))
	assert.InDelta(t, defaultClaimTTL.Seconds(), ttl("msg_1").Seconds(), 2)
	require.Equal(t, blueclerk.DeliveryInProgress, state(b, "msg_1"))
	require.Equal(t, blueclerk.DeliveryInProgress, state(a, "msg_1"))
	require.NoError(t, a.Finish(ctx, "msg_1", true))
	assert.InDelta(t, defaultDoneTTL.Seconds(), ttl("msg_1").Seconds(), 2)
	require.Equal(t, blueclerk.DeliveryDone, state(b, "msg_1"))
	require.Equal(t, blueclerk.DeliveryDone, state(a, "msg_1"))

	// A failed handler forgets its claim: the redelivery runs.
	require.Equal(t, blueclerk.DeliveryNew, state(a, "msg_2"))
	require.NoError(t, a.Finish(ctx, "msg_2", false))
	require.Equal(t, blueclerk.DeliveryNew, state(b, "msg_2"))

	// A claim that expired and was taken by another replica is not
	// forgotten by its former holder.
	require.NoError(t, rdb.Del(ctx, prefix+"msg_2").Err()) // as if b's claim expired
	require.Equal(t, blueclerk.DeliveryNew, state(a, "msg_2"))
	require.NoError(t, b.Finish(ctx, "msg_2", false))
	require.Equal(t, blueclerk.DeliveryInProgress, state(b, "msg_2"), "a's claim stays")

	// Options set the TTLs.
	c := NewDeliveryStore(rdb, prefix, WithClaimTTL(time.Minute), WithDoneTTL(time.Hour))
	require.Equal(t, blueclerk.DeliveryNew, state(c, "msg_3"))
	assert.InDelta(t, 60, ttl("msg_3").Seconds(), 2)
	require.NoError(t, c.Finish(ctx, "msg_3", true))
	assert.InDelta(t, 3600, ttl("msg_3").Seconds(), 2)
}

// TestDeliveryStoreConcurrentClaims: of 40 claims at once on 4 replicas,
// one gets the delivery.
func TestDeliveryStoreConcurrentClaims(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	prefix := testKey(t) + ":"
	var stores []*DeliveryStore
	for range 4 {
		stores = append(stores, NewDeliveryStore(newClient(t, shared), prefix))
	}
	var won atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			st, err := stores[i%4].Claim(context.Background(), "msg_race")
			if err != nil {
				t.Error(err)
			}
			if st == blueclerk.DeliveryNew {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, won.Load())
}

// TestWebhookOnceAcrossReplicas: a blueclerktest server delivers each event
// to two replicas at once, the same webhook-id to both; each replica's
// WebhookVerifier keeps its deliveries in Redis. Every event is handled
// once, and both deliveries of it succeed.
func TestWebhookOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	secret := blueclerktest.NewWebhookSecret()
	prefix := testKey(t) + ":"

	var (
		mu       sync.Mutex
		handled  = make(map[string]int)           // webhook-id → fn calls
		answered = make(map[string]chan struct{}) // closed when the second replica has answered an id
		arrivals = make(map[string]int)
	)
	answeredCh := func(id string) chan struct{} {
		if answered[id] == nil {
			answered[id] = make(chan struct{})
		}
		return answered[id]
	}
	fn := func(ctx context.Context, e *blueclerk.Event) error {
		mu.Lock()
		handled[e.ID]++
		ch := answeredCh(e.ID)
		mu.Unlock()
		// Hold the claim until the other replica has answered its copy, so
		// that the two deliveries overlap.
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
		}
		return nil
	}
	replica := func() string {
		v, err := blueclerk.NewWebhookVerifier(secret)
		require.NoError(t, err)
		v.Deliveries = NewDeliveryStore(newClient(t, shared), prefix)
		h := v.Handler(fn)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("webhook-id")
			h.ServeHTTP(w, r)
			mu.Lock()
			if arrivals[id]++; arrivals[id] == 2 {
				close(answeredCh(id))
			}
			mu.Unlock()
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	api := blueclerktest.NewServer(blueclerktest.WithWebhook(replica(), secret), blueclerktest.WithWebhook(replica(), secret))
	defer api.Close()

	ticket := api.AddTicket(blueclerk.Ticket{CustomerID: "cus_1", Description: "Leaking tap", Priority: blueclerk.PriorityHigh})
	const events = 3
	for range events {
		require.NoError(t, api.Emit(blueclerk.EventTicketUpdated, ticket.ID))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, api.WaitDeliveries(ctx))

	deliveries := api.Deliveries()
	require.Len(t, deliveries, 2*events)
	mu.Lock()
	defer mu.Unlock()
	for _, d := range deliveries {
		assert.True(t, d.Delivered, "%s to %s: %v", d.ID, d.URL, d.Err)
		assert.Equal(t, 1, handled[d.ID], "%s handled once", d.ID)
	}
	assert.Len(t, handled, events)
}

// TestWebhookRedisDown: while Redis is down the Handler answers 503 without
// running fn, so the sender retries; once Redis is back the delivery is
// handled, once.
func TestWebhookRedisDown(t *testing.T) {
	t.Parallel()
	srv := ownRedis(t)
	secret := blueclerktest.NewWebhookSecret()
	v, err := blueclerk.NewWebhookVerifier(secret)
	require.NoError(t, err)
	store := NewDeliveryStore(newClient(t, srv), "webhook:")
	v.Deliveries = store
	var calls atomic.Int64
	h := v.Handler(func(context.Context, *blueclerk.Event) error {
		calls.Add(1)
		return nil
	})
	body := []byte(`{"event":"ticket.updated","timestamp":"2026-03-02T10:05:00Z","data":{"id":"tkt_1"}}`)
	deliver := func() int {
		now := time.Now()
		sig, err := blueclerk.SignWebhook(secret, "msg_down", now, body)
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
		r.Header.Set("webhook-id", "msg_down")
		r.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		r.Header.Set("webhook-signature", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}

	srv.stop()
	_, err = store.Claim(context.Background(), "msg_down")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Contains(t, err.Error(), "Redis is unreachable")
	require.ErrorIs(t, store.Finish(context.Background(), "msg_down", true), ErrUnavailable)
	assert.Equal(t, http.StatusServiceUnavailable, deliver())
	assert.Zero(t, calls.Load())

	require.NoError(t, srv.start())
	assert.Equal(t, http.StatusNoContent, deliver())
	assert.Equal(t, http.StatusOK, deliver(), "already handled")
	assert.EqualValues(t, 1, calls.Load())
}
