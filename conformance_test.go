package blueclerk_test

import (
	"path/filepath"
	"testing"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

// The SDK's own implementations of its pluggable parts keep the contracts
// that blueclerktest states for any implementation. The suites time real
// waits, so these tests run before the package's parallel ones (the soak
// tests among them) rather than beside them.

func TestNewLimiterConforms(t *testing.T) {
	blueclerktest.TestLimiter(t, func(t *testing.T, p blueclerk.Plan) blueclerk.Limiter {
		return blueclerk.NewLimiter(p)
	})
}

func TestFileTokenStoreConforms(t *testing.T) {
	blueclerktest.TestTokenStore(t, func(t *testing.T) blueclerk.TokenStore {
		return blueclerk.NewFileTokenStore(filepath.Join(t.TempDir(), "blueclerk", "token.json"))
	})
}

func TestDefaultDeliveryStoreConforms(t *testing.T) {
	blueclerktest.TestDeliveryStore(t, func(*testing.T) blueclerk.DeliveryStore {
		return blueclerk.NewDefaultDeliveryStore()
	})
}
