package blueclerktest

import (
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is what goes wrong with a request. [FaultKind.Done] says whether
// the request is carried out all the same.
type FaultKind int

const (
	// FaultNone lets the request through; with [Fault.Delay] it is only slow.
	FaultNone FaultKind = iota
	// FaultUnavailable answers 503 with Retry-After without handling the
	// request: nothing was done.
	FaultUnavailable
	// FaultTooManyRequests answers 429 with Retry-After without handling the
	// request: nothing was done.
	FaultTooManyRequests
	// FaultServerError handles the request, then answers 500 instead of its
	// answer: it was done, as far as the handler got.
	FaultServerError
	// FaultDropResponse handles the request, then closes the connection
	// without answering: it was done, and the client sees the connection
	// end.
	FaultDropResponse
	// FaultResetConnection handles the request, then resets the connection
	// (TCP RST): it was done, and the client sees "connection reset".
	FaultResetConnection
)

var faultNames = [...]string{"none", "503 unavailable", "429 too many requests", "500 server error",
	"response dropped", "connection reset"}

// String names the fault, such as "response dropped".
func (k FaultKind) String() string {
	if k >= 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Done reports whether a request meeting this fault is handled all the same
// (a create happens): false for FaultUnavailable and FaultTooManyRequests,
// true otherwise.
func (k FaultKind) Done() bool { return k != FaultUnavailable && k != FaultTooManyRequests }

// Fault is one injected failure.
type Fault struct {
	Kind FaultKind
	// Delay is waited before anything else happens. It ends early when the
	// client goes away or the server closes; the request is then not
	// handled.
	Delay time.Duration
	// RetryAfter is sent with 503 and 429, in whole seconds rounded up; the
	// zero value sends "Retry-After: 0".
	RetryAfter time.Duration
}

// FaultRates are the chances, each from 0 to 1, that an API request meets
// each fault in [WithRandomFaults]. They are drawn in the order listed; if
// they add up to more than 1, the later ones are cut short.
type FaultRates struct {
	Unavailable     float64       // 503 with Retry-After; nothing done
	TooManyRequests float64       // 429 with Retry-After; nothing done
	ServerError     float64       // handled, then 500
	DropResponse    float64       // handled, then no answer
	ResetConnection float64       // handled, then connection reset
	Slow            float64       // answered normally after SlowDelay
	SlowDelay       time.Duration // the delay of a slow answer
	RetryAfter      time.Duration // Retry-After of 503 and 429
}

// FaultRecord is one fault the server injected, as [Server.Faults] reports
// it.
type FaultRecord struct {
	Method, Path string
	Fault        Fault
	// Done reports whether the request was handled, so that a write
	// happened unless Status says the handler refused it.
	Done bool
	// Status is the handler's status when Done (201 for a create that
	// happened), else the status injected (503, 429) or 0.
	Status int
}

// faults holds queued and random faults and the record of those injected.
type faults struct {
	mu     sync.Mutex
	queued map[string][]Fault // "METHOD /path" → faults to serve in order
	rng    *rand.Rand
	rates  FaultRates
	log    []FaultRecord
}

func (fs *faults) init(seed uint64, rates *FaultRates) {
	fs.queued = make(map[string][]Fault)
	if rates != nil {
		fs.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		fs.rates = *rates
	}
}

// InjectFault queues faults for the next requests with method and path
// (such as "POST", "/api/v1/tickets"): the next such request meets the first
// fault, the one after the second, and so on; then requests are served
// normally again. Any path may be faulted, /oauth/token included.
func (s *Server) InjectFault(method, path string, faults ...Fault) {
	fs := &s.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	key := method + " " + path
	fs.queued[key] = append(fs.queued[key], faults...)
}

// Faults returns the faults injected so far, in the order requests met them.
func (s *Server) Faults() []FaultRecord {
	fs := &s.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]FaultRecord{}, fs.log...)
}

// pick returns the fault r meets, if any, recorded in the order requests
// arrive; serve completes the record at index i.
func (fs *faults) pick(r *http.Request) (f Fault, i int, ok bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok = fs.choose(r)
	if !ok {
		return f, 0, false
	}
	fs.log = append(fs.log, FaultRecord{Method: r.Method, Path: r.URL.Path, Fault: f})
	return f, len(fs.log) - 1, true
}

// choose returns a queued fault for r first, else a random one for an API
// request. The caller holds fs.mu.
func (fs *faults) choose(r *http.Request) (Fault, bool) {
	key := r.Method + " " + r.URL.Path
	if q := fs.queued[key]; len(q) > 0 {
		fs.queued[key] = q[1:]
		return q[0], true
	}
	if fs.rng == nil || !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
		return Fault{}, false
	}
	x := fs.rng.Float64()
	rt := fs.rates
	for _, c := range []struct {
		rate float64
		kind FaultKind
	}{
		{rt.Unavailable, FaultUnavailable}, {rt.TooManyRequests, FaultTooManyRequests},
		{rt.ServerError, FaultServerError}, {rt.DropResponse, FaultDropResponse},
		{rt.ResetConnection, FaultResetConnection},
	} {
		if x < c.rate {
			return Fault{Kind: c.kind, RetryAfter: rt.RetryAfter}, true
		}
		x -= c.rate
	}
	if x < rt.Slow {
		return Fault{Delay: rt.SlowDelay}, true
	}
	return Fault{}, false
}

// serve answers r as fault f says, handling it with next when f is Done.
// It completes record i before the client can see the outcome.
func (fs *faults) serve(w http.ResponseWriter, r *http.Request, f Fault, i int, next http.Handler) {
	settle := func(done bool, status int) {
		fs.mu.Lock()
		fs.log[i].Done, fs.log[i].Status = done, status
		fs.mu.Unlock()
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch f.Kind {
	case FaultUnavailable, FaultTooManyRequests:
		status, code := http.StatusServiceUnavailable, "unavailable"
		if f.Kind == FaultTooManyRequests {
			status, code = http.StatusTooManyRequests, "rate_limited"
		}
		settle(false, status)
		w.Header().Set("Retry-After", seconds(f.RetryAfter))
		writeError(w, status, code, "injected fault: nothing was done; retry after Retry-After")
		return
	}
	// The handler answers into a recorder, so that its answer can be
	// replaced or withheld.
	rr := httptest.NewRecorder()
	next.ServeHTTP(rr, r)
	settle(true, rr.Code)
	switch f.Kind {
	case FaultServerError:
		writeError(w, http.StatusInternalServerError, "internal_error", "injected fault: the request was handled, then the server failed")
	case FaultDropResponse, FaultResetConnection:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal_error", "injected fault: the connection could not be taken over")
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok && f.Kind == FaultResetConnection {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	default:
		for k, v := range rr.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rr.Code)
		_, _ = w.Write(rr.Body.Bytes())
	}
}
