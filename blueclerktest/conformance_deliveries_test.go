package blueclerktest

import (
	"context"
	"sync"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// deliveryFlaw is one way of breaking the DeliveryStore contract.
type deliveryFlaw int

const (
	soundDeliveries    deliveryFlaw = iota
	grantsTwice                     // looks, then claims, in two steps
	claimedIsDone                   // answers DeliveryDone for an id claimed and not finished
	keepsFailedClaim                // Finish(handled=false) leaves the claim
	forgetsDone                     // Finish(handled=true) forgets the id
	failedFinishUndoes              // Finish(handled=false) forgets an id even when done
	sharesIDs                       // keeps one record for every id
)

// toyDeliveryStore is a small DeliveryStore that keeps the contract, but
// for its flaw.
type toyDeliveryStore struct {
	flaw deliveryFlaw
	mu   sync.Mutex
	ids  map[string]blueclerk.DeliveryState // DeliveryInProgress or DeliveryDone
}

func (s *toyDeliveryStore) key(id string) string {
	if s.flaw == sharesIDs {
		return ""
	}
	return id
}

func (s *toyDeliveryStore) Claim(_ context.Context, id string) (blueclerk.DeliveryState, error) {
	k := s.key(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	st, seen := s.ids[k]
	switch {
	case seen && st == blueclerk.DeliveryInProgress && s.flaw == claimedIsDone:
		return blueclerk.DeliveryDone, nil
	case seen:
		return st, nil
	case s.flaw == grantsTwice:
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
		s.mu.Lock()
	}
	s.ids[k] = blueclerk.DeliveryInProgress
	return blueclerk.DeliveryNew, nil
}

func (s *toyDeliveryStore) Finish(_ context.Context, id string, handled bool) error {
	k := s.key(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case handled && s.flaw == forgetsDone:
		delete(s.ids, k)
	case handled:
		s.ids[k] = blueclerk.DeliveryDone
	case s.flaw == keepsFailedClaim:
	case s.flaw == failedFinishUndoes || s.ids[k] == blueclerk.DeliveryInProgress:
		delete(s.ids, k)
	}
	return nil
}

// TestDeliveryStoreSuite runs TestDeliveryStore's scenarios on the toy
// delivery store, sound and with each flaw.
func TestDeliveryStoreSuite(t *testing.T) {
	t.Parallel()
	checkSuite(t, []flawCase[deliveryFlaw]{
		{flaw: soundDeliveries},
		{flaw: grantsTwice, want: "ConcurrentClaimsOneWins"},
		{flaw: claimedIsDone, want: "ClaimHeldUntilFinished", also: []string{"ConcurrentClaimsOneWins", "FinishUnhandledReleasesClaim", "IDsIndependent"}},
		{flaw: keepsFailedClaim, want: "FinishUnhandledReleasesClaim", also: []string{"IDsIndependent"}},
		{flaw: forgetsDone, want: "HandledIsDone", also: []string{"IDsIndependent"}},
		{flaw: failedFinishUndoes, want: "HandledIsDone", note: " (undone by a stray Finish)"},
		{flaw: sharesIDs, want: "IDsIndependent"},
	}, func(t *recorder, flaw deliveryFlaw) {
		testDeliveryStore(t, func(*recorder) blueclerk.DeliveryStore {
			return &toyDeliveryStore{flaw: flaw, ids: make(map[string]blueclerk.DeliveryState)}
		})
	})
}
