package blueclerk

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// hungEndpoint is a token endpoint on a loopback port that holds every
// token request until release is called.
type hungEndpoint struct {
	*authServer
	ctx     context.Context // carries a client for the endpoint under oauth2.HTTPClient
	release func()          // lets every token request, held or later, be answered
}

// newHungEndpoint starts the endpoint. When t ends, the held requests are
// released, then the client's idle connections and the server closed.
func newHungEndpoint(t *testing.T) *hungEndpoint {
	gate := make(chan struct{})
	h := &hungEndpoint{authServer: newAuthServer(t), release: sync.OnceFunc(func() { close(gate) })}
	h.set(func(s *authServer) { s.onToken = func() { <-gate } })
	tr := &http.Transport{}
	h.ctx = context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
	// Cleanups run last first: the server's Close, which waits for the
	// requests it holds, comes after both.
	t.Cleanup(tr.CloseIdleConnections)
	t.Cleanup(h.release)
	return h
}

// dueSources builds each of the SDK's token sources so that its first call
// needs a token request.
var dueSources = []struct {
	name string
	new  func(ctx context.Context, s *authServer) oauth2.TokenSource
}{
	{"PersistentTokenSource", func(ctx context.Context, s *authServer) oauth2.TokenSource {
		return PersistentTokenSource(ctx, s.config(""), &memStore{tok: expiredToken(s)})
	}},
	{"ClientCredentialsTokenSource", func(ctx context.Context, s *authServer) oauth2.TokenSource {
		return ClientCredentialsTokenSource(ctx, clientCredentials(s))
	}},
}

// forEachDueSource runs test on each of dueSources built on a hung
// endpoint, and checks that once the endpoint is released and closed no
// goroutine is left. Tests that use it are not parallel: goleak looks at
// every goroutine of the process.
func forEachDueSource(t *testing.T, test func(t *testing.T, h *hungEndpoint, ts oauth2.TokenSource)) {
	for _, src := range dueSources {
		t.Run(src.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the endpoint's cleanups
			h := newHungEndpoint(t)
			test(t, h, src.new(h.ctx, h.authServer))
		})
	}
}

// waitOrFail waits for done, failing the test (after letting h answer, so
// that whatever waits on it ends) when that takes 5 s: far longer than any
// caller's deadline here, far shorter than a renewal's 30 s timeout.
func waitOrFail(t *testing.T, h *hungEndpoint, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		h.release()
		t.Fatalf("%s: still waiting after 5 s", what)
	}
}

// callersWithDeadline makes 5 concurrent calls, each with a ctx ending
// after deadline, and returns their errors once all have returned.
func callersWithDeadline(t *testing.T, h *hungEndpoint, deadline time.Duration, call func(ctx context.Context) error) []error {
	t.Helper()
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			start := time.Now()
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			errs[i] = call(ctx)
			assert.GreaterOrEqual(t, time.Since(start), deadline, "returned before its deadline")
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	waitOrFail(t, h, done, fmt.Sprintf("callers with a %v deadline", deadline))
	return errs
}

// While the token endpoint hangs, each caller returns at its own deadline,
// and a caller that comes once the endpoint answers gets the token of that
// one request.
func TestTokenContextCallerDeadlineWhileRenewalHangs(t *testing.T) {
	forEachDueSource(t, func(t *testing.T, h *hungEndpoint, ts oauth2.TokenSource) {
		errs := callersWithDeadline(t, h, 500*time.Millisecond, func(ctx context.Context) error {
			_, err := tokenFor(ctx, ts)
			return err
		})
		for _, err := range errs {
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}
		assert.LessOrEqual(t, h.tokenRequestCount(), 1)

		h.release()
		tok, err := tokenFor(t.Context(), ts)
		require.NoError(t, err)
		assert.NotEqual(t, "access-old", tok.AccessToken)
		assert.Equal(t, 1, h.tokenRequestCount(), "one request for every caller")
	})
}

// A token request whose callers all gave up goes on: the next caller gets
// its token without a second request.
func TestTokenContextRenewalOutlivesItsCallers(t *testing.T) {
	forEachDueSource(t, func(t *testing.T, h *hungEndpoint, ts oauth2.TokenSource) {
		ctx, cancel := context.WithCancel(t.Context())
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, err = tokenFor(ctx, ts)
		}()
		require.Eventually(t, func() bool { return h.tokenRequestCount() == 1 }, 5*time.Second, time.Millisecond)
		cancel()
		waitOrFail(t, h, done, "a canceled caller")
		assert.ErrorIs(t, err, context.Canceled)

		// Answered with no caller waiting: a caller whose ctx has ended
		// starts nothing, and gets a token once the request has ended.
		h.release()
		require.Eventually(t, func() bool { _, err := tokenFor(ctx, ts); return err == nil }, 5*time.Second, time.Millisecond)
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.NotEqual(t, "access-old", tok.AccessToken)
		assert.Equal(t, 1, h.tokenRequestCount(), "the request was not canceled nor made again")
	})
}

// The case as a partner meets it: calls with 500 ms deadlines while the
// token endpoint hangs each return at their deadline, sending nothing; once
// it answers, a call goes out with the token of its one request.
func TestClientCallsWhileTokenEndpointHangs(t *testing.T) {
	forEachDueSource(t, func(t *testing.T, h *hungEndpoint, ts oauth2.TokenSource) {
		var (
			mu    sync.Mutex
			auths []string
		)
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			auths = append(auths, r.Header.Get("Authorization"))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"leads": []}`))
		}))
		defer api.Close()
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		c, err := NewClient(ts, WithBaseURL(api.URL), WithHTTPClient(&http.Client{Transport: tr}))
		require.NoError(t, err)

		errs := callersWithDeadline(t, h, 500*time.Millisecond, func(ctx context.Context) error {
			_, err := c.Leads.List(ctx)
			return err
		})
		for _, err := range errs {
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}

		h.release()
		_, err = c.Leads.List(t.Context())
		require.NoError(t, err)
		tok, err := ts.Token()
		require.NoError(t, err)
		mu.Lock()
		assert.Equal(t, []string{"Bearer " + tok.AccessToken}, auths, "one call sent, with the new token")
		mu.Unlock()
		assert.Equal(t, 1, h.tokenRequestCount())
	})
}

// forEachDueSourceInBubble runs test, in parallel and inside a synctest
// bubble, on each of dueSources built on an in-memory server s, reached
// through the client client(s) returns.
func forEachDueSourceInBubble(t *testing.T, client func(s *authServer) *http.Client, test func(t *testing.T, s *authServer, ts oauth2.TokenSource)) {
	t.Parallel()
	for _, src := range dueSources {
		t.Run(src.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := newMemAuthServer()
				test(t, s, src.new(context.WithValue(t.Context(), oauth2.HTTPClient, client(s)), s))
			})
		})
	}
}

// neverAnswers returns a client whose token requests s counts and nothing
// answers: each ends with its ctx.
func neverAnswers(s *authServer) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		s.set(func(s *authServer) { s.requests = append(s.requests, tokenRequest{}) })
		<-r.Context().Done()
		return nil, r.Context().Err()
	})}
}

// Against an endpoint that never answers, callers return at their own
// deadlines rather than one 30 s refresh after another; the request ends at
// its own timeout, and a caller without a deadline gets its error then.
func TestTokenContextEndpointNeverAnswers(t *testing.T) {
	forEachDueSourceInBubble(t, neverAnswers, func(t *testing.T, s *authServer, ts oauth2.TokenSource) {
		start := time.Now()
		const deadline = 500 * time.Millisecond
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), deadline)
				defer cancel()
				_, err := tokenFor(ctx, ts)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Equal(t, deadline, time.Since(start))
			})
		}
		wg.Wait()

		time.Sleep(time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		_, err := tokenFor(ctx, ts)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 2*time.Second, time.Since(start), "a later caller joins the request under way")

		_, err = tokenFor(t.Context(), ts)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, tokenTimeout, time.Since(start), "the request ends at its own timeout")
		assert.Equal(t, 1, s.tokenRequestCount())
	})
}

// A caller whose ctx has already ended gets its error without a token
// request being made for it; one with a valid token gets the token.
func TestTokenContextEndedContext(t *testing.T) {
	forEachDueSourceInBubble(t, (*authServer).memClient, func(t *testing.T, s *authServer, ts oauth2.TokenSource) {
		ended, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := tokenFor(ended, ts)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 0, s.tokenRequestCount())

		want, err := ts.Token()
		require.NoError(t, err)
		got, err := tokenFor(ended, ts)
		require.NoError(t, err)
		assert.Same(t, want, got)
		assert.Equal(t, 1, s.tokenRequestCount())
	})
}

// panickyStore is a TokenStore whose Load counts its calls and panics.
type panickyStore struct {
	memStore
	loads atomic.Int32
}

func (p *panickyStore) Load(context.Context) (*oauth2.Token, error) {
	p.loads.Add(1)
	panic("store broke")
}

// A panic while renewing surfaces in the callers, where it can be recovered,
// rather than ending the process; the next call tries again.
func TestTokenContextRenewalPanics(t *testing.T) {
	t.Parallel()
	store := &panickyStore{}
	ts := PersistentTokenSource(t.Context(), &oauth2.Config{}, store)
	for range 2 {
		assert.PanicsWithValue(t, "store broke", func() { _, _ = ts.Token() })
	}
	assert.EqualValues(t, 2, store.loads.Load(), "a renewal of its own for each call, not the first one's panic again")
}

// exitingStore is a TokenStore whose Load ends its goroutine, as a test's
// t.FailNow would.
type exitingStore struct{ memStore }

func (*exitingStore) Load(context.Context) (*oauth2.Token, error) {
	runtime.Goexit()
	return nil, nil
}

// A renewal that ends without returning or panicking gives its callers an
// error, not a nil token.
func TestTokenContextRenewalExits(t *testing.T) {
	t.Parallel()
	ts := PersistentTokenSource(t.Context(), &oauth2.Config{}, &exitingStore{})
	tok, err := ts.Token()
	assert.ErrorContains(t, err, "did not return")
	assert.Nil(t, tok)
}

// ctxSource is a caller's token source that takes a ctx.
type ctxSource struct{ got context.Context }

func (s *ctxSource) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

func (s *ctxSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.got = ctx
	return &oauth2.Token{AccessToken: "from-ctx-source"}, nil
}

func TestTokenFor(t *testing.T) {
	t.Parallel()
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "call")
	cs := &ctxSource{}
	tok, err := tokenFor(ctx, cs)
	require.NoError(t, err)
	assert.Equal(t, "from-ctx-source", tok.AccessToken)
	assert.Equal(t, "call", cs.got.Value(key{}), "a source with TokenContext gets the call's ctx")

	tok, err = tokenFor(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "static"}))
	require.NoError(t, err)
	assert.Equal(t, "static", tok.AccessToken, "any other source is asked with Token")

	for _, src := range dueSources {
		_, ok := src.new(t.Context(), newMemAuthServer()).(tokenContexter)
		assert.True(t, ok, "%s has TokenContext", src.name)
	}
}
