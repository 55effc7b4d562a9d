package blueclerktest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"golang.org/x/oauth2"
)

const (
	clientID     = "app"
	clientSecret = "app-secret-7f3a"
	redirectURI  = "http://127.0.0.1/callback"
)

// verifier is a fixed PKCE code verifier.
var verifier = strings.Repeat("v", 43)

// authorizeQuery returns a valid authorization request's parameters.
func authorizeQuery() url.Values {
	return url.Values{
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"response_type":         {"code"},
		"scope":                 {"tickets.read tickets.write"},
		"state":                 {"st4te"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
	}
}

// authorize sends the authorization request q and returns the redirect's
// query, failing the test if there is no redirect.
func authorize(t *testing.T, s *Server, q url.Values) url.Values {
	t.Helper()
	got, err := s.Authorize(t.Context(), s.URL+"/oauth/authorize?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// exchange posts form to the token endpoint with the client's credentials.
func exchange(t *testing.T, s *Server, form url.Values) reply {
	t.Helper()
	form.Set("client_id", clientID)
	if !form.Has("client_secret") {
		form.Set("client_secret", clientSecret)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doReq(t, req)
}

func doReq(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := testClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// codeForm is the token request for code.
func codeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}}
}

func oauthServer(t *testing.T, opts ...Option) *Server {
	return newServer(t, append([]Option{WithOAuthClient(clientID, clientSecret, redirectURI)}, opts...)...)
}

func TestCodeFlowWithPKCE(t *testing.T) {
	t.Parallel()
	s := oauthServer(t)
	got := authorize(t, s, authorizeQuery())
	if got.Get("state") != "st4te" || got.Get("code") == "" || got.Has("error") {
		t.Fatalf("redirect query %v, want code and state", got)
	}
	r := exchange(t, s, codeForm(got.Get("code")))
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
		Refresh     string `json:"refresh_token"`
	}
	r.decode(t, &tok)
	if r.status != 200 || tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 ||
		tok.Scope != "tickets.read tickets.write" || tok.Refresh != "" {
		t.Fatalf("token answer %d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
	}
	hc := testClient(t)
	if r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", tok.AccessToken, ""); r.status != 200 {
		t.Errorf("GET tickets with the new token: %d %s", r.status, r.body)
	}
	if r := mustSend(t, hc, "GET", s.URL+"/api/v1/leads", tok.AccessToken, ""); r.status != 403 {
		t.Errorf("GET leads without leads.read: %d, want 403", r.status)
	}
}

// TestCodeFlowWithOAuth2Package logs in with golang.org/x/oauth2 playing the
// app, parameters in the body.
func TestCodeFlowWithOAuth2Package(t *testing.T) {
	t.Parallel()
	s := oauthServer(t)
	cfg := &oauth2.Config{
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: "http://127.0.0.1:49152/callback",
		Scopes: []string{"leads.read"},
		Endpoint: oauth2.Endpoint{AuthURL: s.URL + "/oauth/authorize", TokenURL: s.URL + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams},
	}
	v := oauth2.GenerateVerifier()
	r := mustSend(t, testClient(t), "GET", cfg.AuthCodeURL("xyz", oauth2.S256ChallengeOption(v)), "", "")
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" || loc.Port() != "49152" {
		t.Fatalf("authorize: %d Location %q", r.status, r.header.Get("Location"))
	}
	tok, err := cfg.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Valid() || tok.Extra("scope") != "leads.read" {
		t.Fatalf("token %+v", tok)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	s := oauthServer(t)
	hc := testClient(t)
	for _, c := range []struct {
		name   string
		change func(url.Values)
		code   string // "" for a 400 page without redirect
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nobody") }, ""},
		{"no client", func(q url.Values) { q.Del("client_id") }, ""},
		{"redirect not registered", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, ""},
		{"redirect other path", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:8080/other") }, ""},
		{"redirect with fragment", func(q url.Values) { q.Set("redirect_uri", redirectURI+"#x") }, ""},
		{"no redirect", func(q url.Values) { q.Del("redirect_uri") }, ""},
		{"implicit grant", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"no PKCE method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		{"short challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request"},
		{"unknown scope", func(q url.Values) { q.Set("scope", "tickets.read leads.write") }, "invalid_scope"},
		{"no scope", func(q url.Values) { q.Del("scope") }, "invalid_scope"},
	} {
		q := authorizeQuery()
		c.change(q)
		r := mustSend(t, hc, "GET", s.URL+"/oauth/authorize?"+q.Encode(), "", "")
		if c.code == "" {
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Errorf("%s: %d Location %q, want a 400 page", c.name, r.status, r.header.Get("Location"))
			}
			continue
		}
		loc, _ := url.Parse(r.header.Get("Location"))
		got := loc.Query()
		if r.status != http.StatusFound || got.Get("error") != c.code || got.Get("state") != "st4te" ||
			got.Get("error_description") == "" || got.Has("code") {
			t.Errorf("%s: %d redirect %v, want error=%s with description and state", c.name, r.status, got, c.code)
		}
	}
}

func TestAuthorizeFreePlanAndDenial(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		opt  Option
		code string
	}{
		{WithPlan(blueclerk.PlanFree), "plan_required"},
		{WithConsentDenied(), "access_denied"},
	} {
		got := authorize(t, oauthServer(t, c.opt), authorizeQuery())
		if got.Get("error") != c.code || got.Get("error_description") == "" || got.Get("state") != "st4te" || got.Has("code") {
			t.Errorf("redirect %v, want error=%s", got, c.code)
		}
	}
}

func TestRedirectURIMatching(t *testing.T) {
	t.Parallel()
	c := oauthClient{redirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]:9000/cb", "https://app.example.com/cb"}}
	for uri, want := range map[string]bool{
		"http://127.0.0.1/callback":       true,
		"http://127.0.0.1:51234/callback": true, // RFC 8252 §7.3: any port on a loopback IP
		"http://[::1]:1234/cb":            true,
		"http://127.0.0.1:51234/other":    false,
		"http://127.0.0.1:5/callback?x=1": false,
		"http://localhost:51234/callback": false,
		"https://app.example.com/cb":      true,
		"https://app.example.com:444/cb":  false,
		"https://app.example.com/cb/":     false,
		"http://app.example.com/cb":       false,
	} {
		if got := c.allows(uri); got != want {
			t.Errorf("allows(%q) = %v, want %v", uri, got, want)
		}
	}
}

func TestTokenRefusals(t *testing.T) {
	t.Parallel()
	s := oauthServer(t, WithOAuthClient("other", "other-secret", redirectURI))
	for _, c := range []struct {
		name   string
		change func(url.Values)
		status int
		code   string
	}{
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", strings.Repeat("w", 43)) }, 400, "invalid_grant"},
		{"short verifier", func(f url.Values) { f.Set("code_verifier", "short") }, 400, "invalid_grant"},
		{"other redirect", func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:5000/callback") }, 400, "invalid_grant"},
		{"unknown code", func(f url.Values) { f.Set("code", "code_nope") }, 400, "invalid_grant"},
		{"no code", func(f url.Values) { f.Del("code") }, 400, "invalid_request"},
		{"no verifier", func(f url.Values) { f.Del("code_verifier") }, 400, "invalid_request"},
		{"wrong secret", func(f url.Values) { f.Set("client_secret", "guess") }, 401, "invalid_client"},
		{"other client", func(f url.Values) { f.Set("client_id", "other"); f.Set("client_secret", "other-secret") }, 400, "invalid_grant"},
		{"no grant type", func(f url.Values) { f.Del("grant_type") }, 400, "invalid_request"},
		{"password grant", func(f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported_grant_type"},
		{"refresh disabled", func(f url.Values) { f.Set("grant_type", "refresh_token") }, 400, "unsupported_grant_type"},
		{"client credentials disabled", func(f url.Values) { f.Set("grant_type", "client_credentials") }, 400, "unsupported_grant_type"},
	} {
		code := authorize(t, s, authorizeQuery()).Get("code")
		form := codeForm(code)
		form.Set("client_id", clientID)
		form.Set("client_secret", clientSecret)
		c.change(form)
		req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := doReq(t, req)
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		r.decode(t, &e)
		if r.status != c.status || e.Error != c.code || e.Description == "" {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.code)
		}
		if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: WWW-Authenticate %q", c.name, r.header.Get("WWW-Authenticate"))
		}
		if strings.Contains(string(r.body), clientSecret) || strings.Contains(string(r.body), "guess") {
			t.Errorf("%s: the answer repeats the client secret", c.name)
		}
	}
}

func TestTokenBasicAuth(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithOAuthClient("app:1", "s3cr&t", redirectURI))
	q := authorizeQuery()
	q.Set("client_id", "app:1")
	code := authorize(t, s, q).Get("code")
	post := func(form url.Values) reply {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape("app:1"), url.QueryEscape("s3cr&t"))
		return doReq(t, req)
	}
	both := codeForm(code)
	both.Set("client_secret", "s3cr&t")
	if r := post(both); r.status != 400 || r.errorCode(t) != "invalid_request" {
		t.Errorf("Basic and client_secret both: %d %s, want invalid_request", r.status, r.body)
	}
	code = authorize(t, s, q).Get("code")
	if r := post(codeForm(code)); r.status != 200 {
		t.Errorf("Basic: %d %s", r.status, r.body)
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	t.Parallel()
	s := oauthServer(t)
	code := authorize(t, s, authorizeQuery()).Get("code")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	exchange(t, s, codeForm(code)).decode(t, &tok)
	hc := testClient(t)
	if r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", tok.AccessToken, ""); r.status != 200 {
		t.Fatalf("first token: %d", r.status)
	}
	if r := exchange(t, s, codeForm(code)); r.status != 400 || r.errorCode(t) != "invalid_grant" {
		t.Fatalf("second exchange: %d %s, want invalid_grant", r.status, r.body)
	}
	if r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", tok.AccessToken, ""); r.status != 401 {
		t.Fatalf("token of a replayed code: %d, want 401 (revoked)", r.status)
	}
	// A failed exchange uses the code up too.
	code = authorize(t, s, authorizeQuery()).Get("code")
	bad := codeForm(code)
	bad.Set("code_verifier", strings.Repeat("x", 43))
	exchange(t, s, bad)
	if r := exchange(t, s, codeForm(code)); r.errorCode(t) != "invalid_grant" {
		t.Fatalf("code after a wrong verifier: %s, want invalid_grant", r.body)
	}
}

func TestCodeAndTokenExpire(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := oauthServer(t, WithClock(clock.Now))
	code := authorize(t, s, authorizeQuery()).Get("code")
	clock.Advance(10 * time.Minute)
	if r := exchange(t, s, codeForm(code)); r.status != 400 || r.errorCode(t) != "invalid_grant" {
		t.Fatalf("code after 10 minutes: %d %s, want invalid_grant", r.status, r.body)
	}
	code = authorize(t, s, authorizeQuery()).Get("code")
	clock.Advance(10*time.Minute - time.Second)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	exchange(t, s, codeForm(code)).decode(t, &tok)
	hc := testClient(t)
	clock.Advance(time.Hour - time.Second)
	if r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", tok.AccessToken, ""); r.status != 200 {
		t.Fatalf("token before an hour: %d", r.status)
	}
	clock.Advance(time.Second)
	r := mustSend(t, hc, "GET", s.URL+"/api/v1/tickets", tok.AccessToken, "")
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("token after an hour: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	s := oauthServer(t, WithRefreshTokens())
	code := authorize(t, s, authorizeQuery()).Get("code")
	type answer struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
	}
	var first answer
	exchange(t, s, codeForm(code)).decode(t, &first)
	if first.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	refresh := func(rt, scope string) reply {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if scope != "" {
			f.Set("scope", scope)
		}
		return exchange(t, s, f)
	}
	if r := refresh(first.RefreshToken, "tickets.read leads.read"); r.errorCode(t) != "invalid_scope" {
		t.Fatalf("widening refresh: %s, want invalid_scope", r.body)
	}
	var second answer
	r := refresh(first.RefreshToken, "tickets.read")
	r.decode(t, &second)
	if r.status != 200 || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken ||
		second.AccessToken == first.AccessToken || second.Scope != "tickets.read" {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if r := refresh(first.RefreshToken, ""); r.status != 400 || r.errorCode(t) != "invalid_grant" {
		t.Fatalf("rotated refresh token reused: %d %s, want invalid_grant", r.status, r.body)
	}
	if r := refresh(second.RefreshToken, ""); r.status != 200 {
		t.Fatalf("new refresh token: %d %s", r.status, r.body)
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	s := oauthServer(t, WithClientCredentials())
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	r := exchange(t, s, url.Values{"grant_type": {"client_credentials"}, "scope": {"leads.read"}})
	r.decode(t, &tok)
	if r.status != 200 || tok.Scope != "leads.read" {
		t.Fatalf("client credentials: %d %s", r.status, r.body)
	}
	if r := mustSend(t, testClient(t), "GET", s.URL+"/api/v1/leads", tok.AccessToken, ""); r.status != 200 {
		t.Fatalf("GET leads: %d", r.status)
	}
	r = exchange(t, s, url.Values{"grant_type": {"client_credentials"}})
	r.decode(t, &tok)
	if len(strings.Fields(tok.Scope)) != len(allScopes) {
		t.Fatalf("client credentials without scope: %q, want every scope", tok.Scope)
	}
}

func TestIssueToken(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := newServer(t, WithClock(clock.Now))
	tok := s.IssueToken()
	if tok.TokenType != "Bearer" || !tok.Expiry.Equal(clock.Now().Add(time.Hour)) ||
		len(strings.Fields(tok.Extra("scope").(string))) != 13 {
		t.Fatalf("IssueToken() = %+v scope %q", tok, tok.Extra("scope"))
	}
	if s.IssueToken().AccessToken == tok.AccessToken {
		t.Fatal("two tokens are equal")
	}
}

func TestAuthorizeRefusesWhatIsNotARedirectOfThisServer(t *testing.T) {
	t.Parallel()
	s := oauthServer(t)
	other := oauthServer(t)
	if _, err := s.Authorize(t.Context(), other.URL+"/oauth/authorize?"+authorizeQuery().Encode()); err == nil ||
		!strings.Contains(err.Error(), "not a URL of this server") {
		t.Errorf("another server's URL: err = %v", err)
	}
	q := authorizeQuery()
	q.Set("client_id", "nobody")
	if _, err := s.Authorize(t.Context(), s.URL+"/oauth/authorize?"+q.Encode()); err == nil ||
		!strings.Contains(err.Error(), "400 Bad Request instead of a redirect") {
		t.Errorf("unknown client: err = %v", err)
	}
	if got := authorize(t, s, authorizeQuery()); got.Get("code") == "" || got.Get("state") != "st4te" {
		t.Errorf("consent: redirect query %v", got)
	}
}
