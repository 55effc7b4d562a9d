package blueclerktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

const (
	// tokenLifetime is how long an access token is valid: expires_in 3600.
	tokenLifetime = time.Hour
	// codeLifetime is how long an authorization code can be exchanged.
	codeLifetime = 10 * time.Minute
	// maxTokenRequest bounds a token request's form body.
	maxTokenRequest = 64 << 10
)

// oauthClient is a registered OAuth client.
type oauthClient struct {
	id, secret   string
	redirectURIs []string
}

// authCode is an authorization code and what it was issued for.
type authCode struct {
	client      string
	redirectURI string
	challenge   string
	scopes      []string
	company     *company
	expires     time.Time
	used        bool
	issued      []string // tokens issued for the code, revoked if it is presented again
}

// grant is what an access or refresh token stands for.
type grant struct {
	company *company
	client  string // "" for IssueToken
	scopes  []string
	expires time.Time // zero for a refresh token, which does not expire
}

// oauthState is the authorization server: clients, codes and tokens.
type oauthState struct {
	mu      sync.Mutex
	clients map[string]oauthClient
	codes   map[string]*authCode
	access  map[string]*grant
	refresh map[string]*grant
}

func (o *oauthState) init(clients []oauthClient) {
	o.clients = make(map[string]oauthClient)
	for _, c := range clients {
		o.clients[c.id] = c
	}
	o.codes = make(map[string]*authCode)
	o.access = make(map[string]*grant)
	o.refresh = make(map[string]*grant)
}

// The reasons lookup refuses a token, said in 401 answers.
var (
	errNoToken      = errors.New("missing bearer token: send Authorization: Bearer <token>")
	errUnknownToken = errors.New("the access token is not valid")
	errExpiredToken = errors.New("the access token expired")
)

// lookup returns the grant of an access token at now, or why there is none.
func (o *oauthState) lookup(token string, now time.Time) (*grant, error) {
	if token == "" {
		return nil, errNoToken
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.access[token]
	switch {
	case g == nil:
		return nil, errUnknownToken
	case !now.Before(g.expires):
		return nil, errExpiredToken
	}
	return g, nil
}

// tokenAnswer is the token endpoint's success body (RFC 6749 §5.1).
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// issue mints an access token, and a refresh token when withRefresh. The
// caller holds o.mu.
func (o *oauthState) issue(c *company, client string, scopes []string, now time.Time, withRefresh bool) tokenAnswer {
	ta := tokenAnswer{
		AccessToken: "at_" + rand.Text(),
		TokenType:   "Bearer",
		ExpiresIn:   int(tokenLifetime / time.Second),
		Scope:       strings.Join(scopes, " "),
	}
	o.access[ta.AccessToken] = &grant{company: c, client: client, scopes: scopes, expires: now.Add(tokenLifetime)}
	if withRefresh {
		ta.RefreshToken = "rt_" + rand.Text()
		o.refresh[ta.RefreshToken] = &grant{company: c, client: client, scopes: scopes}
	}
	return ta
}

// IssueToken returns a valid access token for the company with the given
// scopes (every scope when none is given), as if a user had logged in: tests
// use it to skip the login. It expires an hour after the server's clock's
// now. Tokens are issued even on the FREE plan, where the API refuses them.
func (s *Server) IssueToken(scopes ...string) *oauth2.Token {
	if len(scopes) == 0 {
		scopes = allScopes
	}
	now := s.now()
	s.oauth.mu.Lock()
	ta := s.oauth.issue(s.company, "", slices.Clone(scopes), now, false)
	s.oauth.mu.Unlock()
	tok := &oauth2.Token{
		AccessToken: ta.AccessToken,
		TokenType:   ta.TokenType,
		Expiry:      now.Add(tokenLifetime),
		ExpiresIn:   int64(ta.ExpiresIn),
	}
	return tok.WithExtra(map[string]any{"scope": ta.Scope})
}

// authorize serves GET /oauth/authorize. An unknown client or an
// unregistered redirect_uri gets a 400 page, never a redirect (RFC 6749
// §4.1.2.1); every other outcome redirects to redirect_uri with either code
// and state, or error, error_description and state. The company user
// consents at once unless WithConsentDenied says otherwise.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	q := r.URL.Query()
	s.oauth.mu.Lock()
	client, ok := s.oauth.clients[q.Get("client_id")]
	s.oauth.mu.Unlock()
	if !ok {
		http.Error(w, "invalid_request: unknown client_id; check the client ID you registered", http.StatusBadRequest)
		return
	}
	redirectURI := q.Get("redirect_uri")
	target, err := url.Parse(redirectURI)
	if redirectURI == "" || err != nil || !client.allows(redirectURI) {
		http.Error(w, "invalid_request: redirect_uri is missing or not registered for this client", http.StatusBadRequest)
		return
	}
	state := q.Get("state")
	back := func(v url.Values) {
		if state != "" {
			v.Set("state", state)
		}
		u := *target
		query := u.Query()
		for k, vs := range v {
			query[k] = vs
		}
		u.RawQuery = query.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	fail := func(code, description string) {
		back(url.Values{"error": {code}, "error_description": {description}})
	}
	scopes, scopeErr := parseScopes(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
	case q.Get("code_challenge") == "":
		fail("invalid_request", "code_challenge is required: this server requires PKCE")
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
	case !pkceString(q.Get("code_challenge"), 43, 43):
		fail("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the code verifier")
	case scopeErr != nil:
		fail("invalid_scope", scopeErr.Error())
	case s.company.plan.HourlyLimit() == 0:
		fail("plan_required", "the company is on the FREE plan; the Public API requires STARTER, PRO or HIGH: upgrade to authorize apps")
	case s.cfg.consentDenied:
		fail("access_denied", "the user denied the authorization request")
	default:
		code := "code_" + rand.Text()
		s.oauth.mu.Lock()
		s.oauth.codes[code] = &authCode{client: client.id, redirectURI: redirectURI,
			challenge: q.Get("code_challenge"), scopes: scopes, company: s.company,
			expires: s.now().Add(codeLifetime)}
		s.oauth.mu.Unlock()
		back(url.Values{"code": {code}})
	}
}

// allows reports whether redirect_uri uri is registered for c: equal to a
// registered URI, or, for an http loopback IP literal, equal but for the
// port (RFC 8252 §7.3).
func (c oauthClient) allows(uri string) bool {
	got, err := url.Parse(uri)
	if err != nil || got.Fragment != "" {
		return false
	}
	for _, reg := range c.redirectURIs {
		if uri == reg {
			return true
		}
		want, err := url.Parse(reg)
		if err != nil || want.Scheme != "http" || got.Scheme != "http" {
			continue
		}
		ip := net.ParseIP(want.Hostname())
		if ip != nil && ip.IsLoopback() && want.Hostname() == got.Hostname() &&
			want.EscapedPath() == got.EscapedPath() && want.RawQuery == got.RawQuery && got.User == nil {
			return true
		}
	}
	return false
}

// parseScopes reads a space-separated scope parameter, which must name at
// least one known scope.
func parseScopes(param string) ([]string, error) {
	var scopes []string
	for sc := range strings.FieldsSeq(param) {
		if !slices.Contains(allScopes, sc) {
			return nil, errors.New("unknown scope " + sc + "; known: " + strings.Join(allScopes, " "))
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return nil, errors.New("scope is required: name the scopes the app needs, such as tickets.read")
	}
	return scopes, nil
}

// pkceString reports whether s is a PKCE value of min to max characters from
// the unreserved set (RFC 7636 §4.1), which includes base64url's alphabet.
func pkceString(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// Authorize does what the company user's browser does with a login URL of
// this server, such as a blueclerk.AuthSession's URL: it opens authURL,
// where the user consents at once (or refuses, with [WithConsentDenied]; a
// FREE company gets plan_required), and returns the query of the redirect
// back to the app (code and state, or error, error_description and state)
// without following it. It fails for a URL of another server, and when the
// server answers without a redirect, as it does for an unknown client or
// redirect URI.
func (s *Server) Authorize(ctx context.Context, authURL string) (url.Values, error) {
	if !strings.HasPrefix(authURL, s.URL+"/") {
		return nil, fmt.Errorf("blueclerktest: Authorize: %q is not a URL of this server (%s)", authURL, s.URL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	// The deliveries' client follows no redirect, and Close closes its
	// connections.
	resp, err := s.hooks.client.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("blueclerktest: Authorize: %s instead of a redirect: %s", resp.Status, bytes.TrimSpace(body))
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("blueclerktest: Authorize: %w", err)
	}
	return loc.Query(), nil
}
