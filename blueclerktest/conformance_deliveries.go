package blueclerktest

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// TestDeliveryStore checks that a [blueclerk.DeliveryStore] keeps the
// contract [blueclerk.WebhookVerifier.Handler] relies on to run its
// function once per webhook-id, as a subtest per rule, and fails t for each
// rule it breaks:
//
//   - ConcurrentClaimsOneWins: of concurrent Claims of one id, exactly one
//     returns [blueclerk.DeliveryNew] and the others
//     [blueclerk.DeliveryInProgress].
//   - ClaimHeldUntilFinished: a claimed id is in progress for every later
//     Claim until it is finished.
//   - FinishUnhandledReleasesClaim: after Finish(handled=false) the next
//     Claim returns DeliveryNew, so a redelivery runs again.
//   - HandledIsDone: after Finish(handled=true) every Claim returns
//     [blueclerk.DeliveryDone], even after a stray Finish(handled=false) of
//     a handler whose claim had expired.
//   - IDsIndependent: what happens to one id changes nothing for another.
//
// The suite does not wait for a claim to expire. newStore must return a
// store each time it is called (it may share its records with earlier
// ones: the suite claims new random ids); the suite calls it once per
// subtest, with the subtest's t, and takes well under a second.
func TestDeliveryStore(t *testing.T, newStore func(t *testing.T) blueclerk.DeliveryStore) {
	t.Helper()
	testDeliveryStore(t, newStore)
}

func testDeliveryStore[T tb[T]](t T, newStore func(T) blueclerk.DeliveryStore) {
	runScenarios(t, newStore, []scenario[T, blueclerk.DeliveryStore]{
		{"ConcurrentClaimsOneWins", deliveriesOneWins[T]},
		{"ClaimHeldUntilFinished", deliveriesClaimHeld[T]},
		{"FinishUnhandledReleasesClaim", deliveriesFinishUnhandled[T]},
		{"HandledIsDone", deliveriesHandledIsDone[T]},
		{"IDsIndependent", deliveriesIndependent[T]},
	})
}

func deliveriesOneWins[T tb[T]](t T, s blueclerk.DeliveryStore) {
	const claims = 16
	id := newDeliveryID()
	ready := make(chan struct{})
	states := make(chan blueclerk.DeliveryState, claims)
	var wg sync.WaitGroup
	for range claims {
		wg.Go(func() {
			<-ready
			st, err := s.Claim(t.Context(), id)
			if err != nil {
				t.Errorf("Claim(%q) among %d concurrent Claims: %s", id, claims, describe(err))
				return
			}
			states <- st
		})
	}
	close(ready)
	call(t, callLimit, fmt.Sprintf("%d concurrent Claims", claims), func() bool { wg.Wait(); return true })
	close(states)
	count := make(map[blueclerk.DeliveryState]int)
	for st := range states {
		count[st]++
	}
	if count[blueclerk.DeliveryNew] != 1 || count[blueclerk.DeliveryNew]+count[blueclerk.DeliveryInProgress] != claims {
		t.Errorf("%d concurrent Claims of one id: %s; want exactly 1 DeliveryNew and %d DeliveryInProgress",
			claims, describeStates(count), claims-1)
	}
}

func deliveriesClaimHeld[T tb[T]](t T, s blueclerk.DeliveryStore) {
	id := newDeliveryID()
	claim(t, s, id, blueclerk.DeliveryNew, "the first Claim")
	claim(t, s, id, blueclerk.DeliveryInProgress, "a Claim of an id claimed and not finished")
	claim(t, s, id, blueclerk.DeliveryInProgress, "another Claim of an id claimed and not finished")
}

func deliveriesFinishUnhandled[T tb[T]](t T, s blueclerk.DeliveryStore) {
	id := newDeliveryID()
	claim(t, s, id, blueclerk.DeliveryNew, "the first Claim")
	finish(t, s, id, false)
	claim(t, s, id, blueclerk.DeliveryNew, "a Claim after Finish(handled=false)")
	claim(t, s, id, blueclerk.DeliveryInProgress, "a Claim of the id claimed again")
}

func deliveriesHandledIsDone[T tb[T]](t T, s blueclerk.DeliveryStore) {
	id := newDeliveryID()
	claim(t, s, id, blueclerk.DeliveryNew, "the first Claim")
	finish(t, s, id, true)
	claim(t, s, id, blueclerk.DeliveryDone, "a Claim after Finish(handled=true)")
	claim(t, s, id, blueclerk.DeliveryDone, "another Claim after Finish(handled=true)")
	finish(t, s, id, false)
	claim(t, s, id, blueclerk.DeliveryDone, "a Claim after Finish(handled=true) then a stray Finish(handled=false)")
}

func deliveriesIndependent[T tb[T]](t T, s blueclerk.DeliveryStore) {
	a, b, c := newDeliveryID(), newDeliveryID(), newDeliveryID()
	claim(t, s, a, blueclerk.DeliveryNew, "the first Claim of a")
	claim(t, s, b, blueclerk.DeliveryNew, "the first Claim of b, with a claimed")
	finish(t, s, a, true)
	claim(t, s, b, blueclerk.DeliveryInProgress, "a Claim of b, claimed, with a done")
	claim(t, s, c, blueclerk.DeliveryNew, "the first Claim of c, with a done and b claimed")
	finish(t, s, b, false)
	claim(t, s, a, blueclerk.DeliveryDone, "a Claim of a, done, after b's claim was released")
	claim(t, s, c, blueclerk.DeliveryInProgress, "a Claim of c, claimed, after b's claim was released")
	claim(t, s, b, blueclerk.DeliveryNew, "a Claim of b after its claim was released")
}

// newDeliveryID returns a webhook-id no store has seen.
func newDeliveryID() string { return "msg_conformance_" + rand.Text() }

var deliveryStateNames = map[blueclerk.DeliveryState]string{
	blueclerk.DeliveryNew:        "DeliveryNew",
	blueclerk.DeliveryInProgress: "DeliveryInProgress",
	blueclerk.DeliveryDone:       "DeliveryDone",
}

func stateName(st blueclerk.DeliveryState) string {
	if name, ok := deliveryStateNames[st]; ok {
		return name
	}
	return fmt.Sprintf("DeliveryState(%d)", int(st))
}

// describeStates lists how many Claims returned each state: the three
// documented ones always, then any other.
func describeStates(count map[blueclerk.DeliveryState]int) string {
	states := []blueclerk.DeliveryState{blueclerk.DeliveryNew, blueclerk.DeliveryInProgress, blueclerk.DeliveryDone}
	for st := range count {
		if !slices.Contains(states, st) {
			states = append(states, st)
		}
	}
	parts := make([]string, len(states))
	for i, st := range states {
		parts[i] = fmt.Sprintf("%d %s", count[st], stateName(st))
	}
	return strings.Join(parts, ", ")
}

// claim claims id and checks the state returned.
func claim(t reporter, s blueclerk.DeliveryStore, id string, want blueclerk.DeliveryState, what string) {
	t.Helper()
	type claimed struct {
		st  blueclerk.DeliveryState
		err error
	}
	r := call(t, callLimit, "Claim", func() claimed {
		st, err := s.Claim(t.Context(), id)
		return claimed{st, err}
	})
	switch {
	case r.err != nil:
		t.Fatalf("%s: Claim: %s", what, describe(r.err))
	case r.st != want:
		t.Errorf("%s: Claim returned %s; want %s", what, stateName(r.st), stateName(want))
	}
}

// finish finishes the claim on id or fails t.
func finish(t reporter, s blueclerk.DeliveryStore, id string, handled bool) {
	t.Helper()
	err := call(t, callLimit, "Finish", func() error { return s.Finish(t.Context(), id, handled) })
	if err != nil {
		t.Fatalf("Finish(handled=%v): %s", handled, describe(err))
	}
}
