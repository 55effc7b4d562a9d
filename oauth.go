package blueclerk

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"maps"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/atomicfile"
	"github.com/blueclerk/blueclerk-go/internal/loopback"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Endpoint returns the OAuth 2.0 endpoints of the BlueClerk host baseURL
// ([DefaultBaseURL] when empty): <base>/oauth/authorize and
// <base>/oauth/token, with client credentials sent in the form body
// ([oauth2.AuthStyleInParams]), as the token endpoint expects.
func Endpoint(baseURL string) oauth2.Endpoint {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	base := strings.TrimRight(baseURL, "/")
	return oauth2.Endpoint{
		AuthURL:   base + "/oauth/authorize",
		TokenURL:  base + "/oauth/token",
		AuthStyle: oauth2.AuthStyleInParams,
	}
}

// Scopes a login can request, one read scope per resource and a write scope
// for each resource that can be created. Put the ones the application needs
// in [oauth2.Config.Scopes]; they are sent space-separated.
const (
	ScopeLeadsRead       = "leads.read"
	ScopeTicketsRead     = "tickets.read"
	ScopeTicketsWrite    = "tickets.write"
	ScopeJobsRead        = "jobs.read"
	ScopeJobsWrite       = "jobs.write"
	ScopePropertiesRead  = "properties.read"
	ScopePropertiesWrite = "properties.write"
	ScopeEstimatesRead   = "estimates.read"
	ScopeEstimatesWrite  = "estimates.write"
	ScopeInvoicesRead    = "invoices.read"
	ScopeInvoicesWrite   = "invoices.write"
	ScopeContactsRead    = "contacts.read"
	ScopeContactsWrite   = "contacts.write"
)

const (
	// expiryDelta is how long before its expiry a token is renewed.
	expiryDelta = time.Minute
	// tokenAttempts bounds the attempts of one refresh or client
	// credentials request, and tokenTimeout the time they may take in all.
	tokenAttempts = 3
	tokenTimeout  = 30 * time.Second
	// firstBackoff is the wait before the second attempt; it doubles.
	firstBackoff = 250 * time.Millisecond
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
func LoopbackLogin(ctx context.Context, cfg *oauth2.Config, open func(authURL string) error) (*oauth2.Token, error) {
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
	sess, err := NewAuthSession(c)
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

// TokenStore keeps a user's token between runs of a program, or shares it
// between processes. Implementations must be safe for concurrent use.
type TokenStore interface {
	Load(ctx context.Context) (*oauth2.Token, error) // nil, nil when nothing is stored
	Save(ctx context.Context, tok *oauth2.Token) error
}

// TokenLocker is implemented by a TokenStore shared between processes.
// [PersistentTokenSource] holds the lock while it refreshes, so that when the
// token expires exactly one process refreshes it and the others reuse the
// result.
type TokenLocker interface {
	LockToken(ctx context.Context) (unlock func(), err error)
}

// FileTokenStore is a [TokenStore] keeping the token in a JSON file (access
// token, token type, refresh token and expiry) readable by its owner only.
// Writes are atomic: a reader, or a crash, sees the old token or the new
// one, never a mix. It is safe for concurrent use within a process; it does
// not implement [TokenLocker], so processes sharing one file may each
// refresh the token.
type FileTokenStore struct {
	path string
}

// NewFileTokenStore returns a store for the file at path. Save creates the
// file with mode 0600, and its directory with mode 0700 when missing.
func NewFileTokenStore(path string) *FileTokenStore {
	return &FileTokenStore{path: path}
}

// Load reads the stored token. It returns nil, nil when the file does not
// exist, and an error when it cannot be read or holds no token.
func (s *FileTokenStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("blueclerk: loading the token: %w", err)
	}
	var tok oauth2.Token
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" && tok.RefreshToken == "" {
		return nil, fmt.Errorf("blueclerk: %s holds no saved token; delete it and log in again", s.path)
	}
	return &tok, nil
}

// storable returns what of tok is kept: the fields of oauth2.Token's own
// JSON form that still mean something later (not ExpiresIn, which is
// relative to when the token was issued).
func storable(tok *oauth2.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType,
		RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
}

// Save replaces the stored token with tok.
func (s *FileTokenStore) Save(ctx context.Context, tok *oauth2.Token) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if tok == nil {
		return invalidf("FileTokenStore.Save: nil token")
	}
	b, err := json.MarshalIndent(storable(tok), "", "  ")
	if err != nil {
		return fmt.Errorf("blueclerk: saving the token: %w", err)
	}
	if err := atomicfile.WriteFile(s.path, append(b, '\n'), 0o600, 0o700); err != nil {
		return fmt.Errorf("blueclerk: saving the token: %w", err)
	}
	return nil
}

func (s *FileTokenStore) check(ctx context.Context) error {
	if s == nil || s.path == "" {
		return invalidf("FileTokenStore: no file path (use NewFileTokenStore)")
	}
	if ctx != nil {
		return ctx.Err()
	}
	return nil
}

// PersistentTokenSource returns a token source that keeps its token in
// store. Its first Token call loads the token a login saved (see
// [LoopbackLogin] and [AuthSession.Exchange]); a token is renewed a minute
// before it expires with its refresh token, and every new token, including a
// rotated refresh token, is saved before it is used (an answer without a
// refresh_token keeps the old one). When store is a [TokenLocker], the
// refresh happens under its lock, after loading again in case another
// process refreshed first.
//
// Refreshes outlive ctx: its cancellation and deadline are dropped, its
// values (such as an [*http.Client] under [oauth2.HTTPClient], used for the
// token requests) kept. A refresh answered with a 5xx status or lost to a
// network error is tried up to 3 times within 30 seconds. However many
// goroutines ask at once, one refresh is made and they all get its result;
// no goroutine is started.
//
// Token returns an error matching [ErrUnauthorized], saying to log in again,
// when nothing is stored, when the token expired without a refresh token,
// or when the token endpoint rejects the refresh token (invalid_grant, an
// [*AuthorizationError]). If saving a new token fails, Token returns the
// store's error, and the next call tries to save it again.
func PersistentTokenSource(ctx context.Context, cfg *oauth2.Config, store TokenStore) oauth2.TokenSource {
	if ctx == nil {
		ctx = context.Background()
	}
	s := &persistentSource{ctx: context.WithoutCancel(ctx), store: store}
	switch {
	case cfg == nil:
		s.err = invalidf("PersistentTokenSource: nil *oauth2.Config")
	case store == nil:
		s.err = invalidf("PersistentTokenSource: nil TokenStore")
	default:
		s.cfg = tokenConfig(cfg)
	}
	return s
}

type persistentSource struct {
	ctx   context.Context // without cancellation
	cfg   *oauth2.Config
	store TokenStore
	err   error // a configuration error, returned by every call

	mu      sync.Mutex // held during a refresh, so one is made at a time
	tok     *oauth2.Token
	unsaved bool // tok is newer than the store's token
}

func (s *persistentSource) Token() (*oauth2.Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.unsaved && fresh(s.tok) {
		return s.tok, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, tokenTimeout)
	defer cancel()
	if s.unsaved {
		if err := s.store.Save(ctx, s.tok); err != nil {
			return nil, fmt.Errorf("blueclerk: saving the refreshed token: %w", err)
		}
		s.unsaved = false
		if fresh(s.tok) {
			return s.tok, nil
		}
	}
	tok, err := s.load(ctx)
	if err != nil || fresh(tok) {
		return tok, err
	}
	if l, ok := s.store.(TokenLocker); ok {
		unlock, err := l.LockToken(ctx)
		if err != nil {
			return nil, fmt.Errorf("blueclerk: locking the token store: %w", err)
		}
		if unlock != nil {
			defer unlock()
		}
		if tok, err = s.load(ctx); err != nil || fresh(tok) {
			return tok, err
		}
	}
	switch {
	case tok == nil:
		return nil, fmt.Errorf("%w: no token is stored; log in first", ErrUnauthorized)
	case tok.RefreshToken == "":
		return nil, fmt.Errorf("%w: the token expired and no refresh token was issued; log in again", ErrUnauthorized)
	}
	if err := checkEndpointURL("TokenURL", s.cfg.Endpoint.TokenURL); err != nil {
		return nil, err
	}
	rt := tok.RefreshToken
	tok, err = retryToken(ctx, func(ctx context.Context) (*oauth2.Token, error) {
		t, err := s.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
		return t, tokenError(err, rt, s.cfg.ClientSecret)
	})
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = rt
	}
	s.tok = tok
	if err := s.store.Save(ctx, tok); err != nil {
		s.unsaved = true
		return nil, fmt.Errorf("blueclerk: saving the refreshed token: %w", err)
	}
	return tok, nil
}

// load reads the store and remembers what it holds.
func (s *persistentSource) load(ctx context.Context) (*oauth2.Token, error) {
	tok, err := s.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("blueclerk: loading the token: %w", err)
	}
	if tok != nil {
		s.tok = tok
	}
	return tok, nil
}

// fresh reports whether tok can be used for at least another minute.
func fresh(tok *oauth2.Token) bool {
	return tok != nil && tok.AccessToken != "" &&
		(tok.Expiry.IsZero() || time.Until(tok.Expiry) > expiryDelta)
}

// ClientCredentialsTokenSource returns a token source for machine-to-machine
// use (RFC 6749 §4.4), such as a Keycloak partner endpoint. Each token
// request is a form-encoded POST of grant_type=client_credentials,
// client_id, client_secret (in the body unless cfg asks for
// [oauth2.AuthStyleInHeader]), scope (space-separated) and
// cfg.EndpointParams. Keycloak's extra fields (refresh_expires_in,
// not-before-policy) are accepted and available through
// [oauth2.Token.Extra].
//
// The token is reused until a minute before it expires; however many
// goroutines ask at once, one request is made. Requests outlive ctx (its
// values, such as an [*http.Client] under [oauth2.HTTPClient], are kept),
// are tried up to 3 times within 30 seconds on a 5xx answer or a network
// error, and fail with an [*AuthorizationError] when the endpoint answers
// with an error. No goroutine is started; cfg is not modified.
func ClientCredentialsTokenSource(ctx context.Context, cfg *clientcredentials.Config) oauth2.TokenSource {
	if ctx == nil {
		ctx = context.Background()
	}
	s := &clientCredentialsSource{ctx: context.WithoutCancel(ctx)}
	if cfg == nil {
		s.err = invalidf("ClientCredentialsTokenSource: nil *clientcredentials.Config")
	} else {
		s.cfg = &clientcredentials.Config{
			ClientID:       cfg.ClientID,
			ClientSecret:   cfg.ClientSecret,
			TokenURL:       cfg.TokenURL,
			Scopes:         slices.Clone(cfg.Scopes),
			EndpointParams: maps.Clone(cfg.EndpointParams),
			AuthStyle:      cfg.AuthStyle,
		}
		if s.cfg.AuthStyle == oauth2.AuthStyleAutoDetect {
			s.cfg.AuthStyle = oauth2.AuthStyleInParams
		}
	}
	return oauth2.ReuseTokenSourceWithExpiry(nil, s, expiryDelta)
}

// clientCredentialsSource requests a new token on every call; the
// [oauth2.ReuseTokenSourceWithExpiry] around it serialises the calls and
// reuses the token.
type clientCredentialsSource struct {
	ctx context.Context // without cancellation
	cfg *clientcredentials.Config
	err error
}

func (s *clientCredentialsSource) Token() (*oauth2.Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := checkEndpointURL("TokenURL", s.cfg.TokenURL); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(s.ctx, tokenTimeout)
	defer cancel()
	return retryToken(ctx, func(ctx context.Context) (*oauth2.Token, error) {
		t, err := s.cfg.Token(ctx)
		return t, tokenError(err, s.cfg.ClientSecret)
	})
}

// tokenConfig returns a copy of cfg for token requests, with the client
// credentials in the form body unless cfg asks for the Authorization header:
// x/oauth2's auto-detection tries the header first and, on any error, tries
// again, which can spend a single-use code on the failed attempt. The copy
// is made field by field, leaving cfg's internal state alone.
func tokenConfig(cfg *oauth2.Config) *oauth2.Config {
	c := &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     cfg.Endpoint,
		RedirectURL:  cfg.RedirectURL,
		Scopes:       slices.Clone(cfg.Scopes),
	}
	if c.Endpoint.AuthStyle == oauth2.AuthStyleAutoDetect {
		c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return c
}

// checkEndpointURL accepts an absolute https URL, or http for a loopback
// host: credentials and tokens never cross a network in clear text.
func checkEndpointURL(name, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return invalidf("the OAuth config has no %s (see Endpoint)", name)
	case err != nil || u.Host == "":
		return invalidf("OAuth %s %q is not an absolute URL", name, raw)
	case !safeScheme(u):
		return invalidf("OAuth %s %q: use https (plain http only for a loopback host)", name, u.Redacted())
	}
	return nil
}

// retryToken calls fetch until it succeeds, fails for good, or has been
// tried tokenAttempts times, waiting a little longer between attempts.
func retryToken(ctx context.Context, fetch func(context.Context) (*oauth2.Token, error)) (*oauth2.Token, error) {
	wait := firstBackoff
	for attempt := 1; ; attempt++ {
		tok, err := fetch(ctx)
		if err == nil || attempt == tokenAttempts || !transient(err) {
			return tok, err
		}
		t := time.NewTimer(wait + mathrand.N(wait/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		wait *= 2
	}
}

// transient reports whether a failed token request may succeed if repeated:
// a 5xx answer or a lost connection, not an ended context.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var oe *net.OpError
	return errors.Is(err, ErrServer) || errors.As(err, &oe) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// tokenError turns a failed token request into the package's errors: an
// RFC 6749 error answer, or any non-2xx answer, becomes an
// [*AuthorizationError], without the response body. Any of secrets that
// the server or a lower layer wrote back is cut out.
func tokenError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &AuthorizationError{
			Code:        redact(re.ErrorCode, secrets),
			Description: redact(re.ErrorDescription, secrets),
			URI:         redact(re.ErrorURI, secrets),
		}
		if re.Response != nil {
			e.StatusCode = re.Response.StatusCode
		}
		return e
	}
	msg := err.Error()
	if r := redact(msg, secrets); r != msg {
		return errors.New("blueclerk: token request: " + r)
	}
	return fmt.Errorf("blueclerk: token request: %w", err)
}

// redact replaces every secret in s.
func redact(s string, secrets []string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}
