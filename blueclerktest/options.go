package blueclerktest

import (
	"fmt"
	"net"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/internal/loopback"
)

// Option configures a [Server] in [NewServer].
type Option func(*config)

// config is what the options set.
type config struct {
	plan              blueclerk.Plan
	hourlyLimit       int // 0: the plan's
	clients           []oauthClient
	webhooks          []webhookEndpoint
	clock             func() time.Time
	consentDenied     bool
	refreshTokens     bool
	clientCredentials bool
	pageSize          int
	wrapCreated       bool
	ignoreIdempotency bool
	faultSeed         uint64
	faultRates        *FaultRates
	listener          net.Listener
	control           bool
}

// WithPlan sets the company's plan (default [blueclerk.PlanPro]), and with it
// the hourly budget. With [blueclerk.PlanFree] the authorize endpoint
// redirects with error=plan_required and the API answers every token 403
// plan_required. A plan the blueclerk package does not name counts as FREE.
func WithPlan(p blueclerk.Plan) Option {
	return func(c *config) { c.plan = p }
}

// WithHourlyLimit replaces the plan's hourly budget with n requests, such as
// a few to reach 429 quickly, or many to keep a soak test from being paced.
// The plan still decides whether the API may be used at all.
func WithHourlyLimit(n int) Option {
	return func(c *config) { c.hourlyLimit = n }
}

// WithOAuthClient registers an OAuth client. redirect_uri must equal one of
// redirectURIs exactly, except that for an http loopback IP literal
// (http://127.0.0.1/… or http://[::1]/…) any port is accepted, as RFC 8252
// §7.3 requires for native apps. Several clients may be registered.
func WithOAuthClient(id, secret string, redirectURIs ...string) Option {
	return func(c *config) {
		c.clients = append(c.clients, oauthClient{id: id, secret: secret, redirectURIs: redirectURIs})
	}
}

// WithWebhook registers a webhook endpoint: every event is delivered to url,
// signed with secret (a Standard Webhooks secret, "whsec_<base64>"; see
// [NewWebhookSecret]). Several endpoints may be registered. A secret that
// cannot sign fails each delivery to url without retrying.
func WithWebhook(url, secret string) Option {
	return func(c *config) { c.webhooks = append(c.webhooks, webhookEndpoint{url: url, secret: secret}) }
}

// WithClock makes the server read the time from now instead of [time.Now]:
// record dates, token and code expiry, rate-limit windows, and the
// timestamps of webhook deliveries follow it. Waits (fault delays, webhook
// retries) still take real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// WithConsentDenied makes the company user deny every authorization: the
// authorize endpoint redirects with error=access_denied.
func WithConsentDenied() Option {
	return func(c *config) { c.consentDenied = true }
}

// WithRefreshTokens makes the token endpoint issue refresh tokens and accept
// grant_type=refresh_token. A refresh token is rotated on use: the answer
// carries a new one and the old one stops working.
func WithRefreshTokens() Option {
	return func(c *config) { c.refreshTokens = true }
}

// WithClientCredentials makes the token endpoint accept
// grant_type=client_credentials from registered clients, issuing a token for
// the company with the requested scopes (every scope when none is asked).
func WithClientCredentials() Option {
	return func(c *config) { c.clientCredentials = true }
}

// WithPageSize makes list answers hold at most n elements, with an RFC 8288
// `Link: <…?page=2>; rel="next"` header while more follow. By default a list
// answer holds everything.
func WithPageSize(n int) Option {
	return func(c *config) { c.pageSize = n }
}

// WithWrappedCreates makes create answers wrap the object under its singular
// name, {"ticket": {...}}, instead of answering it bare.
func WithWrappedCreates() Option {
	return func(c *config) { c.wrapCreated = true }
}

// WithoutIdempotencyKeys makes the server ignore Idempotency-Key, as an API
// that does not honour it would: a write sent again is carried out again.
// Tests use it to check that a client never repeats a write that may have
// happened.
func WithoutIdempotencyKeys() Option {
	return func(c *config) { c.ignoreIdempotency = true }
}

// WithRandomFaults injects faults into API requests (paths under /api/v1/)
// at the given rates, drawn from a math/rand/v2 PCG source seeded with seed.
// The same seed gives the same sequence of faults to the same sequence of
// requests. Faults queued with [Server.InjectFault] are served first.
func WithRandomFaults(seed uint64, rates FaultRates) Option {
	return func(c *config) { c.faultSeed, c.faultRates = seed, &rates }
}

// WithListener makes the server accept connections on l instead of a new
// listener on 127.0.0.1 with a random port. The server closes l in Close.
func WithListener(l net.Listener) Option {
	return func(c *config) { c.listener = l }
}

// Listen listens on addr for [WithListener], refusing a host that is not
// loopback (127.0.0.1, ::1 or localhost): the server speaks plain HTTP,
// trusts its callers, and is often run printing its credentials. Port 0
// picks a free port.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if !loopback.IsHost(host) {
		return nil, fmt.Errorf("listen address %q: the host must be loopback (127.0.0.1, ::1 or localhost)", addr)
	}
	return net.Listen("tcp", addr)
}
