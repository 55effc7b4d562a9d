package blueclerk

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// authServer is a small OAuth 2.0 authorization server for the tests. Its
// authorize endpoint approves at once (or answers with the configured
// error); its token endpoint checks what BlueClerk's does: client_secret_post
// credentials, single-use codes bound to the redirect URI and the S256 PKCE
// challenge, live refresh tokens. It also answers client credentials
// requests the way Keycloak does.
type authServer struct {
	URL          string // base URL: http://127.0.0.1:port, or a fake one when in memory
	clientID     string
	clientSecret string
	handler      http.Handler

	mu           sync.Mutex
	codes        map[string]*codeGrant
	refresh      map[string]bool // live refresh tokens
	requests     []tokenRequest  // every token request received
	lastAuthURL  url.Values      // the query of the last authorize request
	authorizeErr url.Values      // when set, the authorize endpoint redirects with it
	faults       []int           // statuses answered to the next token requests
	rotate       bool            // issue a new refresh token on each refresh
	noRefresh    bool            // issue no refresh token with a code
	expiresIn    int             // expires_in of every token; 3600 unless set
	echo         bool            // write what it got into error_description, as a careless server might
	onToken      func()          // called on each token request, before answering
}

type codeGrant struct {
	challenge, redirectURI string
	used                   bool
}

type tokenRequest struct {
	form      url.Values
	basicAuth bool
}

func newAuthHandler() *authServer {
	s := &authServer{
		clientID:     "client-" + rand.Text(),
		clientSecret: "secret-" + rand.Text(),
		codes:        make(map[string]*codeGrant),
		refresh:      make(map[string]bool),
		expiresIn:    3600,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", s.authorize)
	mux.HandleFunc("POST /oauth/token", s.token)
	s.handler = mux
	return s
}

// newAuthServer starts the server on a loopback port.
func newAuthServer(t testing.TB) *authServer {
	s := newAuthHandler()
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// newMemAuthServer serves through memClient only, with no socket, for tests
// inside a synctest bubble.
func newMemAuthServer() *authServer {
	s := newAuthHandler()
	s.URL = "http://127.0.0.1:1"
	return s
}

// memClient returns an HTTP client that hands every request to the
// server's handler in the calling goroutine.
func (s *authServer) memClient() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if err := r.Context().Err(); err != nil {
			return nil, err
		}
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, r)
		resp := rec.Result()
		resp.Request = r
		return resp, nil
	})}
}

func (s *authServer) config(redirect string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     s.clientID,
		ClientSecret: s.clientSecret,
		Endpoint:     Endpoint(s.URL),
		RedirectURL:  redirect,
		Scopes:       scopes,
	}
}

// tokenRequests returns a copy of the token requests received so far.
func (s *authServer) tokenRequests() []tokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tokenRequest(nil), s.requests...)
}

func (s *authServer) tokenRequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// addRefreshToken makes rt a live refresh token.
func (s *authServer) addRefreshToken(rt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh[rt] = true
}

func (s *authServer) set(f func(s *authServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// redirectAllowed accepts http://127.0.0.1:<any port>/callback, as RFC 8252
// §7.3 asks of servers for native apps, and https://app.example/callback.
func redirectAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch {
	case raw == "https://app.example/callback":
		return true
	case u.Scheme == "http" && u.Path == "/callback":
		ip := net.ParseIP(u.Hostname())
		return (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost"
	}
	return false
}

func (s *authServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastAuthURL = q
	redirect := q.Get("redirect_uri")
	switch {
	case q.Get("client_id") != s.clientID:
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	case !redirectAllowed(redirect):
		http.Error(w, "redirect_uri not registered", http.StatusBadRequest)
		return
	}
	back, _ := url.Parse(redirect)
	v := url.Values{"state": {q.Get("state")}}
	switch {
	case s.authorizeErr != nil:
		for k, vs := range s.authorizeErr {
			v[k] = vs
		}
	case q.Get("response_type") != "code":
		v.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		v.Set("error", "invalid_request")
		v.Set("error_description", "PKCE with S256 is required")
	default:
		code := "code-" + rand.Text()
		s.codes[code] = &codeGrant{challenge: q.Get("code_challenge"), redirectURI: redirect}
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (s *authServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := r.PostForm
	_, _, basic := r.BasicAuth()
	s.mu.Lock()
	s.requests = append(s.requests, tokenRequest{form: f, basicAuth: basic})
	onToken := s.onToken
	s.mu.Unlock()
	if onToken != nil {
		onToken()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) > 0 {
		status := s.faults[0]
		s.faults = s.faults[1:]
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><body>%d upstream failed for %s</body></html>", status, f.Encode())
		return
	}
	fail := func(status int, code, desc string) {
		if s.echo {
			desc += "; got " + f.Encode() + " " + strings.Join(f["client_secret"], "") + " " + strings.Join(f["code_verifier"], "") + " " + strings.Join(f["refresh_token"], "")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc, "error_uri": "https://docs.example/" + code})
	}
	if basic || f.Get("client_id") != s.clientID || f.Get("client_secret") != s.clientSecret {
		fail(http.StatusUnauthorized, "invalid_client", "client authentication failed (client_secret_post expected)")
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		g := s.codes[f.Get("code")]
		switch {
		case g == nil:
			fail(http.StatusBadRequest, "invalid_grant", "unknown code")
			return
		case g.used:
			fail(http.StatusBadRequest, "invalid_grant", "code already used")
			return
		}
		g.used = true
		switch {
		case f.Get("redirect_uri") != g.redirectURI:
			fail(http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
		case oauth2.S256ChallengeFromVerifier(f.Get("code_verifier")) != g.challenge:
			fail(http.StatusBadRequest, "invalid_grant", "code_verifier does not match the challenge")
		default:
			s.issue(w, !s.noRefresh, "")
		}
	case "refresh_token":
		rt := f.Get("refresh_token")
		if !s.refresh[rt] {
			fail(http.StatusBadRequest, "invalid_grant", "refresh token expired or revoked")
			return
		}
		if s.rotate {
			delete(s.refresh, rt)
		}
		s.issue(w, s.rotate, "")
	case "client_credentials":
		s.issue(w, false, f.Get("scope"))
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

// issue answers with a new token; Keycloak-shaped when scope is set.
// Callers hold s.mu.
func (s *authServer) issue(w http.ResponseWriter, withRefresh bool, scope string) {
	body := map[string]any{
		"access_token": "access-" + rand.Text(),
		"token_type":   "Bearer",
		"expires_in":   s.expiresIn,
	}
	if withRefresh {
		rt := "refresh-" + rand.Text()
		s.refresh[rt] = true
		body["refresh_token"] = rt
	}
	if scope != "" {
		body["scope"] = "email profile " + scope
		body["refresh_expires_in"] = 0
		body["not-before-policy"] = 0
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(body)
}
