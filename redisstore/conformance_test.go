package redisstore

import (
	"testing"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
	"github.com/redis/go-redis/v9"
)

// The three stores keep the contracts blueclerktest states for any
// implementation, on a standalone Redis and on a Redis Cluster, each
// scenario on keys of its own.

func TestLimiterConforms(t *testing.T) {
	t.Parallel()
	onEveryRedis(t, func(t *testing.T, rdb redis.UniversalClient) {
		blueclerktest.TestLimiter(t, func(t *testing.T, p blueclerk.Plan) blueclerk.Limiter {
			return NewLimiter(rdb, "{"+testKey(t)+"}", p)
		})
	})
}

func TestTokenStoreConforms(t *testing.T) {
	t.Parallel()
	onEveryRedis(t, func(t *testing.T, rdb redis.UniversalClient) {
		blueclerktest.TestTokenStore(t, func(t *testing.T) blueclerk.TokenStore {
			return NewTokenStore(rdb, testKey(t))
		})
	})
}

func TestDeliveryStoreConforms(t *testing.T) {
	t.Parallel()
	onEveryRedis(t, func(t *testing.T, rdb redis.UniversalClient) {
		blueclerktest.TestDeliveryStore(t, func(t *testing.T) blueclerk.DeliveryStore {
			return NewDeliveryStore(rdb, testKey(t)+":")
		})
	})
}

// onEveryRedis runs test as parallel subtests, on a client of the shared
// standalone server and on one of the shared cluster.
func onEveryRedis(t *testing.T, test func(t *testing.T, rdb redis.UniversalClient)) {
	for _, deployment := range []struct {
		name   string
		client func(testing.TB) redis.UniversalClient
	}{
		{"standalone", func(t testing.TB) redis.UniversalClient { return sharedClient(t) }},
		{"cluster", func(t testing.TB) redis.UniversalClient { return clusterClient(t) }},
	} {
		t.Run(deployment.name, func(t *testing.T) {
			t.Parallel()
			test(t, deployment.client(t))
		})
	}
}
