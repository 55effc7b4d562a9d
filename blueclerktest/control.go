package blueclerktest

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// controlPrefix is where control requests are served with [WithControl].
const controlPrefix = "/_fake/"

// maxControlBody bounds a control request's body.
const maxControlBody = 64 << 10

// WithControl makes the server answer control requests under /_fake/, so
// that a test in any language can steer it over plain HTTP as a Go test does
// with the Server's methods:
//
//	POST /_fake/emit        {"event": "invoice.paid", "id": "invoice_1"}        → Server.Emit
//	POST /_fake/faults      {"method": "POST", "path": "/api/v1/tickets",
//	                         "kind": "unavailable", "retryAfter": 2, "delay": 0.5} → Server.InjectFault
//	GET  /_fake/faults      the faults injected so far                          → Server.Faults
//	PUT  /_fake/budget      {"remaining": 0}                                     → Server.SetRemaining
//	GET  /_fake/budget      the company's budget as it stands
//	GET  /_fake/deliveries  every webhook delivery so far                       → Server.Deliveries
//
// Fault kinds are none, unavailable, too_many_requests, server_error,
// drop_response and reset_connection; delay and retryAfter are seconds.
// Answers are JSON; a request the server cannot carry out gets 400, 404 or
// 405 with {"error", "message"}. Control requests need no token and never
// count against the budget. A server without this option answers them 404,
// as the real API would.
func WithControl() Option {
	return func(c *config) { c.control = true }
}

// faultKindNames names each FaultKind in control requests and answers.
var faultKindNames = [...]string{
	FaultNone:            "none",
	FaultUnavailable:     "unavailable",
	FaultTooManyRequests: "too_many_requests",
	FaultServerError:     "server_error",
	FaultDropResponse:    "drop_response",
	FaultResetConnection: "reset_connection",
}

// faultKindName returns k's name in control answers.
func faultKindName(k FaultKind) string {
	if k >= 0 && int(k) < len(faultKindNames) {
		return faultKindNames[k]
	}
	return k.String()
}

// control serves the control requests of [WithControl].
func (s *Server) control() http.Handler {
	routes := map[string]map[string]http.HandlerFunc{
		"emit":       {http.MethodPost: s.controlEmit},
		"faults":     {http.MethodPost: s.controlInjectFault, http.MethodGet: s.controlFaults},
		"budget":     {http.MethodPut: s.controlSetBudget, http.MethodGet: s.controlBudget},
		"deliveries": {http.MethodGet: s.controlDeliveries},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods, ok := routes[strings.TrimPrefix(r.URL.Path, controlPrefix)]
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", "no such control request: "+r.URL.Path+
				"; see "+controlPrefix+"{emit,faults,budget,deliveries}")
			return
		}
		h, ok := methods[r.Method]
		if !ok {
			methodNotAllowed(w, strings.Join(slices.Sorted(maps.Keys(methods)), ", "))
			return
		}
		h(w, r)
	})
}

// decodeControl decodes a control request's JSON body into v, answering 400
// and returning false when it is not the object expected.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && !errors.Is(dec.Decode(new(json.RawMessage)), io.EOF) {
		err = errors.New("more than one JSON value")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body must be one JSON object: "+err.Error())
		return false
	}
	return true
}

// controlEmit serves POST /_fake/emit.
func (s *Server) controlEmit(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Event blueclerk.EventType `json:"event"`
		ID    string              `json:"id"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Event == "" || req.ID == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", `event and id are required, such as {"event": "invoice.paid", "id": "invoice_1"}`)
		return
	}
	if err := s.Emit(req.Event, req.ID); err != nil {
		writeError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	jsonAnswer(http.StatusOK, req).write(w)
}

// controlFault is a fault in control requests and answers.
type controlFault struct {
	Method     string  `json:"method"`
	Path       string  `json:"path"`
	Kind       string  `json:"kind"`
	Delay      float64 `json:"delay,omitempty"`      // seconds
	RetryAfter float64 `json:"retryAfter,omitempty"` // seconds
}

// controlInjectFault serves POST /_fake/faults.
func (s *Server) controlInjectFault(w http.ResponseWriter, r *http.Request) {
	var req controlFault
	if !decodeControl(w, r, &req) {
		return
	}
	kind := slices.Index(faultKindNames[:], req.Kind)
	switch {
	case req.Method == "" || !strings.HasPrefix(req.Path, "/"):
		writeError(w, http.StatusBadRequest, "invalid_request", `method and path are required, such as {"method": "POST", "path": "/api/v1/tickets", "kind": "unavailable"}`)
		return
	case kind < 0:
		writeError(w, http.StatusBadRequest, "invalid_request",
			"kind must be none, unavailable, too_many_requests, server_error, drop_response or reset_connection")
		return
	case req.Delay < 0 || req.RetryAfter < 0 || req.Delay > 3600 || req.RetryAfter > 3600:
		writeError(w, http.StatusBadRequest, "invalid_request", "delay and retryAfter are seconds, from 0 to 3600")
		return
	}
	s.InjectFault(strings.ToUpper(req.Method), req.Path, Fault{
		Kind:       FaultKind(kind),
		Delay:      fromSeconds(req.Delay),
		RetryAfter: fromSeconds(req.RetryAfter),
	})
	jsonAnswer(http.StatusOK, req).write(w)
}

// fromSeconds converts seconds to a Duration.
func fromSeconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// controlFaults serves GET /_fake/faults.
func (s *Server) controlFaults(w http.ResponseWriter, _ *http.Request) {
	type record struct {
		controlFault
		Done   bool `json:"done"`   // the request was handled
		Status int  `json:"status"` // the handler's status when done, else the status injected
	}
	out := []record{}
	for _, f := range s.Faults() {
		out = append(out, record{controlFault{
			Method: f.Method, Path: f.Path, Kind: faultKindName(f.Fault.Kind),
			Delay: f.Fault.Delay.Seconds(), RetryAfter: f.Fault.RetryAfter.Seconds(),
		}, f.Done, f.Status})
	}
	jsonAnswer(http.StatusOK, map[string]any{"faults": out}).write(w)
}

// controlBudgetAnswer is the budget as control answers report it.
type controlBudgetAnswer struct {
	Limit     int   `json:"limit"`
	Remaining int   `json:"remaining"`
	Reset     int64 `json:"reset"` // Unix seconds
}

func budgetAnswer(win window) answer {
	return jsonAnswer(http.StatusOK, controlBudgetAnswer{win.limit, win.remaining, win.reset.Unix()})
}

// controlSetBudget serves PUT /_fake/budget.
func (s *Server) controlSetBudget(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Remaining *int `json:"remaining"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Remaining == nil {
		writeError(w, http.StatusBadRequest, "invalid_request", `remaining is required, such as {"remaining": 0}`)
		return
	}
	budgetAnswer(s.company.budget.setRemaining(*req.Remaining, s.now())).write(w)
}

// controlBudget serves GET /_fake/budget, counting nothing.
func (s *Server) controlBudget(w http.ResponseWriter, _ *http.Request) {
	budgetAnswer(s.company.budget.current(s.now())).write(w)
}

// controlDeliveries serves GET /_fake/deliveries.
func (s *Server) controlDeliveries(w http.ResponseWriter, _ *http.Request) {
	type delivery struct {
		ID        string              `json:"id"`
		Event     blueclerk.EventType `json:"event"`
		URL       string              `json:"url"`
		Body      json.RawMessage     `json:"body"`
		Attempts  int                 `json:"attempts"`
		Status    int                 `json:"status"`
		Error     string              `json:"error,omitempty"`
		Delivered bool                `json:"delivered"`
	}
	out := []delivery{}
	for _, d := range s.Deliveries() {
		dd := delivery{ID: d.ID, Event: d.Event, URL: d.URL, Body: d.Body,
			Attempts: d.Attempts, Status: d.Status, Delivered: d.Delivered}
		if !json.Valid(d.Body) {
			dd.Body = nil
		}
		if d.Err != nil {
			dd.Error = d.Err.Error()
		}
		out = append(out, dd)
	}
	jsonAnswer(http.StatusOK, map[string]any{"deliveries": out}).write(w)
}
