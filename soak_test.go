package blueclerk_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

// The soak's shape: soakWorkers goroutines each create soakCreates tickets
// through one client while the server injects faults at soakRates.
const (
	soakWorkers = 16
	soakCreates = 125
	soakSeed    = 20260407
)

// soakRates: 20% 503 and 5% 429 (nothing done; "Retry-After: 0", which the
// client takes as no advice and spaces by its backoff), 5% answers dropped
// and 2% connections reset after the ticket was stored.
var soakRates = blueclerktest.FaultRates{
	Unavailable:     0.20,
	TooManyRequests: 0.05,
	DropResponse:    0.05,
	ResetConnection: 0.02,
}

// TestSoakFaults creates 2,000 tickets from 16 goroutines through one
// client with default options, over http.DefaultTransport, while about a
// third of the requests meet a fault. By default no ticket may be created
// twice and every write whose answer was lost must come back as
// ErrOutcomeUnknown, one for each fault the server injected after storing a
// ticket. With WithIdempotentRetries every ticket is created exactly once
// and no call fails. The retries' backoff is cut to a millisecond
// (FastRetries): with the SDK's own, 500 ms doubling with full jitter, the
// ~700 retries keep the slowest goroutine waiting from 30 s to over two
// minutes.
func TestSoakFaults(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		goleak.VerifyNone(t, ignore)
	})
	for _, tc := range []struct {
		name       string
		idempotent bool
	}{
		{"default", false},
		{"idempotent retries", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			soak(t, tc.idempotent)
		})
	}
}

// soakResult is what one call of the soak saw.
type soakResult struct {
	desc string
	id   string // the created ticket's ID when the call succeeded
	err  error
}

func soak(t *testing.T, idempotent bool) {
	start := time.Now()
	opts := []blueclerktest.Option{
		blueclerktest.WithPlan(blueclerk.PlanHigh),
		blueclerktest.WithHourlyLimit(100_000), // the budget is not what this test is about
		blueclerktest.WithRandomFaults(soakSeed, soakRates),
	}
	if !idempotent {
		// Whether the API honours Idempotency-Key is not documented: a
		// write sent twice must show as two tickets.
		opts = append(opts, blueclerktest.WithoutIdempotencyKeys())
	}
	srv := blueclerktest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := blueclerk.NewClient(oauth2.StaticTokenSource(srv.IssueToken(blueclerk.ScopeTicketsWrite)),
		blueclerk.WithBaseURL(srv.URL),
		blueclerk.WithMaxRetries(20), // 25-32% of attempts are retried: 21 in a row is never seen
		blueclerk.WithIdempotentRetries(idempotent))
	if err != nil {
		t.Fatal(err)
	}
	blueclerk.FastRetries(c)

	// Count the attempts sent on a kept-alive connection: only there would
	// net/http resend a write on its own.
	var attempts, reused atomic.Int64
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			attempts.Add(1)
			if info.Reused {
				reused.Add(1)
			}
		},
	})
	results := make([]soakResult, soakWorkers*soakCreates)
	var wg sync.WaitGroup
	for w := range soakWorkers {
		wg.Go(func() {
			for i := range soakCreates {
				r := &results[w*soakCreates+i]
				r.desc = fmt.Sprintf("soak worker %02d ticket %03d", w, i)
				tk, err := c.Tickets.Create(ctx, &blueclerk.CreateTicketParams{
					CustomerID:  "cust_soak",
					Description: r.desc,
					Priority:    blueclerk.PriorityMedium,
				})
				r.err = err
				if err == nil {
					r.id = tk.ID
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	tickets := srv.Tickets()
	stored := map[string]int{} // description → tickets stored with it
	for _, tk := range tickets {
		stored[tk.Description]++
	}
	faults := map[blueclerktest.FaultKind]int{}
	afterWrite := 0 // faults met by a request after its ticket was stored
	for _, f := range srv.Faults() {
		faults[f.Fault.Kind]++
		if f.Done && f.Status == http.StatusCreated {
			afterWrite++
		}
	}
	var ok, unknown, unknownStored int
	for _, r := range results {
		switch {
		case r.err == nil:
			ok++
			if stored[r.desc] != 1 {
				t.Errorf("%q: created as %s, but the server holds %d such tickets", r.desc, r.id, stored[r.desc])
			}
		case errors.Is(r.err, blueclerk.ErrOutcomeUnknown) && !idempotent:
			unknown++
			if stored[r.desc] == 1 {
				unknownStored++
			}
		default:
			t.Errorf("%q: unexpected error: %v", r.desc, r.err)
		}
	}
	for desc, n := range stored {
		if n > 1 {
			t.Errorf("%q was stored %d times", desc, n)
		}
	}
	t.Logf("%d calls in %v: %d created, %d ErrOutcomeUnknown (%d of them stored); server: %d tickets, %d requests, faults %v (%d after the write); %d of %d attempts on a reused connection",
		len(results), elapsed.Round(time.Millisecond), ok, unknown, unknownStored,
		len(tickets), srv.Requests(http.MethodPost, "/api/v1/tickets"), faults, afterWrite, reused.Load(), attempts.Load())

	if idempotent {
		if len(tickets) != len(results) || ok != len(results) {
			t.Errorf("with idempotent retries: %d tickets stored and %d calls succeeded, want %d each", len(tickets), ok, len(results))
		}
	} else {
		if unknown != afterWrite {
			t.Errorf("%d calls failed with ErrOutcomeUnknown, but %d writes lost their answer", unknown, afterWrite)
		}
		if ok+unknownStored != len(tickets) {
			t.Errorf("%d created + %d lost-but-stored = %d, but the server holds %d tickets", ok, unknownStored, ok+unknownStored, len(tickets))
		}
		if unknownStored != unknown {
			t.Errorf("only %d of the %d writes reported as ErrOutcomeUnknown were stored; each lost answer followed a stored ticket", unknownStored, unknown)
		}
	}
	if afterWrite == 0 || faults[blueclerktest.FaultUnavailable] == 0 || faults[blueclerktest.FaultTooManyRequests] == 0 {
		t.Errorf("the soak met too few faults to mean anything: %v", faults)
	}
	if reused.Load() == 0 {
		t.Error("no attempt reused a connection: the case where net/http could resend a write was never exercised")
	}
}
