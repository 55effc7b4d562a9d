package blueclerk

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/loopback"
	"golang.org/x/oauth2"
)

// AuthSession is one authorization code login (RFC 6749 §4.1) protected by
// a state value against cross-site request forgery and by PKCE (RFC 7636)
// against code interception. Send the user to URL; when the authorization
// server redirects back, pass the callback's query to [AuthSession.Exchange].
//
// A web application that handles the callback in another request keeps
// State and PKCE.Verifier on its side (never in the page) and rebuilds the
// session from them with [NewPKCEFromVerifier]. A session is for one login.
type AuthSession struct {
	URL   string // the authorization URL to open in the user's browser
	State string // the state value in URL, at least 128 random bits
	PKCE  PKCE   // the pair whose Challenge is in URL
}

// NewAuthSession starts a login: it makes a fresh state and PKCE pair and
// builds the authorization URL from cfg, with response_type=code,
// client_id, redirect_uri, scope (space-separated), state, code_challenge
// and code_challenge_method=S256. opts add parameters, such as
// [oauth2.SetAuthURLParam]; they cannot replace the state or the challenge.
// It returns an error matching [ErrInvalidRequest] when cfg lacks a client
// ID or a usable AuthURL (https, or http on a loopback host).
func NewAuthSession(cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) (*AuthSession, error) {
	if cfg == nil {
		return nil, invalidf("NewAuthSession: nil *oauth2.Config")
	}
	if cfg.ClientID == "" {
		return nil, invalidf("NewAuthSession: the config has no ClientID")
	}
	if err := checkEndpointURL("AuthURL", cfg.Endpoint.AuthURL); err != nil {
		return nil, err
	}
	s := &AuthSession{State: rand.Text(), PKCE: NewPKCE()}
	opts = append(slices.Clip(opts),
		oauth2.S256ChallengeOption(s.PKCE.Verifier),
		oauth2.SetAuthURLParam("state", s.State))
	s.URL = cfg.AuthCodeURL(s.State, opts...)
	return s, nil
}

// Exchange finishes the login with the query of the redirect to
// cfg.RedirectURL. It checks, in this order:
//
//   - an "error" parameter: plan_required gives an error matching
//     [ErrPlanRequired], any other an [*AuthorizationError] with the RFC 6749
//     code, description and URI (StatusCode 0);
//   - the state, compared in constant time with s.State; on a mismatch
//     nothing is sent;
//   - a non-empty code;
//
// and then exchanges the code and s.PKCE.Verifier at the token endpoint,
// with the client credentials in the form body unless cfg asks for
// [oauth2.AuthStyleInHeader]. An error answer from the token endpoint is an
// [*AuthorizationError] (invalid_grant for a wrong, used or expired code,
// verifier or redirect URI; it matches [ErrUnauthorized]). The code is
// never retried: it is single-use. An [*http.Client] in ctx under
// [oauth2.HTTPClient] sends the request. No error text holds the code, the
// verifier, the client secret or a token.
func (s *AuthSession) Exchange(ctx context.Context, cfg *oauth2.Config, callback url.Values) (*oauth2.Token, error) {
	if s == nil || cfg == nil {
		return nil, invalidf("Exchange: nil session or config")
	}
	if code := callback.Get("error"); code != "" {
		return nil, &AuthorizationError{
			Code:        code,
			Description: callback.Get("error_description"),
			URI:         callback.Get("error_uri"),
		}
	}
	if !s.stateMatches(callback.Get("state")) {
		return nil, errors.New("blueclerk: the callback's state does not match the login session's; it may be forged or from another login; start a new login")
	}
	code := callback.Get("code")
	if code == "" {
		return nil, errors.New("blueclerk: the callback carries no authorization code; start a new login")
	}
	if s.PKCE.Verifier == "" {
		return nil, invalidf("Exchange: the session has no PKCE verifier")
	}
	if err := checkEndpointURL("TokenURL", cfg.Endpoint.TokenURL); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	tok, err := tokenConfig(cfg).Exchange(ctx, code, oauth2.VerifierOption(s.PKCE.Verifier))
	if err != nil {
		return nil, tokenError(err, code, s.PKCE.Verifier, cfg.ClientSecret)
	}
	return tok, nil
}

// stateMatches compares got with the session's state in constant time.
func (s *AuthSession) stateMatches(got string) bool {
	return s.State != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.State)) == 1
}

// LoopbackLogin logs a user in from a command-line or desktop program (RFC
// 8252): it listens on cfg.RedirectURL, which must be http on 127.0.0.1,
// [::1] or localhost (port 0 or none picks a free port, and the redirect URI
// sent is rewritten to match; an empty RedirectURL means
// http://127.0.0.1/callback with a free port; cfg itself is not modified),
// starts an [AuthSession], and passes its URL to open, which shows it to the
// user (opens a browser, prints it, or both) and returns; an error from open
// ends the login.
//
// Only a GET of the redirect path carrying the session's state is taken as
// the callback; any other request gets a 4xx answer and the login keeps
// waiting. The callback is exchanged as by [AuthSession.Exchange] and the
// browser gets a short page saying how the login ended. LoopbackLogin
// returns the token, the callback's or the token endpoint's error, or the
// error of ctx when ctx ends first; in every case the listener and its
// server are shut down before it returns.
//
// opts add authorization parameters, as for [NewAuthSession]. An OpenID
// Connect server grants offline_access (a refresh token, which
// [PersistentTokenSource] needs once the access token expires) only with
// prompt=consent: pass oauth2.SetAuthURLParam("prompt", "consent") and
// "offline_access" among cfg.Scopes.
func LoopbackLogin(ctx context.Context, cfg *oauth2.Config, open func(authURL string) error, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	if cfg == nil || open == nil {
		return nil, invalidf("LoopbackLogin: nil config or open func")
	}
	if err := checkEndpointURL("TokenURL", cfg.Endpoint.TokenURL); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ln, redirect, path, err := loopback.Listen(ctx, cfg.RedirectURL)
	if err != nil {
		return nil, fmt.Errorf("blueclerk: LoopbackLogin: %w", err)
	}
	c := tokenConfig(cfg)
	c.RedirectURL = redirect
	sess, err := NewAuthSession(c, opts...)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &loopbackLogin{ctx: ctx, cfg: c, sess: sess, path: path, done: make(chan loginResult, 1)}
	srv := &http.Server{
		Handler:           l,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	defer func() {
		cancel()
		l.close()
		_ = srv.Close()
		<-served
	}()

	if err := open(sess.URL); err != nil {
		return nil, fmt.Errorf("blueclerk: LoopbackLogin: open: %w", err)
	}
	select {
	case r := <-l.done:
		return r.tok, r.err
	case <-ctx.Done():
		select {
		case r := <-l.done: // the callback came just as ctx ended
			return r.tok, r.err
		default:
		}
		return nil, fmt.Errorf("blueclerk: LoopbackLogin: gave up waiting for the browser's callback: %w", context.Cause(ctx))
	}
}

type loginResult struct {
	tok *oauth2.Token
	err error
}

// loopbackLogin answers the requests to the loopback listener of one
// [LoopbackLogin].
type loopbackLogin struct {
	ctx     context.Context
	cfg     *oauth2.Config
	sess    *AuthSession
	path    string
	done    chan loginResult // buffered: receives exactly one result
	claimed atomic.Bool      // a callback with the right state came

	mu       sync.Mutex
	closed   bool
	handlers sync.WaitGroup
}

func (l *loopbackLogin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !l.enter() {
		w.Header().Set("Connection", "close")
		loopback.WritePage(w, http.StatusServiceUnavailable, "Login closed", "This login is no longer waiting for an answer.")
		return
	}
	defer l.handlers.Done()
	switch {
	case r.URL.Path != l.path:
		loopback.WritePage(w, http.StatusNotFound, "Not found", "This address only receives the login's callback.")
		return
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", http.MethodGet)
		loopback.WritePage(w, http.StatusMethodNotAllowed, "Method not allowed", "The login's callback is a GET request.")
		return
	}
	q := r.URL.Query()
	if !l.sess.stateMatches(q.Get("state")) {
		loopback.WritePage(w, http.StatusBadRequest, "Login failed", "This answer does not belong to the login in progress (its state does not match). Start the login again from the application.")
		return
	}
	if !l.claimed.CompareAndSwap(false, true) {
		loopback.WritePage(w, http.StatusBadRequest, "Login already finished", "This login has already received its answer.")
		return
	}
	tok, err := l.sess.Exchange(l.ctx, l.cfg, q)
	w.Header().Set("Connection", "close")
	if err != nil {
		loopback.WritePage(w, http.StatusBadRequest, "Login failed", err.Error())
	} else {
		loopback.WritePage(w, http.StatusOK, "Logged in", "You are logged in to BlueClerk. Return to the application.")
	}
	_ = http.NewResponseController(w).Flush()
	l.done <- loginResult{tok, err}
}

// enter admits a request unless the login is closing.
func (l *loopbackLogin) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.handlers.Add(1)
	return true
}

// close turns new requests away and waits for those being answered.
func (l *loopbackLogin) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.handlers.Wait()
}
