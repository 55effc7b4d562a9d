package blueclerktest

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"golang.org/x/oauth2"
)

// tokenFlaw is one way of breaking the TokenStore contract.
type tokenFlaw int

const (
	soundTokens         tokenFlaw = iota
	emptyBeforeSave               // loads an empty token, not nil, before any Save
	dropsExpiry                   // keeps no expiry
	expiryToTheMinute             // keeps the expiry to the minute
	dropsRefreshToken             // keeps no refresh token
	mergesSaves                   // keeps the old refresh token when the new token has none
	tornSaves                     // writes the access token, then the rest
	lockDoesNotExclude            // LockToken returns at once, held or not
	lockIgnoresContext            // LockToken waits for the lock whatever ctx does
	soundTokensWithLock           // keeps the contract, TokenLocker included
)

// firstFlawWithLock is the first flaw of a store that is a TokenLocker.
const firstFlawWithLock = lockDoesNotExclude

// toyTokenStore is a small TokenStore that keeps the contract, but for its
// flaw.
type toyTokenStore struct {
	flaw tokenFlaw
	mu   sync.Mutex
	tok  *oauth2.Token
}

func (s *toyTokenStore) Load(context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.tok != nil:
		cp := *s.tok
		return &cp, nil
	case s.flaw == emptyBeforeSave:
		return new(oauth2.Token), nil
	}
	return nil, nil
}

func (s *toyTokenStore) Save(_ context.Context, tok *oauth2.Token) error {
	keep := oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.flaw {
	case dropsExpiry:
		keep.Expiry = time.Time{}
	case expiryToTheMinute:
		keep.Expiry = keep.Expiry.Truncate(time.Minute)
	case dropsRefreshToken:
		keep.RefreshToken = ""
	case mergesSaves:
		if keep.RefreshToken == "" && s.tok != nil {
			keep.RefreshToken = s.tok.RefreshToken
		}
	case tornSaves:
		half := oauth2.Token{AccessToken: keep.AccessToken}
		if s.tok != nil {
			half = *s.tok
			half.AccessToken = keep.AccessToken
		}
		s.tok = &half
		s.mu.Unlock()
		runtime.Gosched()
		time.Sleep(50 * time.Microsecond)
		s.mu.Lock()
	}
	s.tok = &keep
	return nil
}

// toyLockingStore is a toyTokenStore that is a TokenLocker too.
type toyLockingStore struct {
	toyTokenStore
	lock    chan struct{} // holds a value while the lock is held
	stopped chan struct{} // closed when the test ends
}

func (s *toyLockingStore) LockToken(ctx context.Context) (func(), error) {
	if s.flaw == lockDoesNotExclude {
		return func() {}, nil
	}
	done := ctx.Done()
	if s.flaw == lockIgnoresContext {
		done = s.stopped
	}
	select {
	case s.lock <- struct{}{}:
	case <-done:
		return nil, context.Cause(ctx)
	}
	var once sync.Once
	return func() { once.Do(func() { <-s.lock }) }, nil
}

// TestTokenStoreSuite runs TestTokenStore's scenarios on the toy token
// store, sound and with each flaw.
func TestTokenStoreSuite(t *testing.T) {
	t.Parallel()
	// The tokens these flaws load differ from those saved, concurrently too.
	differ := []string{"ConcurrentSaveAndLoadNeverTorn"}
	checkSuite(t, []flawCase[tokenFlaw]{
		{flaw: soundTokens},
		{flaw: soundTokensWithLock, note: " with a lock"},
		{flaw: emptyBeforeSave, want: "NothingBeforeSave"},
		{flaw: dropsExpiry, want: "RoundTrip", also: differ, note: " (no expiry)"},
		{flaw: expiryToTheMinute, want: "RoundTrip", also: differ, note: " (expiry to the minute)"},
		{flaw: dropsRefreshToken, want: "RoundTrip", also: differ, note: " (no refresh token)"},
		{flaw: mergesSaves, want: "SaveReplaces"},
		{flaw: tornSaves, want: "ConcurrentSaveAndLoadNeverTorn"},
		{flaw: lockDoesNotExclude, want: "TokenLockerExcludes", note: " (lock not exclusive)"},
		{flaw: lockIgnoresContext, want: "TokenLockerExcludes", note: " (lock ignores ctx)"},
	}, func(t *recorder, flaw tokenFlaw) {
		testTokenStore(t, func(t *recorder) blueclerk.TokenStore {
			if flaw < firstFlawWithLock {
				return &toyTokenStore{flaw: flaw}
			}
			s := &toyLockingStore{toyTokenStore: toyTokenStore{flaw: flaw}, lock: make(chan struct{}, 1), stopped: make(chan struct{})}
			t.Cleanup(func() { close(s.stopped) })
			return s
		})
	})
}
