package blueclerk_test

import (
	"path/filepath"
	"testing"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

// The SDK's own implementations of its pluggable parts keep the contracts
// that blueclerktest states for any implementation.

func TestNewLimiterConforms(t *testing.T) {
	t.Parallel()
	blueclerktest.TestLimiter(t, func(t *testing.T, p blueclerk.Plan) blueclerk.Limiter {
		return blueclerk.NewLimiter(p)
	})
}

func TestFileTokenStoreConforms(t *testing.T) {
	t.Parallel()
	blueclerktest.TestTokenStore(t, func(t *testing.T) blueclerk.TokenStore {
		return blueclerk.NewFileTokenStore(filepath.Join(t.TempDir(), "blueclerk", "token.json"))
	})
}

func TestDefaultDeliveryStoreConforms(t *testing.T) {
	t.Parallel()
	blueclerktest.TestDeliveryStore(t, func(*testing.T) blueclerk.DeliveryStore {
		return blueclerk.NewDefaultDeliveryStore()
	})
}
