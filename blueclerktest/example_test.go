package blueclerktest_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

// The conformance suites run inside a Test function of the package that
// implements the interface, given the test's t; an Example has no t to
// give, so these show the Test functions as values. Package blueclerk's own
// tests run the first two as shown.

// A Limiter passes TestLimiter in a test of its own package. Here the
// in-process limiter; a shared one gives each limiter a key of its own,
// such as one made from t.Name().
func ExampleTestLimiter() {
	TestNewLimiter := func(t *testing.T) {
		blueclerktest.TestLimiter(t, func(t *testing.T, p blueclerk.Plan) blueclerk.Limiter {
			return blueclerk.NewLimiter(p)
		})
	}
	_ = TestNewLimiter // func TestNewLimiter(t *testing.T) in a _test.go file
}

// A TokenStore passes TestTokenStore in a test of its own package, empty
// for each scenario: here a file in a directory of the scenario's own.
func ExampleTestTokenStore() {
	TestFileTokenStore := func(t *testing.T) {
		blueclerktest.TestTokenStore(t, func(t *testing.T) blueclerk.TokenStore {
			return blueclerk.NewFileTokenStore(filepath.Join(t.TempDir(), "token.json"))
		})
	}
	_ = TestFileTokenStore // func TestFileTokenStore(t *testing.T) in a _test.go file
}

// A DeliveryStore passes TestDeliveryStore in a test of its own package.
// Here a sketch of a store for one process, whose claims never expire.
func ExampleTestDeliveryStore() {
	TestMemoryDeliveries := func(t *testing.T) {
		blueclerktest.TestDeliveryStore(t, func(t *testing.T) blueclerk.DeliveryStore {
			return &memoryDeliveries{ids: make(map[string]blueclerk.DeliveryState)}
		})
	}
	_ = TestMemoryDeliveries // func TestMemoryDeliveries(t *testing.T) in a _test.go file
}

// memoryDeliveries is the DeliveryStore of ExampleTestDeliveryStore.
type memoryDeliveries struct {
	mu  sync.Mutex
	ids map[string]blueclerk.DeliveryState // claimed (DeliveryInProgress) or DeliveryDone
}

func (s *memoryDeliveries) Claim(_ context.Context, id string) (blueclerk.DeliveryState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.ids[id]; ok {
		return st, nil
	}
	s.ids[id] = blueclerk.DeliveryInProgress
	return blueclerk.DeliveryNew, nil
}

func (s *memoryDeliveries) Finish(_ context.Context, id string, handled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case handled:
		s.ids[id] = blueclerk.DeliveryDone
	case s.ids[id] == blueclerk.DeliveryInProgress:
		delete(s.ids, id)
	}
	return nil
}

// TestExampleDeliveryStore keeps ExampleTestDeliveryStore's sketch sound.
func TestExampleDeliveryStore(t *testing.T) {
	t.Parallel()
	blueclerktest.TestDeliveryStore(t, func(t *testing.T) blueclerk.DeliveryStore {
		return &memoryDeliveries{ids: make(map[string]blueclerk.DeliveryState)}
	})
}
