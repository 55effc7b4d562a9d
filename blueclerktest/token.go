package blueclerktest

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"
)

// tokenError answers an RFC 6749 §5.2 error.
func tokenError(w http.ResponseWriter, status int, code, description string) {
	jsonAnswer(status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, description}).write(w)
}

// token serves POST /oauth/token: client authentication by client_secret_post
// or HTTP Basic, then the authorization_code grant with PKCE S256, and the
// refresh_token and client_credentials grants when enabled.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be an application/x-www-form-urlencoded form")
		return
	}
	form := r.PostForm
	client, status, code, description := s.oauth.authenticate(r)
	if code != "" {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="blueclerk"`)
		}
		tokenError(w, status, code, description)
		return
	}
	now := s.now()
	switch gt := form.Get("grant_type"); {
	case gt == "authorization_code":
		s.exchangeCode(w, form, client, now)
	case gt == "refresh_token" && s.cfg.refreshTokens:
		s.refreshGrant(w, form, client, now)
	case gt == "client_credentials" && s.cfg.clientCredentials:
		scopes := allScopes
		if form.Get("scope") != "" {
			var err error
			if scopes, err = parseScopes(form.Get("scope")); err != nil {
				tokenError(w, http.StatusBadRequest, "invalid_scope", err.Error())
				return
			}
		}
		s.oauth.mu.Lock()
		ta := s.oauth.issue(s.company, client.id, scopes, now, false)
		s.oauth.mu.Unlock()
		jsonAnswer(http.StatusOK, ta).write(w)
	case gt == "":
		tokenError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+gt+" is not supported")
	}
}

// authenticate finds the client of a token request from client_id and
// client_secret in the form, or from HTTP Basic. It returns the RFC 6749
// error to answer when that fails. The secret is never repeated.
func (o *oauthState) authenticate(r *http.Request) (client oauthClient, status int, code, description string) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: Basic credentials are form-encoded first.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return client, http.StatusUnauthorized, "invalid_client", "malformed client credentials in Authorization"
		}
		if r.PostForm.Has("client_secret") || (r.PostForm.Has("client_id") && r.PostForm.Get("client_id") != id) {
			return client, http.StatusBadRequest, "invalid_request", "send client credentials one way: the form body or HTTP Basic, not both"
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return client, http.StatusUnauthorized, "invalid_client", "client_id is required"
	}
	o.mu.Lock()
	client, ok := o.clients[id]
	o.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(client.secret)) != 1 {
		return oauthClient{}, http.StatusUnauthorized, "invalid_client", "unknown client or wrong client secret"
	}
	return client, 0, "", ""
}

// exchangeCode serves grant_type=authorization_code. A code is single-use:
// presenting it again fails and revokes the tokens issued for it.
func (s *Server) exchangeCode(w http.ResponseWriter, form url.Values, client oauthClient, now time.Time) {
	code, verifier, redirectURI := form.Get("code"), form.Get("code_verifier"), form.Get("redirect_uri")
	for _, p := range []struct{ name, value string }{{"code", code}, {"redirect_uri", redirectURI}, {"code_verifier", verifier}} {
		if p.value == "" {
			tokenError(w, http.StatusBadRequest, "invalid_request", p.name+" is required")
			return
		}
	}
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	ac := o.codes[code]
	if ac == nil || ac.client != client.id {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the authorization code is not valid")
		return
	}
	if ac.used {
		for _, t := range ac.issued {
			delete(o.access, t)
			delete(o.refresh, t)
		}
		ac.issued = nil
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the authorization code was already used; the tokens issued for it are revoked")
		return
	}
	ac.used = true
	switch {
	case !now.Before(ac.expires):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the authorization code expired; codes live 10 minutes")
	case redirectURI != ac.redirectURI:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
	case !pkceString(verifier, 43, 128) ||
		subtle.ConstantTimeCompare([]byte(oauth2.S256ChallengeFromVerifier(verifier)), []byte(ac.challenge)) != 1:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
	default:
		ta := o.issue(ac.company, client.id, ac.scopes, now, s.cfg.refreshTokens)
		ac.issued = append(ac.issued, ta.AccessToken)
		if ta.RefreshToken != "" {
			ac.issued = append(ac.issued, ta.RefreshToken)
		}
		jsonAnswer(http.StatusOK, ta).write(w)
	}
}

// refreshGrant serves grant_type=refresh_token, rotating the refresh token.
// A scope parameter may narrow the scopes, never widen them.
func (s *Server) refreshGrant(w http.ResponseWriter, form url.Values, client oauthClient, now time.Time) {
	rt := form.Get("refresh_token")
	if rt == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "refresh_token is required")
		return
	}
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.refresh[rt]
	if g == nil || g.client != client.id {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is not valid; log in again")
		return
	}
	scopes := g.scopes
	if form.Get("scope") != "" {
		asked, err := parseScopes(form.Get("scope"))
		if err == nil && !isSubset(asked, g.scopes) {
			err = errors.New("a refresh can only narrow the scopes first granted")
		}
		if err != nil {
			tokenError(w, http.StatusBadRequest, "invalid_scope", err.Error())
			return
		}
		scopes = asked
	}
	delete(o.refresh, rt)
	jsonAnswer(http.StatusOK, o.issue(g.company, client.id, scopes, now, true)).write(w)
}

// isSubset reports whether every element of a is in b.
func isSubset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
