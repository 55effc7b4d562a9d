package blueclerk_test

import (
	"bytes"
	"context"
	"io"
	"iter"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

// TestEndToEnd runs the SDK against blueclerktest.NewServer over loopback
// HTTP: every endpoint, both logins, refresh tokens, every error the server
// can cause, the budget, and webhooks. The parts run in parallel; when they
// are done, goleak checks that neither the SDK nor the fake left a
// goroutine behind.
func TestEndToEnd(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		goleak.VerifyNone(t, ignore)
	})
	for _, part := range []struct {
		name string
		test func(*testing.T)
	}{
		{"endpoints", testEndpoints},
		{"paging and wrapped creates", testPaging},
		{"login with an AuthSession", testAuthSession},
		{"loopback login", testLoopbackLogin},
		{"persistent token source", testPersistentTokens},
		{"errors", testErrors},
		{"budget", testBudget},
		{"webhooks", testWebhooks},
	} {
		t.Run(part.name, func(t *testing.T) {
			t.Parallel()
			part.test(t)
		})
	}
}

// The OAuth client registered with the fake: a native app, whose loopback
// redirect URI may use any port (RFC 8252 §7.3).
const (
	appID       = "e2e-app"
	appSecret   = "e2e-app-secret-5b1d0c"
	appRedirect = "http://127.0.0.1/callback"
)

// fake starts a server that the test closes when it ends.
func fake(t *testing.T, opts ...blueclerktest.Option) *blueclerktest.Server {
	t.Helper()
	srv := blueclerktest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// withApp registers the test's OAuth client.
func withApp() blueclerktest.Option {
	return blueclerktest.WithOAuthClient(appID, appSecret, appRedirect)
}

// appConfig is the OAuth configuration of the test's app for srv.
func appConfig(srv *blueclerktest.Server, redirect string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     appID,
		ClientSecret: appSecret,
		Endpoint:     blueclerk.Endpoint(srv.URL),
		RedirectURL:  redirect,
		Scopes:       scopes,
	}
}

// connect returns a client of srv with default options but for opts, whose
// retries back off for a millisecond instead of half a second.
func connect(t *testing.T, srv *blueclerktest.Server, ts oauth2.TokenSource, opts ...blueclerk.Option) *blueclerk.Client {
	t.Helper()
	c, err := blueclerk.NewClient(ts, append([]blueclerk.Option{blueclerk.WithBaseURL(srv.URL)}, opts...)...)
	require.NoError(t, err)
	blueclerk.FastRetries(c)
	return c
}

func static(tok *oauth2.Token) oauth2.TokenSource { return oauth2.StaticTokenSource(tok) }

// browser returns an HTTP client, closed when the test ends, that follows
// redirects as a browser does, or not when follow is false.
func browser(t *testing.T, follow bool) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	if !follow {
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return hc
}

// authorize plays the user's browser at one of srv's login URLs and returns
// the query the redirect carries to the app.
func authorize(t *testing.T, srv *blueclerktest.Server, authURL string) url.Values {
	t.Helper()
	q, err := srv.Authorize(t.Context(), authURL)
	require.NoError(t, err)
	return q
}

// login logs in to srv with cfg through an AuthSession, the browser played
// by authorize.
func login(t *testing.T, srv *blueclerktest.Server, cfg *oauth2.Config) *oauth2.Token {
	t.Helper()
	sess, err := blueclerk.NewAuthSession(cfg)
	require.NoError(t, err)
	tok, err := sess.Exchange(t.Context(), cfg, authorize(t, srv, sess.URL))
	require.NoError(t, err)
	return tok
}

// fakeSecret matches the tokens and codes the fake issues.
var fakeSecret = regexp.MustCompile(`(at|rt|code)_[A-Z2-7]{26}`)

// noSecrets checks that err says nothing it must not.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	assert.NotRegexp(t, fakeSecret, err.Error())
	assert.NotContains(t, err.Error(), appSecret)
}

// newClock returns a clock for the fake, on a whole hour and a half.
func newClock() *blueclerktest.Clock {
	return blueclerktest.NewClock(time.Now().Truncate(time.Hour).Add(90 * time.Minute))
}

// ticketParams is a valid ticket.
func ticketParams(desc string) *blueclerk.CreateTicketParams {
	return &blueclerk.CreateTicketParams{CustomerID: "cust_123", PropertyID: "prop_456", Description: desc, Priority: blueclerk.PriorityHigh}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// listed checks that List and All give the same records and returns their
// IDs.
func listed[T any](t *testing.T, list func(context.Context, ...blueclerk.CallOption) ([]*T, error), all func(context.Context, ...blueclerk.CallOption) iter.Seq2[*T, error], id func(*T) string) []string {
	t.Helper()
	got, err := list(t.Context())
	require.NoError(t, err)
	var ids, streamed []string
	for _, v := range got {
		ids = append(ids, id(v))
	}
	for v, err := range all(t.Context()) {
		require.NoError(t, err)
		streamed = append(streamed, id(v))
	}
	assert.Equal(t, ids, streamed, "List and All disagree")
	return ids
}

func idsOf[T any](rows []T, id func(*T) string) []string {
	var ids []string
	for i := range rows {
		ids = append(ids, id(&rows[i]))
	}
	return ids
}

// testEndpoints calls every endpoint and checks each answer against what the
// server stored.
func testEndpoints(t *testing.T) {
	srv := fake(t)
	c := connect(t, srv, static(srv.IssueToken()))
	ctx := t.Context()

	leads, err := c.Leads.List(ctx)
	require.NoError(t, err)
	require.Len(t, leads, 3, "the fake's sample leads")
	for i, l := range srv.Leads() {
		assert.Equal(t, l, *leads[i])
	}

	tk, err := c.Tickets.Create(ctx, ticketParams("Leaky faucet in master bathroom"))
	require.NoError(t, err)
	assert.Equal(t, blueclerk.TicketStatusOpen, tk.Status)
	assert.Equal(t, srv.Tickets()[0], *tk)

	when := time.Date(2024, time.January, 20, 14, 0, 0, 0, time.UTC)
	job, err := c.Jobs.Create(ctx, &blueclerk.CreateJobParams{TicketID: tk.ID, ScheduledDate: when, AssignedTo: "user_456"})
	require.NoError(t, err)
	assert.True(t, job.ScheduledDate.Equal(when))
	assert.Equal(t, blueclerk.JobStatusScheduled, job.Status)
	assert.Equal(t, srv.Jobs()[0], *job)

	prop, err := c.Properties.Create(ctx, &blueclerk.CreatePropertyParams{Address: "123 Main St", City: "Austin", State: "TX", Zip: "78701", OwnerID: "cust_123"})
	require.NoError(t, err)
	assert.Equal(t, srv.Properties()[0], *prop)

	est, err := c.Estimates.Create(ctx, &blueclerk.CreateEstimateParams{CustomerID: "cust_123", LineItems: []blueclerk.EstimateLineItem{
		{Description: "Labor", Quantity: dec("2"), UnitPrice: dec("75.00")},
		{Description: "Washer", Quantity: dec("0.5"), UnitPrice: dec("0.10")},
	}})
	require.NoError(t, err)
	require.Len(t, est.LineItems, 2)
	assert.True(t, est.LineItems[1].Quantity.Equal(dec("0.5")) && est.LineItems[1].UnitPrice.Equal(dec("0.1")),
		"decimals come back exact: %v", est.LineItems[1])
	assert.Equal(t, srv.Estimates()[0], *est)

	inv, err := c.Invoices.Create(ctx, &blueclerk.CreateInvoiceParams{CustomerID: "cust_123", DueDate: blueclerk.Date{Year: 2024, Month: time.February, Day: 1},
		LineItems: []blueclerk.InvoiceLineItem{{ItemID: "item_456", Quantity: dec("3"), UnitPrice: dec("0.1")}}})
	require.NoError(t, err)
	assert.Equal(t, "2024-02-01", inv.DueDate.String())
	total := inv.LineItems[0].Quantity.Mul(inv.LineItems[0].UnitPrice)
	assert.Equal(t, "0.3", total.String(), "0.1 × 3 is exact")
	assert.Equal(t, blueclerk.InvoiceStatusDraft, inv.Status)
	assert.Equal(t, srv.Invoices()[0], *inv)

	contact, err := c.Contacts.Create(ctx, &blueclerk.CreateContactParams{Name: "Jane Doe", Email: "jane@example.com", Phone: "555-5678", CompanyID: "company_123"})
	require.NoError(t, err)
	assert.Equal(t, srv.Contacts()[0], *contact)

	// Every list, read whole and one record at a time, holds what the
	// server stores.
	leadID := func(v *blueclerk.Lead) string { return v.ID }
	ticketID := func(v *blueclerk.Ticket) string { return v.ID }
	jobID := func(v *blueclerk.Job) string { return v.ID }
	propID := func(v *blueclerk.Property) string { return v.ID }
	estID := func(v *blueclerk.Estimate) string { return v.ID }
	invID := func(v *blueclerk.Invoice) string { return v.ID }
	contactID := func(v *blueclerk.Contact) string { return v.ID }
	assert.Equal(t, idsOf(srv.Leads(), leadID), listed(t, c.Leads.List, c.Leads.All, leadID))
	assert.Equal(t, []string{tk.ID}, listed(t, c.Tickets.List, c.Tickets.All, ticketID))
	assert.Equal(t, []string{job.ID}, listed(t, c.Jobs.List, c.Jobs.All, jobID))
	assert.Equal(t, []string{prop.ID}, listed(t, c.Properties.List, c.Properties.All, propID))
	assert.Equal(t, []string{est.ID}, listed(t, c.Estimates.List, c.Estimates.All, estID))
	assert.Equal(t, []string{inv.ID}, listed(t, c.Invoices.List, c.Invoices.All, invID))
	assert.Equal(t, []string{contact.ID}, listed(t, c.Contacts.List, c.Contacts.All, contactID))

	docs, err := c.Docs(ctx)
	require.NoError(t, err)
	assert.Equal(t, blueclerk.DocsURL, docs)

	// Every API request was counted against the budget, and the client
	// knows what is left.
	used := 0
	for _, path := range []string{"leads", "tickets", "jobs", "properties", "estimates", "invoices", "contacts"} {
		used += srv.Requests(http.MethodGet, "/api/v1/"+path) + srv.Requests(http.MethodPost, "/api/v1/"+path)
	}
	assert.Equal(t, 21, used, "1 + 2×7 lists and 6 creates")
	rl := c.RateLimit()
	assert.Equal(t, blueclerk.PlanPro.HourlyLimit(), rl.Limit)
	assert.Equal(t, rl.Limit-used, rl.Remaining)
	assert.True(t, rl.Reset.After(time.Now()), "reset %v", rl.Reset)
}

// testPaging lists across pages and reads created objects wrapped under
// their name.
func testPaging(t *testing.T) {
	srv := fake(t, blueclerktest.WithPageSize(2), blueclerktest.WithWrappedCreates())
	c := connect(t, srv, static(srv.IssueToken()))
	var want []string
	for _, desc := range []string{"one", "two", "three", "four", "five"} {
		tk, err := c.Tickets.Create(t.Context(), ticketParams(desc))
		require.NoError(t, err)
		assert.Equal(t, desc, tk.Description, "the wrapped answer is decoded")
		want = append(want, tk.ID)
	}
	got, err := c.Tickets.List(t.Context())
	require.NoError(t, err)
	assert.Equal(t, want, idsOf(derefs(got), func(v *blueclerk.Ticket) string { return v.ID }))
	assert.Equal(t, 3, srv.Requests(http.MethodGet, "/api/v1/tickets"), "three pages of two")

	// Stopping after the third ticket reads two pages, not three.
	n := 0
	for _, err := range c.Tickets.All(t.Context()) {
		require.NoError(t, err)
		if n++; n == 3 {
			break
		}
	}
	assert.Equal(t, 5, srv.Requests(http.MethodGet, "/api/v1/tickets"))
}

func derefs[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// testAuthSession logs in with NewAuthSession and Exchange, the test playing
// the browser.
func testAuthSession(t *testing.T) {
	srv := fake(t, withApp())
	ctx := t.Context()
	cfg := appConfig(srv, "http://127.0.0.1:53682/callback", blueclerk.ScopeTicketsRead, blueclerk.ScopeTicketsWrite)
	sess, err := blueclerk.NewAuthSession(cfg)
	require.NoError(t, err)
	callback := authorize(t, srv, sess.URL)
	require.Equal(t, sess.State, callback.Get("state"))
	require.NotEmpty(t, callback.Get("code"))

	// A callback with another state is refused before anything is sent.
	forged := url.Values{"code": {callback.Get("code")}, "state": {"forged"}}
	_, err = sess.Exchange(ctx, cfg, forged)
	require.Error(t, err)
	assert.Zero(t, srv.Requests(http.MethodPost, "/oauth/token"))

	tok, err := sess.Exchange(ctx, cfg, callback)
	require.NoError(t, err)
	assert.Equal(t, "tickets.read tickets.write", tok.Extra("scope"))
	assert.Empty(t, tok.RefreshToken, "the fake issues refresh tokens only when asked to")
	assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)

	c := connect(t, srv, cfg.TokenSource(ctx, tok))
	created, err := c.Tickets.Create(ctx, ticketParams("After login"))
	require.NoError(t, err)
	got, err := c.Tickets.List(ctx)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, created.ID, got[0].ID)
	_, err = c.Leads.List(ctx)
	assert.ErrorIs(t, err, blueclerk.ErrInsufficientScope, "leads.read was not asked for")

	// The code is single-use: presenting it again fails, and revokes the
	// token it bought.
	_, err = sess.Exchange(ctx, cfg, callback)
	var ae *blueclerk.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_grant", ae.Code)
	assert.ErrorIs(t, err, blueclerk.ErrUnauthorized)
	noSecrets(t, err)
	_, err = c.Tickets.List(ctx)
	assert.ErrorIs(t, err, blueclerk.ErrUnauthorized)
}

// testLoopbackLogin logs in with LoopbackLogin; its open func plays the
// browser, following the redirect to the loopback listener.
func testLoopbackLogin(t *testing.T) {
	srv := fake(t, withApp())
	cfg := appConfig(srv, "http://127.0.0.1:0/callback", blueclerk.ScopeLeadsRead)
	var page string
	tok, err := blueclerk.LoopbackLogin(t.Context(), cfg, func(authURL string) error {
		assert.True(t, strings.HasPrefix(authURL, srv.URL+"/oauth/authorize?"), authURL)
		assert.Contains(t, authURL, "prompt=consent", "extra authorization parameters are sent")
		resp, err := browser(t, true).Get(authURL)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		page = string(b)
		return err
	}, oauth2.SetAuthURLParam("prompt", "consent"))
	require.NoError(t, err)
	assert.Contains(t, page, "Logged in", "the browser is told the login is done")
	assert.Equal(t, "leads.read", tok.Extra("scope"))

	leads, err := connect(t, srv, cfg.TokenSource(t.Context(), tok)).Leads.List(t.Context())
	require.NoError(t, err)
	assert.Len(t, leads, 3)
}

// testPersistentTokens keeps a login's token in a file and renews it with
// the refresh token, which the fake rotates.
func testPersistentTokens(t *testing.T) {
	srv := fake(t, withApp(), blueclerktest.WithRefreshTokens())
	ctx := t.Context()
	cfg := appConfig(srv, appRedirect, blueclerk.ScopeTicketsRead)
	tok := login(t, srv, cfg)
	require.NotEmpty(t, tok.RefreshToken)

	// The saved token looks expired, so the first call renews it.
	stale := &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	store := blueclerk.NewFileTokenStore(filepath.Join(t.TempDir(), "token.json"))
	require.NoError(t, store.Save(ctx, stale))
	c := connect(t, srv, blueclerk.PersistentTokenSource(ctx, cfg, store))
	for range 3 {
		_, err := c.Tickets.List(ctx)
		require.NoError(t, err)
	}
	assert.Equal(t, 2, srv.Requests(http.MethodPost, "/oauth/token"), "the code's exchange, then one refresh")
	saved, err := store.Load(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, tok.AccessToken, saved.AccessToken)
	assert.NotEqual(t, tok.RefreshToken, saved.RefreshToken, "the rotated refresh token is saved")
	assert.WithinDuration(t, time.Now().Add(time.Hour), saved.Expiry, time.Minute)

	// The first refresh token was rotated away: a program still holding it
	// must log in again, and is told so without sending anything.
	old := blueclerk.NewFileTokenStore(filepath.Join(t.TempDir(), "old.json"))
	require.NoError(t, old.Save(ctx, stale))
	_, err = connect(t, srv, blueclerk.PersistentTokenSource(ctx, cfg, old)).Tickets.List(ctx)
	require.ErrorIs(t, err, blueclerk.ErrUnauthorized)
	var ae *blueclerk.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_grant", ae.Code)
	noSecrets(t, err)
	assert.Equal(t, 3, srv.Requests(http.MethodGet, "/api/v1/tickets"))
}

// rewriteBody replaces the body of every POST before it leaves, so that the
// server's own validation answers a request the client would not send.
type rewriteBody struct{ body string }

func (rw rewriteBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(strings.NewReader(rw.body))
		r.ContentLength = int64(len(rw.body))
		r.GetBody = nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// testErrors causes every error the server can cause, and the client's own
// refusals, and checks the sentinels each matches.
func testErrors(t *testing.T) {
	list := func(c *blueclerk.Client) error { _, err := c.Leads.List(context.Background()); return err }
	create := func(c *blueclerk.Client) error {
		_, err := c.Tickets.Create(context.Background(), ticketParams("Leaky faucet"))
		return err
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T) error // causes the error and checks what else it should
		is   []error
		not  []error
	}{
		{name: "unknown token", is: []error{blueclerk.ErrUnauthorized}, not: []error{blueclerk.ErrForbidden}, run: func(t *testing.T) error {
			srv := fake(t)
			err := list(connect(t, srv, static(&oauth2.Token{AccessToken: "at_NOTISSUEDNOTISSUEDNOTISSUE"})))
			var e *blueclerk.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "invalid_token", e.Code)
			assert.NotEmpty(t, e.RequestID)
			return err
		}},
		{name: "expired token", is: []error{blueclerk.ErrUnauthorized}, run: func(t *testing.T) error {
			clk := newClock()
			srv := fake(t, blueclerktest.WithClock(clk.Now))
			c := connect(t, srv, static(srv.IssueToken()))
			require.NoError(t, list(c))
			clk.Advance(61 * time.Minute)
			err := list(c)
			var e *blueclerk.Error
			require.ErrorAs(t, err, &e)
			assert.Contains(t, e.Message, "expired")
			return err
		}},
		{name: "FREE plan at the API", is: []error{blueclerk.ErrForbidden, blueclerk.ErrPlanRequired}, run: func(t *testing.T) error {
			srv := fake(t, blueclerktest.WithPlan(blueclerk.PlanFree))
			err := list(connect(t, srv, static(srv.IssueToken())))
			assert.Equal(t, 1, srv.Requests(http.MethodGet, "/api/v1/leads"))
			return err
		}},
		{name: "FREE plan known to the client", is: []error{blueclerk.ErrPlanRequired}, run: func(t *testing.T) error {
			srv := fake(t, blueclerktest.WithPlan(blueclerk.PlanFree))
			err := create(connect(t, srv, static(srv.IssueToken()), blueclerk.WithPlan(blueclerk.PlanFree)))
			assert.Zero(t, srv.Requests(http.MethodPost, "/api/v1/tickets"), "refused without sending")
			return err
		}},
		{name: "FREE plan at authorize", is: []error{blueclerk.ErrPlanRequired, blueclerk.ErrForbidden}, run: func(t *testing.T) error {
			srv := fake(t, withApp(), blueclerktest.WithPlan(blueclerk.PlanFree))
			cfg := appConfig(srv, appRedirect, blueclerk.ScopeLeadsRead)
			sess, err := blueclerk.NewAuthSession(cfg)
			require.NoError(t, err)
			callback := authorize(t, srv, sess.URL)
			assert.Equal(t, "plan_required", callback.Get("error"))
			_, err = sess.Exchange(t.Context(), cfg, callback)
			assert.Zero(t, srv.Requests(http.MethodPost, "/oauth/token"))
			return err
		}},
		{name: "FREE plan at authorize, loopback login", is: []error{blueclerk.ErrPlanRequired}, run: func(t *testing.T) error {
			srv := fake(t, withApp(), blueclerktest.WithPlan(blueclerk.PlanFree))
			_, err := blueclerk.LoopbackLogin(t.Context(), appConfig(srv, "", blueclerk.ScopeLeadsRead), func(authURL string) error {
				resp, err := browser(t, true).Get(authURL)
				if err == nil {
					resp.Body.Close()
					assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "the browser is told the login failed")
				}
				return err
			})
			return err
		}},
		{name: "consent denied", is: []error{blueclerk.ErrForbidden}, not: []error{blueclerk.ErrPlanRequired}, run: func(t *testing.T) error {
			srv := fake(t, withApp(), blueclerktest.WithConsentDenied())
			cfg := appConfig(srv, appRedirect, blueclerk.ScopeLeadsRead)
			sess, err := blueclerk.NewAuthSession(cfg)
			require.NoError(t, err)
			_, err = sess.Exchange(t.Context(), cfg, authorize(t, srv, sess.URL))
			return err
		}},
		{name: "insufficient scope", is: []error{blueclerk.ErrForbidden, blueclerk.ErrInsufficientScope}, run: func(t *testing.T) error {
			srv := fake(t)
			err := create(connect(t, srv, static(srv.IssueToken(blueclerk.ScopeTicketsRead))))
			assert.Empty(t, srv.Tickets())
			return err
		}},
		{name: "not found", is: []error{blueclerk.ErrNotFound}, run: func(t *testing.T) error {
			srv := fake(t)
			c, err := blueclerk.NewClient(static(srv.IssueToken()), blueclerk.WithBaseURL(srv.URL+"/v0"))
			require.NoError(t, err)
			return list(c)
		}},
		{name: "invalid request, 422 from the server", is: []error{blueclerk.ErrInvalidRequest}, run: func(t *testing.T) error {
			srv := fake(t)
			err := create(connect(t, srv, static(srv.IssueToken()),
				blueclerk.WithHTTPClient(&http.Client{Transport: rewriteBody{`{"description":"no customer"}`}})))
			var e *blueclerk.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, http.StatusUnprocessableEntity, e.StatusCode)
			assert.Equal(t, "invalid_request", e.Code)
			assert.Equal(t, "customerId is required", e.Message)
			assert.Empty(t, srv.Tickets())
			return err
		}},
		{name: "invalid request, 400 from the server", is: []error{blueclerk.ErrInvalidRequest}, run: func(t *testing.T) error {
			srv := fake(t)
			err := create(connect(t, srv, static(srv.IssueToken()),
				blueclerk.WithHTTPClient(&http.Client{Transport: rewriteBody{`["not an object"]`}})))
			var e *blueclerk.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, http.StatusBadRequest, e.StatusCode)
			return err
		}},
		{name: "invalid request, refused by the client", is: []error{blueclerk.ErrInvalidRequest}, run: func(t *testing.T) error {
			srv := fake(t)
			_, err := connect(t, srv, static(srv.IssueToken())).Tickets.Create(t.Context(), &blueclerk.CreateTicketParams{Description: "no customer"})
			assert.Zero(t, srv.Requests(http.MethodPost, "/api/v1/tickets"))
			return err
		}},
		{name: "rate limited by the server", is: []error{blueclerk.ErrRateLimited}, run: func(t *testing.T) error {
			srv := fake(t, blueclerktest.WithHourlyLimit(1), blueclerktest.WithClock(newClock().Now))
			require.NoError(t, list(connect(t, srv, static(srv.IssueToken())))) // another client spends the budget
			err := list(connect(t, srv, static(srv.IssueToken()), blueclerk.WithRateLimitWait(0)))
			var rl *blueclerk.RateLimitError
			require.ErrorAs(t, err, &rl)
			require.NotNil(t, rl.Err, "the 429 answer")
			assert.Equal(t, http.StatusTooManyRequests, rl.Err.StatusCode)
			// Retry-After says 30 minutes; the budget's reset, by the fake's
			// clock, is later, and the later of the two is the wait.
			assert.GreaterOrEqual(t, rl.RetryAfter, 30*time.Minute)
			assert.InDelta(t, time.Until(rl.RateLimit.Reset), rl.RetryAfter, float64(2*time.Second), "the wait is the reset's")
			assert.Equal(t, 0, rl.RateLimit.Remaining)
			assert.Equal(t, 2, srv.Requests(http.MethodGet, "/api/v1/leads"), "a Retry-After beyond WithRateLimitWait is not waited for")
			return err
		}},
		{name: "rate limited by the client", is: []error{blueclerk.ErrRateLimited}, run: func(t *testing.T) error {
			srv := fake(t, blueclerktest.WithHourlyLimit(1), blueclerktest.WithClock(newClock().Now))
			c := connect(t, srv, static(srv.IssueToken()))
			require.NoError(t, list(c))
			err := list(c)
			var rl *blueclerk.RateLimitError
			require.ErrorAs(t, err, &rl)
			assert.Nil(t, rl.Err, "nothing was sent")
			assert.Equal(t, 1, srv.Requests(http.MethodGet, "/api/v1/leads"))
			return err
		}},
		{name: "server error on a read", is: []error{blueclerk.ErrServer}, not: []error{blueclerk.ErrOutcomeUnknown}, run: func(t *testing.T) error {
			srv := fake(t)
			for range 4 {
				srv.InjectFault(http.MethodGet, "/api/v1/leads", blueclerktest.Fault{Kind: blueclerktest.FaultServerError})
			}
			err := list(connect(t, srv, static(srv.IssueToken())))
			assert.Equal(t, 4, srv.Requests(http.MethodGet, "/api/v1/leads"), "a read is tried 1 + 3 times")
			return err
		}},
		{name: "server error on a write", is: []error{blueclerk.ErrServer, blueclerk.ErrOutcomeUnknown}, run: func(t *testing.T) error {
			srv := fake(t)
			srv.InjectFault(http.MethodPost, "/api/v1/tickets", blueclerktest.Fault{Kind: blueclerktest.FaultServerError})
			err := create(connect(t, srv, static(srv.IssueToken())))
			assert.Len(t, srv.Tickets(), 1, "the fault came after the ticket was stored")
			assert.Equal(t, 1, srv.Requests(http.MethodPost, "/api/v1/tickets"), "a write that may have happened is not repeated")
			return err
		}},
		{name: "answer of a write lost", is: []error{blueclerk.ErrOutcomeUnknown}, not: []error{blueclerk.ErrServer}, run: func(t *testing.T) error {
			srv := fake(t)
			srv.InjectFault(http.MethodPost, "/api/v1/tickets", blueclerktest.Fault{Kind: blueclerktest.FaultDropResponse})
			err := create(connect(t, srv, static(srv.IssueToken())))
			assert.Len(t, srv.Tickets(), 1)
			assert.Equal(t, 1, srv.Requests(http.MethodPost, "/api/v1/tickets"))
			return err
		}},
		{name: "connection of a write reset", is: []error{blueclerk.ErrOutcomeUnknown}, run: func(t *testing.T) error {
			srv := fake(t)
			srv.InjectFault(http.MethodPost, "/api/v1/tickets", blueclerktest.Fault{Kind: blueclerktest.FaultResetConnection})
			err := create(connect(t, srv, static(srv.IssueToken())))
			assert.Len(t, srv.Tickets(), 1)
			assert.Equal(t, 1, srv.Requests(http.MethodPost, "/api/v1/tickets"))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.run(t)
			require.Error(t, err)
			for _, target := range tc.is {
				assert.ErrorIs(t, err, target)
			}
			for _, target := range tc.not {
				assert.NotErrorIs(t, err, target)
			}
			noSecrets(t, err)
		})
	}

	// A write that surely did not happen is retried, and happens once.
	t.Run("write retried after 503 and 429", func(t *testing.T) {
		t.Parallel()
		srv := fake(t)
		srv.InjectFault(http.MethodPost, "/api/v1/tickets",
			blueclerktest.Fault{Kind: blueclerktest.FaultUnavailable}, blueclerktest.Fault{Kind: blueclerktest.FaultTooManyRequests})
		require.NoError(t, create(connect(t, srv, static(srv.IssueToken()))))
		assert.Len(t, srv.Tickets(), 1)
		assert.Equal(t, 3, srv.Requests(http.MethodPost, "/api/v1/tickets"))
	})
}

// testBudget: a STARTER client makes its 100 calls of the hour, then
// refuses the 101st without sending it.
func testBudget(t *testing.T) {
	clk := newClock()
	srv := fake(t, blueclerktest.WithPlan(blueclerk.PlanStarter), blueclerktest.WithClock(clk.Now))
	c := connect(t, srv, static(srv.IssueToken()), blueclerk.WithPlan(blueclerk.PlanStarter))
	for i := range 100 {
		_, err := c.Leads.List(t.Context())
		require.NoError(t, err, "call %d", i+1)
	}
	_, err := c.Leads.List(t.Context())
	require.ErrorIs(t, err, blueclerk.ErrRateLimited)
	var rl *blueclerk.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Nil(t, rl.Err, "refused without sending")
	assert.Equal(t, 100, srv.Requests(http.MethodGet, "/api/v1/leads"))

	reset := clk.Now().Truncate(time.Hour).Add(time.Hour)
	got := c.RateLimit()
	assert.Equal(t, blueclerk.PlanStarter, got.Plan)
	assert.Equal(t, 100, got.Limit)
	assert.Equal(t, 0, got.Remaining)
	assert.True(t, got.Reset.Equal(reset), "reset %v, want %v", got.Reset, reset)
	assert.True(t, rl.RateLimit.Reset.Equal(reset), "the error's reset %v", rl.RateLimit.Reset)
}

// testWebhooks receives the events of creates and of Emit on a loopback
// receiver, verifies them with WebhookVerifier and decodes them.
func testWebhooks(t *testing.T) {
	secret := blueclerktest.NewWebhookSecret()
	v, err := blueclerk.NewWebhookVerifier(secret)
	require.NoError(t, err)
	var mu sync.Mutex
	events := map[blueclerk.EventType][]*blueclerk.Event{}
	recv := httptest.NewServer(v.Handler(func(_ context.Context, e *blueclerk.Event) error {
		mu.Lock()
		defer mu.Unlock()
		events[e.Type] = append(events[e.Type], e)
		return nil
	}))
	received := func() map[blueclerk.EventType][]*blueclerk.Event {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(events)
	}
	t.Cleanup(recv.Close)
	srv := fake(t, blueclerktest.WithWebhook(recv.URL+"/webhooks", secret))
	c := connect(t, srv, static(srv.IssueToken()))
	ctx := t.Context()

	tk, err := c.Tickets.Create(ctx, ticketParams("Leaky faucet"))
	require.NoError(t, err)
	job, err := c.Jobs.Create(ctx, &blueclerk.CreateJobParams{TicketID: tk.ID, ScheduledDate: time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)})
	require.NoError(t, err)
	inv, err := c.Invoices.Create(ctx, &blueclerk.CreateInvoiceParams{CustomerID: "cust_123", DueDate: blueclerk.Date{Year: 2024, Month: time.March, Day: 1},
		LineItems: []blueclerk.InvoiceLineItem{{ItemID: "item_1", Quantity: dec("2"), UnitPrice: dec("49.95")}}})
	require.NoError(t, err)
	est, err := c.Estimates.Create(ctx, &blueclerk.CreateEstimateParams{CustomerID: "cust_123",
		LineItems: []blueclerk.EstimateLineItem{{Description: "Labor", Quantity: dec("1.5"), UnitPrice: dec("80")}}})
	require.NoError(t, err)
	for _, e := range []struct {
		typ blueclerk.EventType
		id  string
	}{
		{blueclerk.EventTicketUpdated, tk.ID},
		{blueclerk.EventJobCompleted, job.ID},
		{blueclerk.EventInvoiceSent, inv.ID},
		{blueclerk.EventInvoicePaid, inv.ID},
		{blueclerk.EventEstimateApproved, est.ID},
	} {
		require.NoError(t, srv.Emit(e.typ, e.id))
	}
	require.Error(t, srv.Emit(blueclerk.EventJobCompleted, "job_missing"))

	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitDeliveries(wait))
	deliveries := srv.Deliveries()
	require.Len(t, deliveries, 7, "2 creates that fire events, 5 emitted")
	got := received()
	for _, d := range deliveries {
		assert.True(t, d.Delivered, "%s: %v", d.Event, d.Err)
		assert.Equal(t, 1, d.Attempts, "%s", d.Event)
		require.Len(t, got[d.Event], 1, "%s received once", d.Event)
		assert.Equal(t, d.ID, got[d.Event][0].ID, "Event.ID is the webhook-id")
	}
	event := func(typ blueclerk.EventType) *blueclerk.Event { return got[typ][0] }

	for typ, status := range map[blueclerk.EventType]blueclerk.TicketStatus{
		blueclerk.EventTicketCreated: blueclerk.TicketStatusOpen,
		blueclerk.EventTicketUpdated: blueclerk.TicketStatusInProgress,
	} {
		data, err := event(typ).Ticket()
		require.NoError(t, err)
		assert.Equal(t, tk.ID, data.ID)
		assert.Equal(t, status, data.Status, "%s", typ)
	}
	for typ, status := range map[blueclerk.EventType]blueclerk.JobStatus{
		blueclerk.EventJobCreated:   blueclerk.JobStatusScheduled,
		blueclerk.EventJobCompleted: blueclerk.JobStatusCompleted,
	} {
		data, err := event(typ).Job()
		require.NoError(t, err)
		assert.Equal(t, job.ID, data.ID)
		assert.Equal(t, tk.ID, data.TicketID)
		assert.Equal(t, status, data.Status, "%s", typ)
	}
	for typ, status := range map[blueclerk.EventType]blueclerk.InvoiceStatus{
		blueclerk.EventInvoiceSent: blueclerk.InvoiceStatusSent,
		blueclerk.EventInvoicePaid: blueclerk.InvoiceStatusPaid,
	} {
		data, err := event(typ).Invoice()
		require.NoError(t, err)
		assert.Equal(t, inv.ID, data.ID)
		assert.Equal(t, status, data.Status, "%s", typ)
		assert.True(t, data.LineItems[0].UnitPrice.Equal(dec("49.95")), "%s", typ)
	}
	approved, err := event(blueclerk.EventEstimateApproved).Estimate()
	require.NoError(t, err)
	assert.Equal(t, est.ID, approved.ID)
	assert.Equal(t, blueclerk.EstimateStatusApproved, approved.Status)
	assert.True(t, approved.LineItems[0].Quantity.Equal(dec("1.5")))

	_, err = event(blueclerk.EventJobCreated).Ticket()
	assert.Error(t, err, "a job event carries no ticket")

	// What the events said happened is what the API now reports.
	invoices, err := c.Invoices.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, blueclerk.InvoiceStatusPaid, invoices[0].Status)

	// A delivery signed with another secret is refused, and fn not run.
	body := []byte(`{"event":"ticket.created","timestamp":"2024-01-15T10:30:00Z","data":{}}`)
	now := time.Now()
	sig, err := blueclerk.SignWebhook(blueclerktest.NewWebhookSecret(), "msg_forged", now, body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, recv.URL+"/webhooks", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("webhook-id", "msg_forged")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := browser(t, false).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Len(t, received()[blueclerk.EventTicketCreated], 1)
}
