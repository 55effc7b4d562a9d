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
	var cases []flawCase
	for _, tc := range []struct {
		flaw deliveryFlaw
		want string
		also []string
	}{
		{soundDeliveries, "", nil},
		{grantsTwice, "ConcurrentClaimsOneWins", nil},
		{claimedIsDone, "ClaimHeldUntilFinished", []string{"ConcurrentClaimsOneWins", "FinishUnhandledReleasesClaim", "IDsIndependent"}},
		{keepsFailedClaim, "FinishUnhandledReleasesClaim", []string{"IDsIndependent"}},
		{forgetsDone, "HandledIsDone", []string{"IDsIndependent"}},
		{failedFinishUndoes, "HandledIsDone", nil},
		{sharesIDs, "IDsIndependent", nil},
	} {
		name := flawName(tc.want)
		if tc.flaw == failedFinishUndoes {
			name += " (undone by a stray Finish)"
		}
		cases = append(cases, flawCase{
			name: name,
			want: tc.want,
			also: tc.also,
			run: func(t *recorder) {
				testDeliveryStore(t, func(*recorder) blueclerk.DeliveryStore {
					return &toyDeliveryStore{flaw: tc.flaw, ids: make(map[string]blueclerk.DeliveryState)}
				})
			},
		})
	}
	checkSuite(t, cases)
}
