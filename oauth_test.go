package blueclerk

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestEndpoint(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"https://api.example.com", "https://api.example.com/"} {
		e := Endpoint(base)
		assert.Equal(t, "https://api.example.com/oauth/authorize", e.AuthURL)
		assert.Equal(t, "https://api.example.com/oauth/token", e.TokenURL)
		assert.Equal(t, oauth2.AuthStyleInParams, e.AuthStyle)
	}
	assert.Equal(t, DefaultBaseURL+"/oauth/token", Endpoint("").TokenURL)
}

func TestScopes(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		ScopeLeadsRead:       "leads.read",
		ScopeTicketsRead:     "tickets.read",
		ScopeTicketsWrite:    "tickets.write",
		ScopeJobsRead:        "jobs.read",
		ScopeJobsWrite:       "jobs.write",
		ScopePropertiesRead:  "properties.read",
		ScopePropertiesWrite: "properties.write",
		ScopeEstimatesRead:   "estimates.read",
		ScopeEstimatesWrite:  "estimates.write",
		ScopeInvoicesRead:    "invoices.read",
		ScopeInvoicesWrite:   "invoices.write",
		ScopeContactsRead:    "contacts.read",
		ScopeContactsWrite:   "contacts.write",
	}
	for got, w := range want {
		assert.Equal(t, w, got)
	}
	assert.Len(t, want, 13, "every constant distinct")
}

func TestNewAuthSession(t *testing.T) {
	t.Parallel()
	cfg := &oauth2.Config{
		ClientID:    "cid",
		Endpoint:    Endpoint("https://api.example.com"),
		RedirectURL: "https://app.example/callback",
		Scopes:      []string{ScopeTicketsRead, ScopeJobsRead},
	}
	s, err := NewAuthSession(cfg, oauth2.SetAuthURLParam("prompt", "consent"),
		oauth2.SetAuthURLParam("state", "attacker"), oauth2.S256ChallengeOption("x"))
	require.NoError(t, err)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	assert.Equal(t, "https://api.example.com/oauth/authorize", u.Scheme+"://"+u.Host+u.Path)
	q := u.Query()
	assert.Equal(t, "code", q.Get("response_type"))
	assert.Equal(t, "cid", q.Get("client_id"))
	assert.Equal(t, "https://app.example/callback", q.Get("redirect_uri"))
	assert.Equal(t, "tickets.read jobs.read", q.Get("scope"))
	assert.Equal(t, s.State, q.Get("state"), "options cannot replace the state")
	assert.Equal(t, s.PKCE.Challenge, q.Get("code_challenge"), "options cannot replace the challenge")
	assert.Equal(t, oauth2.S256ChallengeFromVerifier(s.PKCE.Verifier), s.PKCE.Challenge)
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Equal(t, "consent", q.Get("prompt"))
	assert.NotContains(t, s.URL, s.PKCE.Verifier)
	assert.GreaterOrEqual(t, len(s.State), 26, "128 bits at 5 bits a character")

	s2, err := NewAuthSession(cfg)
	require.NoError(t, err)
	assert.NotEqual(t, s.State, s2.State)
	assert.NotEqual(t, s.PKCE, s2.PKCE)

	for name, bad := range map[string]*oauth2.Config{
		"nil":           nil,
		"no client ID":  {Endpoint: cfg.Endpoint},
		"no AuthURL":    {ClientID: "cid"},
		"http non-loop": {ClientID: "cid", Endpoint: Endpoint("http://api.example.com")},
		"relative":      {ClientID: "cid", Endpoint: oauth2.Endpoint{AuthURL: "/oauth/authorize"}},
	} {
		_, err := NewAuthSession(bad)
		assert.ErrorIs(t, err, ErrInvalidRequest, name)
	}
}

// authorize plays the browser up to the redirect back to the client: it
// follows sess.URL to the authorization server and returns the query of
// the redirect.
func authorize(t *testing.T, sess *AuthSession) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(sess.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(t, err)
	return loc.Query()
}

func TestAuthSessionExchange(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	cfg := s.config("https://app.example/callback", ScopeTicketsRead)
	ctx := t.Context()

	sess, err := NewAuthSession(cfg)
	require.NoError(t, err)
	cb := authorize(t, sess)
	tok, err := sess.Exchange(ctx, cfg, cb)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok.AccessToken, "access-"))
	assert.True(t, strings.HasPrefix(tok.RefreshToken, "refresh-"))
	assert.False(t, tok.Expiry.IsZero())

	reqs := s.tokenRequests()
	require.Len(t, reqs, 1)
	f := reqs[0].form
	assert.Equal(t, "authorization_code", f.Get("grant_type"))
	assert.Equal(t, cb.Get("code"), f.Get("code"))
	assert.Equal(t, "https://app.example/callback", f.Get("redirect_uri"))
	assert.Equal(t, s.clientID, f.Get("client_id"))
	assert.Equal(t, s.clientSecret, f.Get("client_secret"))
	assert.Equal(t, sess.PKCE.Verifier, f.Get("code_verifier"))
	assert.False(t, reqs[0].basicAuth, "client_secret_post, not Basic")

	// The same code again: codes are single-use.
	_, err = sess.Exchange(ctx, cfg, cb)
	var ae *AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_grant", ae.Code)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, err.Error(), "log in again")
}

func TestAuthSessionExchangeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mutate    func(cb url.Values, sess *AuthSession, cfg *oauth2.Config)
		requests  int    // token requests expected
		code      string // AuthorizationError.Code expected, "" for another error
		is        error  // sentinel expected
		status    int
		errSubstr string
	}{
		{name: "wrong state", requests: 0, errSubstr: "state",
			mutate: func(cb url.Values, _ *AuthSession, _ *oauth2.Config) { cb.Set("state", "forged") }},
		{name: "missing state", requests: 0, errSubstr: "state",
			mutate: func(cb url.Values, _ *AuthSession, _ *oauth2.Config) { cb.Del("state") }},
		{name: "missing code", requests: 0, errSubstr: "no authorization code",
			mutate: func(cb url.Values, _ *AuthSession, _ *oauth2.Config) { cb.Del("code") }},
		{name: "access denied", requests: 0, code: "access_denied", is: ErrForbidden,
			mutate: func(cb url.Values, _ *AuthSession, _ *oauth2.Config) {
				cb.Del("code")
				cb.Set("error", "access_denied")
				cb.Set("error_description", "the user said no")
				cb.Set("error_uri", "https://docs.example/denied")
			}},
		{name: "plan required", requests: 0, code: "plan_required", is: ErrPlanRequired,
			mutate: func(cb url.Values, _ *AuthSession, _ *oauth2.Config) {
				cb.Del("code")
				cb.Set("error", "plan_required")
			}},
		{name: "wrong verifier", requests: 1, code: "invalid_grant", is: ErrUnauthorized, status: 400,
			mutate: func(_ url.Values, sess *AuthSession, _ *oauth2.Config) { sess.PKCE = NewPKCE() }},
		{name: "other redirect URI", requests: 1, code: "invalid_grant", is: ErrUnauthorized, status: 400,
			mutate: func(_ url.Values, _ *AuthSession, cfg *oauth2.Config) {
				cfg.RedirectURL = "http://127.0.0.1:9/callback"
			}},
		{name: "wrong client secret", requests: 1, code: "invalid_client", is: ErrUnauthorized, status: 401,
			mutate: func(_ url.Values, _ *AuthSession, cfg *oauth2.Config) { cfg.ClientSecret = "nope" }},
		{name: "explicit AuthStyleInHeader is honoured", requests: 1, code: "invalid_client", status: 401,
			mutate: func(_ url.Values, _ *AuthSession, cfg *oauth2.Config) {
				cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
			}},
		{name: "token URL over plain http to another host", requests: 0, is: ErrInvalidRequest, errSubstr: "https",
			mutate: func(_ url.Values, _ *AuthSession, cfg *oauth2.Config) {
				cfg.Endpoint.TokenURL = "http://auth.example/oauth/token"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newAuthServer(t)
			cfg := s.config("https://app.example/callback")
			sess, err := NewAuthSession(cfg)
			require.NoError(t, err)
			cb := authorize(t, sess)
			tt.mutate(cb, sess, cfg)
			tok, err := sess.Exchange(t.Context(), cfg, cb)
			require.Error(t, err)
			assert.Nil(t, tok)
			assert.Equal(t, tt.requests, s.tokenRequestCount(), "token requests sent")
			var ae *AuthorizationError
			if tt.code != "" {
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.code, ae.Code)
				assert.Equal(t, tt.status, ae.StatusCode)
			} else {
				assert.False(t, errors.As(err, &ae), "%v", err)
			}
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), tt.errSubstr)
			if tt.name == "access denied" {
				assert.Equal(t, AuthorizationError{Code: "access_denied", Description: "the user said no", URI: "https://docs.example/denied"}, *ae)
			}
			if tt.name == "explicit AuthStyleInHeader is honoured" {
				r := s.tokenRequests()[0]
				assert.True(t, r.basicAuth)
				assert.Empty(t, r.form.Get("client_secret"))
			}
		})
	}
}

// With AuthStyle left at zero (auto-detect), x/oauth2 would try the
// Authorization header first and then the body, spending the code on the
// failed first attempt. The SDK sends one request, with the body.
func TestExchangeAutoDetectSendsOneRequestInTheBody(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	cfg := s.config("https://app.example/callback")
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleAutoDetect
	sess, err := NewAuthSession(cfg)
	require.NoError(t, err)
	_, err = sess.Exchange(t.Context(), cfg, authorize(t, sess))
	require.NoError(t, err)
	reqs := s.tokenRequests()
	require.Len(t, reqs, 1)
	assert.False(t, reqs[0].basicAuth)
	assert.Equal(t, s.clientSecret, reqs[0].form.Get("client_secret"))
	assert.Equal(t, oauth2.AuthStyleAutoDetect, cfg.Endpoint.AuthStyle, "the caller's config is not modified")
}

func TestExchangeUsesHTTPClientFromContext(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	cfg := s.config("https://app.example/callback")
	var calls int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		return http.DefaultTransport.RoundTrip(r)
	})}
	sess, err := NewAuthSession(cfg)
	require.NoError(t, err)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, hc)
	_, err = sess.Exchange(ctx, cfg, authorize(t, sess))
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
}

// browser is a test user agent for LoopbackLogin: it follows redirects from
// the authorization server to the loopback listener and keeps what it saw.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &browser{t: t, client: &http.Client{Transport: tr}}
}

// get fetches u, following redirects, and returns the final status and body.
func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	resp, err := b.client.Get(u)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, string(body)
}

// loopbackCtx returns a context whose token requests go through a client
// of the test's own, so that its connections end with the test.
func loopbackCtx(t *testing.T) context.Context {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: tr})
}

func TestLoopbackLogin(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	cfg := s.config("http://127.0.0.1:0/callback", ScopeLeadsRead)
	b := newBrowser(t)
	var authURL, page string
	tok, err := LoopbackLogin(loopbackCtx(t), cfg, func(u string) error {
		authURL = u
		var status int
		status, page = b.get(u)
		assert.Equal(t, http.StatusOK, status)
		return nil
	})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok.AccessToken, "access-"))
	assert.Contains(t, page, "Logged in")
	assert.NotContains(t, page, "<script")
	assert.NotContains(t, page, "src=")
	assert.NotContains(t, page, tok.AccessToken)

	assert.Equal(t, "http://127.0.0.1:0/callback", cfg.RedirectURL, "the caller's config is not modified")
	q, err := url.Parse(authURL)
	require.NoError(t, err)
	redirect := q.Query().Get("redirect_uri")
	ru, err := url.Parse(redirect)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", ru.Hostname())
	assert.NotEqual(t, "0", ru.Port())
	assert.Equal(t, "/callback", ru.Path)
	reqs := s.tokenRequests()
	require.Len(t, reqs, 1)
	assert.Equal(t, redirect, reqs[0].form.Get("redirect_uri"))

	_, err = net.Dial("tcp", ru.Host)
	assert.Error(t, err, "the listener is closed once the login is over")
}

func TestLoopbackLoginFixedPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	s := newAuthServer(t)
	cfg := s.config("http://" + addr + "/callback")
	b := newBrowser(t)
	_, err = LoopbackLogin(loopbackCtx(t), cfg, func(u string) error {
		b.get(u)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "http://"+addr+"/callback", s.tokenRequests()[0].form.Get("redirect_uri"))
}

// A request to the listener that is not the login's callback (wrong state,
// other path, other method) is refused and the login goes on.
func TestLoopbackLoginForgedCallback(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	cfg := s.config("")
	b := newBrowser(t)
	tok, err := LoopbackLogin(loopbackCtx(t), cfg, func(authURL string) error {
		u, err := url.Parse(authURL)
		require.NoError(t, err)
		redirect := u.Query().Get("redirect_uri")
		assert.True(t, strings.HasPrefix(redirect, "http://127.0.0.1:"), redirect)
		assert.True(t, strings.HasSuffix(redirect, "/callback"), redirect)

		status, page := b.get(redirect + "?code=evil&state=forged")
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, page, "does not belong to the login in progress")
		status, _ = b.get(redirect + "?error=access_denied&state=forged")
		assert.Equal(t, http.StatusBadRequest, status, "a forged error does not end the login")
		status, _ = b.get(strings.TrimSuffix(redirect, "/callback") + "/favicon.ico")
		assert.Equal(t, http.StatusNotFound, status)
		resp, err := b.client.Post(redirect+"?code=x&state="+u.Query().Get("state"), "text/plain", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

		status, page = b.get(authURL)
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, "Logged in")
		return nil
	})
	require.NoError(t, err)
	require.NotNil(t, tok)
	reqs := s.tokenRequests()
	require.Len(t, reqs, 1, "only the real callback is exchanged")
	assert.NotEqual(t, "evil", reqs[0].form.Get("code"))
}

func TestLoopbackLoginAuthorizationError(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	s.set(func(s *authServer) {
		s.authorizeErr = url.Values{"error": {"plan_required"}, "error_description": {`<script>alert("x")</script> upgrade`}}
	})
	b := newBrowser(t)
	var page string
	_, err := LoopbackLogin(loopbackCtx(t), s.config(""), func(u string) error {
		_, page = b.get(u)
		return nil
	})
	assert.ErrorIs(t, err, ErrPlanRequired)
	var ae *AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 0, ae.StatusCode)
	assert.Contains(t, page, "Login failed")
	assert.Contains(t, page, "&lt;script&gt;", "the description is HTML-escaped")
	assert.NotContains(t, page, "<script>")
	assert.Equal(t, 0, s.tokenRequestCount())
}

func TestLoopbackLoginOpenFails(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	var redirect string
	_, err := LoopbackLogin(loopbackCtx(t), s.config(""), func(u string) error {
		pu, _ := url.Parse(u)
		redirect = pu.Query().Get("redirect_uri")
		return errors.New("no browser")
	})
	require.ErrorContains(t, err, "no browser")
	ru, err := url.Parse(redirect)
	require.NoError(t, err)
	_, err = net.Dial("tcp", ru.Host)
	assert.Error(t, err, "the listener is closed")
}

func TestLoopbackLoginBadConfig(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t)
	for _, redirect := range []string{
		"https://127.0.0.1/callback",
		"http://app.example/callback",
		"http://192.0.2.1:8080/callback",
		"http://127.0.0.1:99999/callback",
		"http://user:pw@127.0.0.1/callback",
		"::",
	} {
		opened := false
		_, err := LoopbackLogin(t.Context(), s.config(redirect), func(string) error { opened = true; return nil })
		assert.Error(t, err, redirect)
		assert.False(t, opened, redirect)
		assert.NotContains(t, err.Error(), "pw@", "no credentials in errors")
	}
	_, err := LoopbackLogin(t.Context(), nil, func(string) error { return nil })
	assert.ErrorIs(t, err, ErrInvalidRequest)
	_, err = LoopbackLogin(t.Context(), s.config(""), nil)
	assert.ErrorIs(t, err, ErrInvalidRequest)
}

// When ctx ends before the callback, LoopbackLogin returns ctx's error and
// leaves neither a listener nor a goroutine behind. Not parallel: goleak
// looks at every goroutine of the process.
func TestLoopbackLoginContextEnds(t *testing.T) {
	s := newAuthServer(t)
	tr := &http.Transport{}
	before := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(t.Context())
	var redirect string
	_, err := LoopbackLogin(ctx, s.config(""), func(u string) error {
		pu, _ := url.Parse(u)
		redirect = pu.Query().Get("redirect_uri")
		// The listener answers while the login waits...
		resp, err := (&http.Client{Transport: tr}).Get(redirect + "?state=forged&code=x")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		// ...and the user never comes back.
		cancel()
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "callback")
	tr.CloseIdleConnections()
	ru, err := url.Parse(redirect)
	require.NoError(t, err)
	_, err = net.Dial("tcp", ru.Host)
	assert.Error(t, err, "the listener is closed")
	goleak.VerifyNone(t, before)
}

// memStore is an in-memory TokenStore that counts its calls.
type memStore struct {
	mu      sync.Mutex
	tok     *oauth2.Token
	loads   int
	saves   int
	saveErr error
}

func (m *memStore) Load(ctx context.Context) (*oauth2.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	if m.tok == nil {
		return nil, nil
	}
	t := *m.tok
	return &t, nil
}

func (m *memStore) Save(ctx context.Context, tok *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	m.saves++
	t := *tok
	m.tok = &t
	return nil
}

func (m *memStore) stored() *oauth2.Token {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok
}

// TestTokenErrorRedactsShortSecrets: a client secret or refresh token is cut
// out of a token request's error however short it is.
func TestTokenErrorRedactsShortSecrets(t *testing.T) {
	err := tokenError(errors.New(`post "https://id.example/token": client_secret=s3 refresh_token=rt1 refused`), "s3", "rt1")
	for _, secret := range []string{"s3", "rt1"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q in %q", secret, err)
		}
	}
}
