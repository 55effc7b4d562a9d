package blueclerktest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const (
	apiPrefix = "/api/v1"
	// maxBody bounds a create request's body.
	maxBody = 1 << 20
)

// endpoint serves one resource's path: GET lists, POST creates.
func (s *Server) endpoint(res *resource) http.Handler {
	allowed := http.MethodGet
	if res.create != nil {
		allowed += ", " + http.MethodPost
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet:
			if c := s.admit(w, r, res.read); c != nil {
				s.list(w, r, c, res)
			}
		case r.Method == http.MethodPost && res.create != nil:
			if c := s.admit(w, r, res.write); c != nil {
				s.create(w, r, c, res)
			}
		default:
			methodNotAllowed(w, allowed)
		}
	})
}

// admit lets an API request through, or refuses it with the answer written:
// 401 for a missing, unknown or expired token; 403 plan_required for a
// company without a paid plan; 429 when the hourly budget is spent (not
// counted); 403 insufficient_scope when the token lacks scope. Every request
// it counts gets the budget headers.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, scope string) *company {
	now := s.now()
	g, problem := s.oauth.lookup(bearerToken(r), now)
	if g == nil {
		challenge := `Bearer realm="blueclerk"`
		if problem != errNoToken {
			// RFC 6750 §3.1: a request without credentials gets no error code.
			challenge += `, error="invalid_token", error_description="` + problem.Error() + `"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, http.StatusUnauthorized, "invalid_token", problem.Error()+"; log in again")
		return nil
	}
	c := g.company
	if c.plan.HourlyLimit() == 0 {
		writeError(w, http.StatusForbidden, "plan_required",
			"the Public API requires a paid plan (STARTER, PRO or HIGH); upgrade the company's plan")
		return nil
	}
	win, ok := c.budget.take(now)
	win.setHeaders(w.Header())
	if !ok {
		w.Header().Set("Retry-After", seconds(win.reset.Sub(now)))
		writeError(w, http.StatusTooManyRequests, "rate_limited",
			fmt.Sprintf("the hourly budget of %d requests is spent; it renews at %s", win.limit, win.reset.UTC().Format("15:04:05 MST")))
		return nil
	}
	if !slices.Contains(g.scopes, scope) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="blueclerk", error="insufficient_scope", scope="`+scope+`"`)
		writeError(w, http.StatusForbidden, "insufficient_scope", "this endpoint needs the "+scope+" scope")
		return nil
	}
	return c
}

// bearerToken returns the token of an "Authorization: Bearer" header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// list answers {"<name>": [...]}, a page at a time when paging is on.
func (s *Server) list(w http.ResponseWriter, r *http.Request, c *company, res *resource) {
	c.store.mu.Lock()
	rows := res.list(&c.store)
	c.store.mu.Unlock()

	if size := s.cfg.pageSize; size > 0 {
		page := 1
		if v := r.URL.Query().Get("page"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				writeError(w, http.StatusBadRequest, "invalid_request", "page must be a positive integer")
				return
			}
			page = n
		}
		start := min((page-1)*size, len(rows))
		end := min(start+size, len(rows))
		if end < len(rows) {
			next := fmt.Sprintf("http://%s%s?page=%d", r.Host, r.URL.Path, page+1)
			w.Header().Set("Link", "<"+next+`>; rel="next"`)
		}
		rows = rows[start:end]
	}
	jsonAnswer(http.StatusOK, map[string][]any{res.name: rows}).write(w)
}

// create validates and stores the body's record, answering 201 with it; a
// POST with an Idempotency-Key runs once per key, unless
// WithoutIdempotencyKeys.
func (s *Server) create(w http.ResponseWriter, r *http.Request, c *company, res *resource) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 1 MiB")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "reading the body failed")
		return
	}
	write := func() answer { return s.store(c, res, body) }
	key := r.Header.Get("Idempotency-Key")
	if key == "" || s.cfg.ignoreIdempotency {
		write().write(w)
		return
	}
	if len(key) > maxIdempotencyKey {
		writeError(w, http.StatusBadRequest, "invalid_request", "Idempotency-Key is longer than 255 characters")
		return
	}
	ans, replayed := c.idem.do(key, fingerprint(r, body), s.now(), write)
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	ans.write(w)
}

// store decodes, validates and stores one record, delivers the event a
// create fires, and returns the answer.
func (s *Server) store(c *company, res *resource, body []byte) answer {
	rec, err := res.create(&c.store, body, s.now())
	if err != nil {
		if bad, ok := errors.AsType[*badRequest](err); ok {
			return jsonAnswer(bad.status, apiError{"invalid_request", bad.message})
		}
		return jsonAnswer(http.StatusInternalServerError, apiError{"internal_error", err.Error()})
	}
	if res.created != "" {
		s.deliver(res.created, rec)
	}
	if s.cfg.wrapCreated {
		return jsonAnswer(http.StatusCreated, map[string]any{res.single: rec})
	}
	return jsonAnswer(http.StatusCreated, rec)
}

// badRequest is a create body the API refuses: 400 when it is not a JSON
// object, 422 when a field is missing or invalid.
type badRequest struct {
	status  int
	message string
}

func (e *badRequest) Error() string { return e.message }

// invalid returns a 422 naming what is wrong.
func invalid(format string, args ...any) error {
	return &badRequest{http.StatusUnprocessableEntity, fmt.Sprintf(format, args...)}
}
