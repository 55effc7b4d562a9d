// Package blueclerktest provides an in-memory BlueClerk server for tests and
// examples, as net/http/httptest does for HTTP. [NewServer] starts it on a
// loopback port; a blueclerk.Client pointed at its URL talks to it over real
// HTTP:
//
//	srv := blueclerktest.NewServer()
//	defer srv.Close()
//	c, err := blueclerk.NewClient(oauth2.StaticTokenSource(srv.IssueToken()),
//		blueclerk.WithBaseURL(srv.URL))
//
// The server implements the BlueClerk Public API v1 as package blueclerk's
// design settles it: the OAuth 2.0 authorization code flow with PKCE
// (/oauth/authorize, /oauth/token), the thirteen API endpoints with bearer
// tokens and scopes, per-company hourly budgets with X-RateLimit-* headers,
// Idempotency-Key on writes, and webhooks signed per Standard Webhooks.
// Tests steer it with options ([WithPlan], [WithClock], …), seed and read
// what it stores ([Server.AddTicket], [Server.Tickets], …), play what happens
// in BlueClerk's own app ([Server.Emit]), inject faults ([Server.InjectFault],
// [WithRandomFaults]) and wait for webhook deliveries
// ([Server.WaitDeliveries]).
//
// A Server is safe for concurrent use. It is a fake: it keeps everything in
// memory, trusts its loopback callers, and must not face a network.
//
// The package also states, as conformance tests any implementation can
// run, the contracts of the parts of the SDK an integration may replace:
// [TestLimiter] for a [blueclerk.Limiter], [TestTokenStore] for a
// [blueclerk.TokenStore] and [TestDeliveryStore] for a
// [blueclerk.DeliveryStore].
package blueclerktest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// Server is an in-memory BlueClerk server listening on loopback. Create it
// with [NewServer] and stop it with [Server.Close].
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:port, for
	// blueclerk.WithBaseURL; OAuth lives under URL+"/oauth".
	URL string

	cfg       config
	hs        *httptest.Server
	ctx       context.Context // ends when Close begins
	cancel    context.CancelFunc
	closeOnce sync.Once

	company *company
	oauth   oauthState
	hooks   hooks
	faults  faults

	mu       sync.Mutex
	requests map[string]int // "METHOD /path" → requests received
}

// NewServer starts a server configured by opts, on 127.0.0.1 with a random
// port unless [WithListener] gives another listener. The company is on
// [blueclerk.PlanPro] unless [WithPlan] says otherwise and holds a few sample
// leads. Like httptest.NewServer, it panics if it cannot listen on loopback.
// Call Close when done.
func NewServer(opts ...Option) *Server {
	cfg := config{plan: blueclerk.PlanPro, clock: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.clock == nil {
		cfg.clock = time.Now
	}
	s := &Server{cfg: cfg, requests: make(map[string]int)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.company = newCompany("company_1", cfg.plan, cfg.hourlyLimit)
	s.company.store.addSampleLeads()
	s.oauth.init(cfg.clients)
	s.hooks.init(cfg.webhooks)
	s.faults.init(cfg.faultSeed, cfg.faultRates)

	s.hs = httptest.NewUnstartedServer(s.handler(s.routes()))
	if cfg.listener != nil {
		_ = s.hs.Listener.Close()
		s.hs.Listener = cfg.listener
	}
	s.hs.Config.BaseContext = func(net.Listener) context.Context { return s.ctx }
	s.hs.Start()
	s.URL = s.hs.URL
	return s
}

// Close stops the server: it cancels fault delays and webhook deliveries in
// progress, waits for the requests and deliveries in flight to end, and
// closes every connection. Close returns promptly and may be called more
// than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.hs.Close()
		s.hooks.close()
	})
}

// now is the server's clock.
func (s *Server) now() time.Time { return s.cfg.clock() }

// routes maps every path the server answers.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth/authorize", s.authorize)
	mux.HandleFunc("/oauth/token", s.token)
	mux.HandleFunc("/api", docs)
	for _, res := range resources {
		mux.Handle(apiPrefix+"/"+res.name, s.endpoint(res))
	}
	if s.cfg.control {
		mux.Handle(controlPrefix, s.control())
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.URL.Path)
	})
	return mux
}

// handler gives every answer an X-Request-Id, counts the request and serves
// it through any fault injected for it.
func (s *Server) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req_"+rand.Text())
		s.mu.Lock()
		s.requests[r.Method+" "+r.URL.Path]++
		s.mu.Unlock()
		if f, i, ok := s.faults.pick(r); ok {
			s.faults.serve(w, r, f, i, next)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Requests returns how many requests with method and path (such as "POST",
// "/api/v1/tickets"; no query) the server has received, faulted ones
// included.
func (s *Server) Requests(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method+" "+path]
}

// answer is a JSON answer built before it is written, so that it can be
// kept and replayed for a repeated Idempotency-Key.
type answer struct {
	status int
	header http.Header // extra headers, or nil
	body   []byte
}

// jsonAnswer encodes v as the answer's body.
func jsonAnswer(status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		return answer{status: http.StatusInternalServerError,
			body: []byte(`{"error":"internal_error","message":"encoding the answer failed"}` + "\n")}
	}
	return answer{status: status, body: append(b, '\n')}
}

// write sends the answer.
func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// apiError is the body of every error answer of the API.
type apiError struct {
	Code    string `json:"error"`
	Message string `json:"message,omitempty"`
}

// writeError answers status with {"error": code, "message": message}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	jsonAnswer(status, apiError{code, message}).write(w)
}

// docs redirects GET /api to the public API documentation.
func docs(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	http.Redirect(w, r, blueclerk.DocsURL, http.StatusFound)
}

// methodNotAllowed answers 405 naming the allowed methods.
func methodNotAllowed(w http.ResponseWriter, allowed string) {
	w.Header().Set("Allow", allowed)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "allowed: "+allowed)
}
