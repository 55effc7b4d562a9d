package blueclerk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	mathrand "math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
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
// goroutines ask at once, one refresh is made and they all get its result.
//
// The source returned also has a method
//
//	TokenContext(ctx context.Context) (*oauth2.Token, error)
//
// which a [Client] calls with each request's ctx: a valid token is returned
// at once; otherwise the caller waits for the refresh until ctx ends, and
// then gets ctx's error while the refresh goes on for the others. Token is
// TokenContext with [context.Background]. A refresh runs in a goroutine that
// ends with it; nothing runs between calls.
//
// Token returns an error matching [ErrUnauthorized], saying to log in again,
// when nothing is stored, when the token expired without a refresh token,
// or when the token endpoint rejects the refresh token (invalid_grant, an
// [*AuthorizationError]). If saving a new token fails, Token returns the
// store's error, and the next call tries to save it again.
func PersistentTokenSource(ctx context.Context, cfg *oauth2.Config, store TokenStore) oauth2.TokenSource {
	p := &persistentSource{store: store}
	s := newRenewingSource(ctx, p.renew)
	switch {
	case cfg == nil:
		s.err = invalidf("PersistentTokenSource: nil *oauth2.Config")
	case store == nil:
		s.err = invalidf("PersistentTokenSource: nil TokenStore")
	default:
		p.cfg = tokenConfig(cfg)
	}
	return s
}

// renewingSource hands out its token until a minute before it expires, then
// calls renew for the next one, once however many goroutines ask.
type renewingSource struct {
	ctx   context.Context // the constructor's, without cancellation
	err   error           // a configuration error, returned by every call
	renew func(context.Context) (*oauth2.Token, error)

	mu      sync.Mutex
	tok     *oauth2.Token // what the last successful renewal returned
	renewal *renewal      // the renewal under way, if any
}

// renewal is one call of renew; done is closed once its result is set.
type renewal struct {
	done     chan struct{}
	tok      *oauth2.Token
	err      error
	panicked any // what renew panicked with, raised again in each caller waiting
}

func newRenewingSource(ctx context.Context, renew func(context.Context) (*oauth2.Token, error)) *renewingSource {
	if ctx == nil {
		ctx = context.Background()
	}
	return &renewingSource{ctx: context.WithoutCancel(ctx), renew: renew}
}

// Token returns a valid token, renewing it when needed; it is TokenContext
// with [context.Background].
func (s *renewingSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext returns the token while it is valid for more than another
// minute, whatever ctx. Otherwise it starts a renewal, or joins the one
// under way, and waits for its result until ctx ends; a caller whose ctx
// ends gets ctx's error, and the renewal goes on for the others. A caller
// whose ctx has already ended starts nothing.
func (s *renewingSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.mu.Lock()
	if tok := s.tok; fresh(tok) {
		s.mu.Unlock()
		return tok, nil
	}
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	r := s.renewal
	if r == nil {
		r = &renewal{done: make(chan struct{})}
		s.renewal = r
		go s.run(r)
	}
	s.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.tok, r.err
}

// run makes the renewal r under the source's ctx and a timeout of its own,
// so that no caller's ctx cuts it short. It runs in a goroutine that ends
// when renew returns: nothing long-lived is started, and a source needs no
// Close. A panic in renew (a TokenStore's, say) is raised again in the
// callers waiting, where it can be recovered, rather than ending the
// process.
func (s *renewingSource) run(r *renewal) {
	ctx, cancel := context.WithTimeout(s.ctx, tokenTimeout)
	defer cancel()
	// The result until renew returns one: what the callers get when it
	// panics or calls runtime.Goexit instead.
	r.err = errors.New("blueclerk: the token renewal did not return")
	defer func() {
		r.panicked = recover()
		s.mu.Lock()
		if r.err == nil {
			s.tok = r.tok
		}
		s.renewal = nil
		s.mu.Unlock()
		close(r.done)
	}()
	r.tok, r.err = s.renew(ctx)
}

// persistentSource is the renewal of [PersistentTokenSource]'s tokens.
type persistentSource struct {
	cfg   *oauth2.Config
	store TokenStore

	// unsaved is a refreshed token that could not be saved; the next
	// renewal saves it first. Only renewals, one at a time, touch it.
	unsaved *oauth2.Token
}

// renew returns the token to use from now on: the unsaved one once it is
// saved, the store's, or a refreshed one, saved.
func (s *persistentSource) renew(ctx context.Context) (*oauth2.Token, error) {
	if tok := s.unsaved; tok != nil {
		if err := s.store.Save(ctx, tok); err != nil {
			return nil, fmt.Errorf("blueclerk: saving the refreshed token: %w", err)
		}
		s.unsaved = nil
		if fresh(tok) {
			return tok, nil
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
	if err := s.store.Save(ctx, tok); err != nil {
		s.unsaved = tok
		return nil, fmt.Errorf("blueclerk: saving the refreshed token: %w", err)
	}
	return tok, nil
}

// load reads the store.
func (s *persistentSource) load(ctx context.Context) (*oauth2.Token, error) {
	tok, err := s.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("blueclerk: loading the token: %w", err)
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
// goroutines ask at once, one request is made and they all get its result.
// Requests outlive ctx (its values, such as an [*http.Client] under
// [oauth2.HTTPClient], are kept), are tried up to 3 times within 30 seconds
// on a 5xx answer or a network error, and fail with an
// [*AuthorizationError] when the endpoint answers with an error. cfg is not
// modified.
//
// The source returned also has a method
//
//	TokenContext(ctx context.Context) (*oauth2.Token, error)
//
// which a [Client] calls with each request's ctx: a valid token is returned
// at once; otherwise the caller waits for the token request until ctx ends,
// and then gets ctx's error while the request goes on for the others. Token
// is TokenContext with [context.Background]. A request runs in a goroutine
// that ends with it; nothing runs between calls.
func ClientCredentialsTokenSource(ctx context.Context, cfg *clientcredentials.Config) oauth2.TokenSource {
	c := &clientCredentialsSource{}
	s := newRenewingSource(ctx, c.renew)
	if cfg == nil {
		s.err = invalidf("ClientCredentialsTokenSource: nil *clientcredentials.Config")
		return s
	}
	c.cfg = &clientcredentials.Config{
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret,
		TokenURL:       cfg.TokenURL,
		Scopes:         slices.Clone(cfg.Scopes),
		EndpointParams: maps.Clone(cfg.EndpointParams),
		AuthStyle:      cfg.AuthStyle,
	}
	if c.cfg.AuthStyle == oauth2.AuthStyleAutoDetect {
		c.cfg.AuthStyle = oauth2.AuthStyleInParams
	}
	s.err = checkEndpointURL("TokenURL", c.cfg.TokenURL)
	return s
}

// clientCredentialsSource is the renewal of
// [ClientCredentialsTokenSource]'s tokens: a new token each time.
type clientCredentialsSource struct {
	cfg *clientcredentials.Config
}

func (s *clientCredentialsSource) renew(ctx context.Context) (*oauth2.Token, error) {
	return retryToken(ctx, func(ctx context.Context) (*oauth2.Token, error) {
		t, err := s.cfg.Token(ctx)
		return t, tokenError(err, s.cfg.ClientSecret)
	})
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
