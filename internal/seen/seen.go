// Package seen remembers which ids were claimed and which were handled,
// within a bounded count and a time limit, so that each id is handled once.
// It starts no goroutines: expiry happens on access, in the caller's
// goroutine, and the caller passes the current time.
package seen

import (
	"container/list"
	"sync"
	"time"
)

// State is what a [Set] knows of an id.
type State int

// The states of an id.
const (
	New        State = iota // not seen, or its claim was abandoned: the caller now holds the claim
	InProgress              // claimed and not yet finished
	Done                    // handled
)

// Set records claimed and handled ids. It is safe for concurrent use.
type Set struct {
	max          int           // most ids remembered; the oldest go first
	keep         time.Duration // how long an id is remembered after its last change
	claimTimeout time.Duration // how long a claim holds before it counts as abandoned

	mu    sync.Mutex
	ids   map[string]*list.Element // values are *entry
	order list.List                // *entry, least recently changed first
}

type entry struct {
	id   string
	done bool
	at   time.Time // when claimed or finished
}

// NewSet returns a Set that remembers at most max ids, each for keep after it
// was last claimed or finished, and treats a claim older than claimTimeout
// as abandoned. max must be positive.
func NewSet(max int, keep, claimTimeout time.Duration) *Set {
	return &Set{max: max, keep: keep, claimTimeout: claimTimeout, ids: make(map[string]*list.Element)}
}

// Claim reports what the Set knows of id at now. When it returns [New], id
// is now claimed by the caller, who must call [Set.Finish].
func (s *Set) Claim(id string, now time.Time) State {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	if el, ok := s.ids[id]; ok {
		e := el.Value.(*entry)
		if e.done {
			return Done
		}
		if now.Sub(e.at) < s.claimTimeout {
			return InProgress
		}
		// The claim was abandoned: take it over.
		e.at = now
		s.order.MoveToBack(el)
		return New
	}
	s.add(&entry{id: id, at: now})
	return New
}

// Finish ends a claim on id at now: handled records id as done, otherwise
// the claim is forgotten so that a later Claim returns [New] again. An id
// already done stays done.
func (s *Set) Finish(id string, handled bool, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	el, ok := s.ids[id]
	switch {
	case !ok && handled:
		s.add(&entry{id: id, done: true, at: now})
	case !ok:
	case handled:
		e := el.Value.(*entry)
		e.done, e.at = true, now
		s.order.MoveToBack(el)
	case !el.Value.(*entry).done:
		s.remove(el)
	}
}

// add remembers e, forgetting the oldest ids beyond max.
func (s *Set) add(e *entry) {
	s.ids[e.id] = s.order.PushBack(e)
	for len(s.ids) > s.max {
		s.remove(s.order.Front())
	}
}

// expire forgets the ids last changed keep or longer before now.
func (s *Set) expire(now time.Time) {
	for el := s.order.Front(); el != nil; el = s.order.Front() {
		if now.Sub(el.Value.(*entry).at) < s.keep {
			return
		}
		s.remove(el)
	}
}

func (s *Set) remove(el *list.Element) {
	delete(s.ids, el.Value.(*entry).id)
	s.order.Remove(el)
}
