package blueclerk

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestFileTokenStore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "new", "blueclerk")
	path := filepath.Join(dir, "token.json")
	store := NewFileTokenStore(path)
	ctx := t.Context()

	tok, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, tok, "nothing stored yet")

	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	want := &oauth2.Token{AccessToken: "at", TokenType: "Bearer", RefreshToken: "rt", Expiry: exp}
	require.NoError(t, store.Save(ctx, want))
	got, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "at", got.AccessToken)
	assert.Equal(t, "Bearer", got.TokenType)
	assert.Equal(t, "rt", got.RefreshToken)
	assert.True(t, exp.Equal(got.Expiry), "%v", got.Expiry)

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"refresh_token": "rt"`)
	assert.Contains(t, string(raw), `"expiry": "2031-05-06T07:08:09Z"`)

	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		di, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	}

	// Overwriting leaves one file and no temporary ones.
	require.NoError(t, store.Save(ctx, &oauth2.Token{AccessToken: "at2"}))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	got, err = store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "at2", got.AccessToken)
	assert.True(t, got.Expiry.IsZero())

	require.NoError(t, os.WriteFile(path, []byte("not json"), 0o600))
	_, err = store.Load(ctx)
	assert.ErrorContains(t, err, "log in again")

	assert.Error(t, NewFileTokenStore("").Save(ctx, want))
	assert.Error(t, store.Save(ctx, nil))
}

// expiredToken returns an expired token whose refresh token s accepts.
func expiredToken(s *authServer) *oauth2.Token {
	rt := "refresh-" + rand.Text()
	s.addRefreshToken(rt)
	return &oauth2.Token{AccessToken: "access-old", RefreshToken: rt, TokenType: "Bearer", Expiry: time.Now().Add(-time.Hour)}
}

func TestPersistentTokenSourceSurvivesRestart(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	cfg := s.config("")
	path := filepath.Join(t.TempDir(), "token.json")
	require.NoError(t, NewFileTokenStore(path).Save(t.Context(), expiredToken(s)))

	first, err := PersistentTokenSource(t.Context(), cfg, NewFileTokenStore(path)).Token()
	require.NoError(t, err)
	assert.NotEqual(t, "access-old", first.AccessToken)
	require.Equal(t, 1, s.tokenRequestCount())
	assert.Equal(t, "refresh_token", s.tokenRequests()[0].form.Get("grant_type"))
	assert.Equal(t, s.clientSecret, s.tokenRequests()[0].form.Get("client_secret"))

	// A new process: the saved token is used without a token request.
	second, err := PersistentTokenSource(t.Context(), cfg, NewFileTokenStore(path)).Token()
	require.NoError(t, err)
	assert.Equal(t, first.AccessToken, second.AccessToken)
	assert.Equal(t, first.RefreshToken, second.RefreshToken)
	assert.Equal(t, 1, s.tokenRequestCount())
}

func TestPersistentTokenSourceSavesRotatedRefreshToken(t *testing.T) {
	t.Parallel()
	for _, rotate := range []bool{true, false} {
		s := newAuthServer(t)
		s.set(func(s *authServer) { s.rotate = rotate })
		old := expiredToken(s)
		store := &memStore{tok: old}
		tok, err := PersistentTokenSource(t.Context(), s.config(""), store).Token()
		require.NoError(t, err)
		saved := store.stored()
		assert.Equal(t, tok.AccessToken, saved.AccessToken)
		assert.Equal(t, tok.RefreshToken, saved.RefreshToken)
		if rotate {
			assert.NotEqual(t, old.RefreshToken, saved.RefreshToken, "the rotated refresh token is saved")
			assert.True(t, strings.HasPrefix(saved.RefreshToken, "refresh-"))
		} else {
			assert.Equal(t, old.RefreshToken, saved.RefreshToken, "without a new one, the old refresh token is kept")
		}
	}
}

func TestPersistentTokenSourceLogInAgain(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	revoked := &oauth2.Token{AccessToken: "access-old", RefreshToken: "refresh-revoked", Expiry: time.Now().Add(-time.Minute)}
	tests := []struct {
		name     string
		stored   *oauth2.Token
		requests int
	}{
		{"invalid_grant", revoked, 1},
		{"no refresh token", &oauth2.Token{AccessToken: "access-old", Expiry: time.Now().Add(-time.Minute)}, 0},
		{"nothing stored", nil, 0},
		{"expiring within the minute, no refresh token", &oauth2.Token{AccessToken: "access-old", Expiry: time.Now().Add(30 * time.Second)}, 0},
	}
	for _, tt := range tests {
		before := s.tokenRequestCount()
		_, err := PersistentTokenSource(t.Context(), s.config(""), &memStore{tok: tt.stored}).Token()
		require.Error(t, err, tt.name)
		assert.ErrorIs(t, err, ErrUnauthorized, tt.name)
		assert.Contains(t, err.Error(), "log in", tt.name)
		assert.Equal(t, tt.requests, s.tokenRequestCount()-before, tt.name)
		if tt.name == "invalid_grant" {
			var ae *AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "invalid_grant", ae.Code)
			assert.Contains(t, err.Error(), "log in again")
		}
	}
}

// The ctx given at setup may end long before the token expires: later
// refreshes still work, and still use the HTTP client it carried.
func TestPersistentTokenSourceOutlivesSetupContext(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	var viaCtxClient int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		viaCtxClient++
		return http.DefaultTransport.RoundTrip(r)
	})}
	ctx, cancel := context.WithCancel(context.WithValue(t.Context(), oauth2.HTTPClient, hc))
	store := &memStore{tok: expiredToken(s)}
	ts := PersistentTokenSource(ctx, s.config(""), store)
	cancel()
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.NotEqual(t, "access-old", tok.AccessToken)
	assert.Equal(t, 1, viaCtxClient)

	cctx, ccancel := context.WithTimeout(context.WithValue(t.Context(), oauth2.HTTPClient, hc), time.Nanosecond)
	defer ccancel()
	<-cctx.Done()
	cc := ClientCredentialsTokenSource(cctx, &clientcredentials.Config{
		ClientID: s.clientID, ClientSecret: s.clientSecret, TokenURL: s.URL + "/oauth/token",
	})
	_, err = cc.Token()
	require.NoError(t, err, "an expired setup deadline does not break client credentials either")
	assert.Equal(t, 2, viaCtxClient)
}

func TestPersistentTokenSourceRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		faults   []int
		requests int
		is       error
	}{
		{"503 then 200", []int{503}, 2, nil},
		{"502, 500 then 200", []int{502, 500}, 3, nil},
		{"503 three times", []int{503, 503, 503, 503}, 3, ErrServer},
		{"400 is not retried", []int{400}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := newMemAuthServer()
				s.set(func(s *authServer) { s.faults = tt.faults })
				ctx := context.WithValue(t.Context(), oauth2.HTTPClient, s.memClient())
				store := &memStore{tok: expiredToken(s)}
				start := time.Now()
				tok, err := PersistentTokenSource(ctx, s.config(""), store).Token()
				assert.Equal(t, tt.requests, s.tokenRequestCount())
				assert.Less(t, time.Since(start), tokenTimeout, "attempts are bounded in time")
				switch {
				case tt.is != nil:
					assert.ErrorIs(t, err, tt.is)
					var ae *AuthorizationError
					require.ErrorAs(t, err, &ae)
					assert.Equal(t, 503, ae.StatusCode)
					assert.Nil(t, tok)
				case tt.name == "400 is not retried":
					assert.Error(t, err)
				default:
					require.NoError(t, err)
					assert.Equal(t, store.stored().AccessToken, tok.AccessToken)
				}
			})
		})
	}
}

// A token endpoint that never answers cannot hold Token for ever.
func TestPersistentTokenSourceBoundsTheRefreshTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newMemAuthServer()
		hang := s.memClient()
		hang.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, hang)
		start := time.Now()
		_, err := PersistentTokenSource(ctx, s.config(""), &memStore{tok: expiredToken(s)}).Token()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, tokenTimeout, time.Since(start))
	})
}

func TestPersistentTokenSourceOneRefreshForManyGoroutines(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	store := &memStore{tok: expiredToken(s)}
	ts := PersistentTokenSource(t.Context(), s.config(""), store)
	var wg sync.WaitGroup
	toks := make([]string, 100)
	for i := range toks {
		wg.Go(func() {
			tok, err := ts.Token()
			if assert.NoError(t, err) {
				toks[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, s.tokenRequestCount())
	for _, tok := range toks {
		assert.Equal(t, toks[0], tok)
	}
	assert.Equal(t, 1, store.saves)
}

func TestPersistentTokenSourceRenewsAMinuteEarly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newMemAuthServer()
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, s.memClient())
		rt := "refresh-live"
		s.addRefreshToken(rt)
		store := &memStore{tok: &oauth2.Token{AccessToken: "access-0", RefreshToken: rt, Expiry: time.Now().Add(time.Hour)}}
		ts := PersistentTokenSource(ctx, s.config(""), store)

		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "access-0", tok.AccessToken)
		time.Sleep(time.Hour - time.Minute - time.Second)
		tok, err = ts.Token()
		require.NoError(t, err)
		assert.Equal(t, "access-0", tok.AccessToken, "61 s before expiry the token is still used")
		assert.Equal(t, 0, s.tokenRequestCount())

		time.Sleep(2 * time.Second)
		tok, err = ts.Token()
		require.NoError(t, err)
		assert.NotEqual(t, "access-0", tok.AccessToken, "59 s before expiry it is renewed")
		assert.Equal(t, 1, s.tokenRequestCount())
		assert.True(t, time.Now().Add(time.Hour).Equal(tok.Expiry), "%v", tok.Expiry)
	})
}

// lockingStore is a store shared with another process, simulated by
// onLock, which runs while the lock is taken.
type lockingStore struct {
	memStore
	onLock func(*memStore)
	events []string
}

func (l *lockingStore) LockToken(ctx context.Context) (func(), error) {
	l.events = append(l.events, "lock")
	if l.onLock != nil {
		l.onLock(&l.memStore)
	}
	return func() { l.events = append(l.events, "unlock") }, nil
}

func (l *lockingStore) Save(ctx context.Context, tok *oauth2.Token) error {
	l.events = append(l.events, "save")
	return l.memStore.Save(ctx, tok)
}

func TestPersistentTokenSourceWithTokenLocker(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)

	// Another process refreshed while this one waited for the lock: its
	// token is used and no request is made.
	other := &oauth2.Token{AccessToken: "access-other", RefreshToken: "refresh-other", Expiry: time.Now().Add(time.Hour)}
	ls := &lockingStore{memStore: memStore{tok: expiredToken(s)}, onLock: func(m *memStore) { m.tok = other }}
	tok, err := PersistentTokenSource(t.Context(), s.config(""), ls).Token()
	require.NoError(t, err)
	assert.Equal(t, "access-other", tok.AccessToken)
	assert.Equal(t, 0, s.tokenRequestCount())
	assert.Equal(t, []string{"lock", "unlock"}, ls.events)

	// Still expired under the lock: this process refreshes and saves
	// before unlocking.
	ls = &lockingStore{memStore: memStore{tok: expiredToken(s)}}
	tok, err = PersistentTokenSource(t.Context(), s.config(""), ls).Token()
	require.NoError(t, err)
	assert.Equal(t, 1, s.tokenRequestCount())
	assert.Equal(t, []string{"lock", "save", "unlock"}, ls.events)
	assert.Equal(t, tok.AccessToken, ls.stored().AccessToken)
	assert.Equal(t, 2, ls.loads, "loaded again under the lock")
}

func TestPersistentTokenSourceSaveFailure(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	store := &memStore{tok: expiredToken(s), saveErr: errors.New("disk full")}
	ts := PersistentTokenSource(t.Context(), s.config(""), store)
	_, err := ts.Token()
	require.ErrorContains(t, err, "disk full")
	_, err = ts.Token()
	require.ErrorContains(t, err, "disk full", "the save is tried again")
	assert.Equal(t, 1, s.tokenRequestCount(), "the new token is kept, not fetched again")

	store.mu.Lock()
	store.saveErr = nil
	store.mu.Unlock()
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, store.stored().AccessToken)
	assert.Equal(t, 1, s.tokenRequestCount())
}

func TestPersistentTokenSourceBadConfig(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	for name, ts := range map[string]oauth2.TokenSource{
		"nil config": PersistentTokenSource(t.Context(), nil, &memStore{}),
		"nil store":  PersistentTokenSource(t.Context(), s.config(""), nil),
	} {
		_, err := ts.Token()
		assert.ErrorIs(t, err, ErrInvalidRequest, name)
	}
	cfg := s.config("")
	cfg.Endpoint.TokenURL = "http://auth.example/oauth/token"
	_, err := PersistentTokenSource(t.Context(), cfg, &memStore{tok: expiredToken(s)}).Token()
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, 0, s.tokenRequestCount())
}

func clientCredentials(s *authServer) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID:     s.clientID,
		ClientSecret: s.clientSecret,
		TokenURL:     s.URL + "/oauth/token",
		Scopes:       []string{"partner-info"},
	}
}

func TestClientCredentialsRequestAndKeycloakAnswer(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	cfg := clientCredentials(s)
	tok, err := ClientCredentialsTokenSource(t.Context(), cfg).Token()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok.AccessToken, "access-"))
	assert.Equal(t, "Bearer", tok.Type())
	assert.Empty(t, tok.RefreshToken)
	assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, 5*time.Second)
	assert.Equal(t, "email profile partner-info", tok.Extra("scope"))
	assert.EqualValues(t, 0, tok.Extra("refresh_expires_in"))
	assert.EqualValues(t, 0, tok.Extra("not-before-policy"))

	reqs := s.tokenRequests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.False(t, r.basicAuth)
	assert.Equal(t, "client_credentials", r.form.Get("grant_type"))
	assert.Equal(t, s.clientID, r.form.Get("client_id"))
	assert.Equal(t, s.clientSecret, r.form.Get("client_secret"))
	assert.Equal(t, "partner-info", r.form.Get("scope"))
	assert.Equal(t, oauth2.AuthStyleAutoDetect, cfg.AuthStyle, "the caller's config is not modified")
}

func TestClientCredentialsErrors(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	cfg := clientCredentials(s)
	cfg.ClientSecret = "wrong"
	_, err := ClientCredentialsTokenSource(t.Context(), cfg).Token()
	var ae *AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_client", ae.Code)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, 1, s.tokenRequestCount(), "no second try with other credentials")

	cfg = clientCredentials(s)
	cfg.AuthStyle = oauth2.AuthStyleInHeader
	_, err = ClientCredentialsTokenSource(t.Context(), cfg).Token()
	require.ErrorAs(t, err, &ae)
	r := s.tokenRequests()[1]
	assert.True(t, r.basicAuth, "an explicit AuthStyleInHeader is honoured")
	assert.Empty(t, r.form.Get("client_secret"))

	_, err = ClientCredentialsTokenSource(t.Context(), nil).Token()
	assert.ErrorIs(t, err, ErrInvalidRequest)

	before := s.tokenRequestCount()
	cfg = clientCredentials(s)
	cfg.TokenURL = "http://auth.example/oauth/token"
	_, err = ClientCredentialsTokenSource(t.Context(), cfg).Token()
	assert.ErrorIs(t, err, ErrInvalidRequest, "plain http to a host that is not loopback")
	assert.Equal(t, before, s.tokenRequestCount())
}

func TestClientCredentialsOneRequestForManyGoroutines(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	release := make(chan struct{})
	s.set(func(s *authServer) { s.onToken = func() { <-release } })
	ts := ClientCredentialsTokenSource(t.Context(), clientCredentials(s))
	var wg sync.WaitGroup
	toks := make([]string, 1000)
	for i := range toks {
		wg.Go(func() {
			tok, err := ts.Token()
			if assert.NoError(t, err) {
				toks[i] = tok.AccessToken
			}
		})
	}
	// Let the first request be answered only once many callers wait.
	for s.tokenRequestCount() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	assert.Equal(t, 1, s.tokenRequestCount())
	for _, tok := range toks {
		require.Equal(t, toks[0], tok)
	}
}

func TestClientCredentialsRenewsAMinuteEarly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newMemAuthServer()
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, s.memClient())
		ts := ClientCredentialsTokenSource(ctx, clientCredentials(s))
		first, err := ts.Token()
		require.NoError(t, err)
		time.Sleep(time.Hour - time.Minute - time.Second)
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, first.AccessToken, tok.AccessToken)
		assert.Equal(t, 1, s.tokenRequestCount())
		time.Sleep(2 * time.Second)
		tok, err = ts.Token()
		require.NoError(t, err)
		assert.NotEqual(t, first.AccessToken, tok.AccessToken)
		assert.Equal(t, 2, s.tokenRequestCount())
	})
}

func TestClientCredentialsRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newMemAuthServer()
		s.set(func(s *authServer) { s.faults = []int{503} })
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, s.memClient())
		_, err := ClientCredentialsTokenSource(ctx, clientCredentials(s)).Token()
		require.NoError(t, err)
		assert.Equal(t, 2, s.tokenRequestCount())
	})
}

// Token values, refresh tokens, client secrets, codes and verifiers appear
// in no error, even from a server that writes back what it was sent.
func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	s.set(func(s *authServer) { s.echo = true })
	ctx := t.Context()
	type result struct {
		err     error
		secrets []string
	}
	cases := map[string]func(t *testing.T) result{
		"exchange with a wrong verifier": func(t *testing.T) result {
			cfg := s.config("https://app.example/callback")
			sess, err := NewAuthSession(cfg)
			require.NoError(t, err)
			cb := authorize(t, sess)
			sess.PKCE = NewPKCE()
			_, err = sess.Exchange(ctx, cfg, cb)
			return result{err, []string{sess.PKCE.Verifier, cb.Get("code"), s.clientSecret}}
		},
		"exchange with a wrong secret": func(t *testing.T) result {
			cfg := s.config("https://app.example/callback")
			cfg.ClientSecret = "secret-wrong-" + strings.Repeat("x", 20)
			sess, err := NewAuthSession(cfg)
			require.NoError(t, err)
			cb := authorize(t, sess)
			_, err = sess.Exchange(ctx, cfg, cb)
			return result{err, []string{sess.PKCE.Verifier, cb.Get("code"), cfg.ClientSecret}}
		},
		"refresh rejected": func(t *testing.T) result {
			tok := &oauth2.Token{AccessToken: "access-" + strings.Repeat("a", 20), RefreshToken: "refresh-" + strings.Repeat("z", 20), Expiry: time.Now().Add(-time.Hour)}
			_, err := PersistentTokenSource(ctx, s.config(""), &memStore{tok: tok}).Token()
			return result{err, []string{tok.AccessToken, tok.RefreshToken, s.clientSecret}}
		},
		"refresh answered 502 with a page echoing the request": func(t *testing.T) (r result) {
			synctest.Test(t, func(t *testing.T) {
				s2 := newMemAuthServer()
				s2.set(func(s *authServer) { s.faults = []int{502, 502, 502} })
				tok := expiredToken(s2)
				ctx := context.WithValue(t.Context(), oauth2.HTTPClient, s2.memClient())
				_, err := PersistentTokenSource(ctx, s2.config(""), &memStore{tok: tok}).Token()
				r = result{err, []string{tok.AccessToken, tok.RefreshToken, s2.clientSecret}}
			})
			return r
		},
		"client credentials rejected": func(t *testing.T) result {
			cfg := clientCredentials(s)
			cfg.ClientSecret = "secret-cc-" + strings.Repeat("y", 20)
			_, err := ClientCredentialsTokenSource(ctx, cfg).Token()
			return result{err, []string{cfg.ClientSecret}}
		},
		"client credentials answered 500": func(t *testing.T) (r result) {
			synctest.Test(t, func(t *testing.T) {
				s2 := newMemAuthServer()
				s2.set(func(s *authServer) { s.faults = []int{500, 500, 500} })
				ctx := context.WithValue(t.Context(), oauth2.HTTPClient, s2.memClient())
				_, err := ClientCredentialsTokenSource(ctx, clientCredentials(s2)).Token()
				r = result{err, []string{s2.clientSecret}}
			})
			return r
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			r := run(t)
			require.Error(t, r.err)
			msg := r.err.Error()
			for _, secret := range r.secrets {
				require.NotEmpty(t, secret)
				assert.NotContains(t, msg, secret)
			}
			assert.NotContains(t, msg, "access-", "no access token")
		})
	}
}

// The cost a request pays to get a current token: the fast path of both
// sources against x/oauth2's own reuse of a valid token.
func BenchmarkTokenSourceFastPath(b *testing.B) {
	tok := &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}
	b.Run("baseline=oauth2.ReuseTokenSource", func(b *testing.B) {
		ts := oauth2.ReuseTokenSource(tok, oauth2.StaticTokenSource(tok))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PersistentTokenSource", func(b *testing.B) {
		ts := PersistentTokenSource(b.Context(), &oauth2.Config{}, &memStore{tok: tok})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ClientCredentialsTokenSource", func(b *testing.B) {
		s := newMemAuthServer()
		ctx := context.WithValue(b.Context(), oauth2.HTTPClient, s.memClient())
		ts := ClientCredentialsTokenSource(ctx, clientCredentials(s))
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
		if n := s.tokenRequestCount(); n != 1 {
			b.Fatalf("%d token requests, want 1", n)
		}
	})
}
