package seen

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

// expect fails t when s's answer for id at now is not want.
func expect(t *testing.T, s *Set, id string, now time.Time, want State, why string) {
	t.Helper()
	if got := s.Claim(id, now); got != want {
		t.Errorf("Claim(%q) at %s = %v, want %v (%s)", id, now.Sub(t0), got, want, why)
	}
}

func TestClaimFinish(t *testing.T) {
	t.Parallel()
	s := NewSet(10, 24*time.Hour, 10*time.Minute)

	expect(t, s, "a", t0, New, "first claim")
	expect(t, s, "a", t0.Add(time.Minute), InProgress, "claimed, not finished")
	s.Finish("a", true, t0.Add(2*time.Minute))
	expect(t, s, "a", t0.Add(3*time.Minute), Done, "handled")

	expect(t, s, "b", t0, New, "first claim")
	s.Finish("b", false, t0)
	expect(t, s, "b", t0, New, "a failed attempt is forgotten")

	s.Finish("c", true, t0)
	expect(t, s, "c", t0, Done, "finishing an id never claimed records it")
	s.Finish("c", false, t0)
	expect(t, s, "c", t0, Done, "an id done stays done")

	s.Finish("d", false, t0)
	expect(t, s, "d", t0, New, "forgetting an unknown id is harmless")
}

func TestAbandonedClaimExpires(t *testing.T) {
	t.Parallel()
	s := NewSet(10, 24*time.Hour, 10*time.Minute)
	expect(t, s, "a", t0, New, "first claim")
	expect(t, s, "a", t0.Add(10*time.Minute-time.Nanosecond), InProgress, "the claim still holds")
	expect(t, s, "a", t0.Add(10*time.Minute), New, "the claim was abandoned")
	expect(t, s, "a", t0.Add(11*time.Minute), InProgress, "the new claim holds")
}

func TestDoneExpires(t *testing.T) {
	t.Parallel()
	s := NewSet(10, 24*time.Hour, 10*time.Minute)
	expect(t, s, "a", t0, New, "first claim")
	s.Finish("a", true, t0.Add(time.Minute))
	expect(t, s, "b", t0.Add(2*time.Minute), New, "first claim")
	s.Finish("b", true, t0.Add(2*time.Minute))

	expect(t, s, "a", t0.Add(24*time.Hour), Done, "kept 24 hours after it finished")
	expect(t, s, "a", t0.Add(24*time.Hour+time.Minute), New, "forgotten after 24 hours")
	expect(t, s, "b", t0.Add(24*time.Hour+time.Minute), Done, "b finished later")
	if len(s.ids) != 2 || s.order.Len() != 2 {
		t.Errorf("remembers %d ids, %d in order; want 2 (a claimed again, and b)", len(s.ids), s.order.Len())
	}

	s.Claim("z", t0.Add(49*time.Hour))
	if len(s.ids) != 1 || s.order.Len() != 1 {
		t.Errorf("remembers %d ids, %d in order; want only z: expired ids are dropped on access", len(s.ids), s.order.Len())
	}
}

func TestBoundEvictsOldest(t *testing.T) {
	t.Parallel()
	s := NewSet(3, 24*time.Hour, 10*time.Minute)
	for i := range 5 {
		id, at := fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second)
		expect(t, s, id, at, New, "first claim")
		s.Finish(id, true, at)
	}
	if len(s.ids) != 3 || s.order.Len() != 3 {
		t.Fatalf("remembers %d ids, %d in order; want the bound, 3", len(s.ids), s.order.Len())
	}
	now := t0.Add(time.Minute)
	for _, id := range []string{"2", "3", "4"} {
		expect(t, s, id, now, Done, "among the newest 3")
	}
	expect(t, s, "0", now, New, "the oldest was evicted")
	if len(s.ids) != 3 {
		t.Errorf("remembers %d ids, want 3", len(s.ids))
	}
}

func TestConcurrentClaimsOneWinner(t *testing.T) {
	t.Parallel()
	s := NewSet(100, time.Hour, time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[State]int{}
	for range 50 {
		wg.Go(func() {
			st := s.Claim("x", t0)
			mu.Lock()
			got[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if got[New] != 1 || got[InProgress] != 49 {
		t.Errorf("claims: %v, want one New and 49 InProgress", got)
	}
}
