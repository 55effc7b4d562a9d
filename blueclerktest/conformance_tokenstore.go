package blueclerktest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"golang.org/x/oauth2"
)

// TestTokenStore checks that a [blueclerk.TokenStore] keeps the contract
// [blueclerk.PersistentTokenSource] relies on, as a subtest per rule, and
// fails t for each rule it breaks:
//
//   - NothingBeforeSave: Load returns nil, nil before the first Save.
//   - RoundTrip: Load returns every field the SDK keeps of the token saved
//     (AccessToken, TokenType, RefreshToken, and Expiry to the second or
//     better), as [blueclerk.FileTokenStore] keeps them.
//   - SaveReplaces: a Save replaces the whole token, so a token without a
//     refresh token or an expiry loads without them.
//   - ConcurrentSaveAndLoadNeverTorn: while several goroutines Save, every
//     Load returns one token that was saved, never fields of two.
//   - TokenLockerExcludes, for a store that implements
//     [blueclerk.TokenLocker]: while one caller holds the lock, LockToken
//     waits, gives up with an error when its ctx ends, and takes the lock
//     once it is released. It is skipped for a store that does not.
//
// newStore must return an empty store, with a token slot of its own (for a
// shared store, on a key of its own), each time it is called; the suite
// calls it once per subtest, with the subtest's t. The suite takes about a
// second.
func TestTokenStore(t *testing.T, newStore func(t *testing.T) blueclerk.TokenStore) {
	t.Helper()
	testTokenStore(t, newStore)
}

func testTokenStore[T tb[T]](t T, newStore func(T) blueclerk.TokenStore) {
	runScenarios(t, newStore, []scenario[T, blueclerk.TokenStore]{
		{"NothingBeforeSave", tokenNothingBeforeSave[T]},
		{"RoundTrip", tokenRoundTrip[T]},
		{"SaveReplaces", tokenSaveReplaces[T]},
		{"ConcurrentSaveAndLoadNeverTorn", tokenNeverTorn[T]},
		{"TokenLockerExcludes", tokenLockerExcludes[T]},
	})
}

func tokenNothingBeforeSave[T tb[T]](t T, s blueclerk.TokenStore) {
	if tok := load(t, s, "before any Save"); tok != nil {
		t.Errorf("Load before any Save returned a token (access token %q); want nil, nil", tok.AccessToken)
	}
}

func tokenRoundTrip[T tb[T]](t T, s blueclerk.TokenStore) {
	want := numberedToken(1)
	save(t, s, want)
	checkToken(t, load(t, s, "after Save"), want, "after Save")
}

func tokenSaveReplaces[T tb[T]](t T, s blueclerk.TokenStore) {
	save(t, s, numberedToken(1))
	want := &oauth2.Token{AccessToken: "at-conformance-2", TokenType: "Bearer"}
	save(t, s, want)
	checkToken(t, load(t, s, "after a second Save"), want, "after a Save of a token without a refresh token or an expiry")
}

func tokenNeverTorn[T tb[T]](t T, s blueclerk.TokenStore) {
	const savers, saves, loaders, minLoads = 4, 8, 4, 25
	save(t, s, numberedToken(0))
	ctx, cancel := context.WithTimeout(t.Context(), callLimit)
	defer cancel()
	var savesDone, wg sync.WaitGroup
	for i := range savers {
		savesDone.Go(func() {
			for j := range saves {
				if err := s.Save(ctx, numberedToken(1+i*saves+j)); err != nil {
					t.Errorf("Save during concurrent Saves and Loads: %s", describe(err))
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	for range loaders {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					if n >= minLoads {
						return
					}
				default:
				}
				tok, err := s.Load(ctx)
				if err != nil || tok == nil {
					t.Errorf("Load during concurrent Saves: %s, token %v; want a saved token", describe(err), tok != nil)
					return
				}
				if why := torn(tok); why != "" {
					t.Errorf("Load during concurrent Saves returned a torn token: %s", why)
					return
				}
			}
		})
	}
	call(t, callLimit+promptly, "the concurrent Saves", func() bool { savesDone.Wait(); return true })
	close(stop)
	call(t, callLimit, "the concurrent Loads", func() bool { wg.Wait(); return true })
}

func tokenLockerExcludes[T tb[T]](t T, s blueclerk.TokenStore) {
	locker, ok := s.(blueclerk.TokenLocker)
	if !ok {
		t.Skipf("%T does not implement blueclerk.TokenLocker", s)
	}
	unlock := lockNow(t, locker, "the first LockToken")

	// While the lock is held, a LockToken whose ctx ends gives up.
	ctx, cancel := context.WithTimeout(t.Context(), 2*quietFor)
	r := call(t, 2*quietFor+promptly, "LockToken while the lock is held", func() locked { return lockToken(ctx, locker) })
	cancel()
	if r.err == nil {
		r.unlock()
		t.Errorf("LockToken while another caller held the lock returned the lock too; want it to wait, and fail when its ctx ends")
	}

	// A waiting LockToken gets the lock once it is released.
	waiter := start("LockToken while the lock is held", func() locked { return lockToken(t.Context(), locker) })
	if !waiter.waiting() {
		r := waiter.wait(t, 0)
		if r.err == nil {
			r.unlock()
		}
		unlock()
		t.Fatalf("LockToken while another caller held the lock returned (%s) at once; want it to wait", describe(r.err))
	}
	unlock()
	r = waiter.wait(t, promptly)
	if r.err != nil {
		t.Fatalf("LockToken waiting for a lock that was released: %s; want the lock", describe(r.err))
	}
	r.unlock()
	lockNow(t, locker, "LockToken after every holder unlocked")()
}

// numberedToken returns token n of the suite: every field it keeps says n.
func numberedToken(n int) *oauth2.Token {
	return &oauth2.Token{
		AccessToken:  fmt.Sprintf("at-conformance-%d", n),
		TokenType:    "Bearer",
		RefreshToken: fmt.Sprintf("rt-conformance-%d", n),
		Expiry:       time.Date(2031, 5, 6, 7, 8, 9, 250_000_000, time.UTC).Add(time.Duration(n) * time.Minute),
	}
}

// torn describes how tok mixes fields of two of the suite's numbered
// tokens, or returns "".
func torn(tok *oauth2.Token) string {
	n, err := strconv.Atoi(strings.TrimPrefix(tok.AccessToken, "at-conformance-"))
	if err != nil {
		return fmt.Sprintf("access token %q was never saved", tok.AccessToken)
	}
	if diff := tokenDiff(tok, numberedToken(n)); diff != "" {
		return fmt.Sprintf("access token %q with %s", tok.AccessToken, diff)
	}
	return ""
}

// tokenDiff describes how got differs from want in the fields the SDK
// keeps, or returns "". An expiry within a second of want's is the same.
func tokenDiff(got, want *oauth2.Token) string {
	var diffs []string
	for _, f := range []struct{ name, got, want string }{
		{"AccessToken", got.AccessToken, want.AccessToken},
		{"TokenType", got.TokenType, want.TokenType},
		{"RefreshToken", got.RefreshToken, want.RefreshToken},
	} {
		if f.got != f.want {
			diffs = append(diffs, fmt.Sprintf("%s %q, want %q", f.name, f.got, f.want))
		}
	}
	if d := got.Expiry.Sub(want.Expiry); got.Expiry.IsZero() != want.Expiry.IsZero() || d <= -time.Second || d >= time.Second {
		diffs = append(diffs, fmt.Sprintf("Expiry %v, want %v", got.Expiry, want.Expiry))
	}
	return strings.Join(diffs, "; ")
}

// checkToken checks that got holds what want held, in the fields the SDK
// keeps.
func checkToken(t reporter, got, want *oauth2.Token, when string) {
	t.Helper()
	if got == nil {
		t.Fatalf("Load %s returned nil, nil; want the token saved", when)
	}
	if diff := tokenDiff(got, want); diff != "" {
		t.Errorf("Load %s returned %s", when, diff)
	}
}

// save saves tok in s or fails t.
func save(t reporter, s blueclerk.TokenStore, tok *oauth2.Token) {
	t.Helper()
	if err := call(t, callLimit, "Save", func() error { return s.Save(t.Context(), tok) }); err != nil {
		t.Fatalf("Save: %s", describe(err))
	}
}

// load loads the token of s or fails t.
func load(t reporter, s blueclerk.TokenStore, when string) *oauth2.Token {
	t.Helper()
	type loaded struct {
		tok *oauth2.Token
		err error
	}
	r := call(t, callLimit, "Load "+when, func() loaded {
		tok, err := s.Load(t.Context())
		return loaded{tok, err}
	})
	if r.err != nil {
		t.Fatalf("Load %s: %s", when, describe(r.err))
	}
	return r.tok
}

// locked is the result of one LockToken.
type locked struct {
	unlock func()
	err    error
}

func lockToken(ctx context.Context, l blueclerk.TokenLocker) locked {
	unlock, err := l.LockToken(ctx)
	if err == nil && unlock == nil {
		err = errors.New("no error, but a nil unlock function")
	}
	return locked{unlock, err}
}

// lockNow takes the lock, which must be free, or fails t.
func lockNow(t reporter, l blueclerk.TokenLocker, what string) func() {
	t.Helper()
	r := call(t, promptly, what, func() locked { return lockToken(t.Context(), l) })
	if r.err != nil {
		t.Fatalf("%s, with the lock free: %s; want the lock", what, describe(r.err))
	}
	return r.unlock
}
