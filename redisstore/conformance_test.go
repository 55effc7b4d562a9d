package redisstore

import (
	"testing"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

// The three stores keep the contracts blueclerktest states for any
// implementation, each on keys of its own per scenario.

func TestLimiterConforms(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	blueclerktest.TestLimiter(t, func(t *testing.T, p blueclerk.Plan) blueclerk.Limiter {
		return NewLimiter(rdb, "{"+testKey(t)+"}", p)
	})
}

func TestTokenStoreConforms(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	blueclerktest.TestTokenStore(t, func(t *testing.T) blueclerk.TokenStore {
		return NewTokenStore(rdb, testKey(t))
	})
}

func TestDeliveryStoreConforms(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	blueclerktest.TestDeliveryStore(t, func(t *testing.T) blueclerk.DeliveryStore {
		return NewDeliveryStore(rdb, testKey(t)+":")
	})
}
