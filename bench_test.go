package blueclerk_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/blueclerk/blueclerk-go"
)

// leadsServer serves GET /api/v1/leads as n generated leads, written as they
// are produced so that the server holds no body in memory.
func leadsServer(tb testing.TB, n int) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriter(w)
		bw.WriteString(`{"leads":[`)
		for i := range n {
			if i > 0 {
				bw.WriteByte(',')
			}
			fmt.Fprintf(bw, `{"id":"lead_%d","name":"John Smith","email":"john%d@example.com","phone":"555-1234","status":"new","createdAt":"2024-01-15T10:30:00Z"}`, i, i)
		}
		bw.WriteString(`]}`)
		bw.Flush()
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// BenchmarkLeadsList compares Leads.List of 100 leads with the same request
// made with net/http and decoded with encoding/json.
func BenchmarkLeadsList(b *testing.B) {
	srv := leadsServer(b, 100)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		hc := srv.Client()
		b.ReportAllocs()
		for b.Loop() {
			if n, err := baselineLeads(ctx, hc, srv.URL); err != nil || n != 100 {
				b.Fatal(err, n)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		c := serverClient(b, srv)
		b.ReportAllocs()
		for b.Loop() {
			leads, err := c.Leads.List(ctx)
			if err != nil || len(leads) != 100 {
				b.Fatal(err, len(leads))
			}
		}
	})
}

// baselineLeads lists the leads of the server at base with net/http and
// encoding/json alone, as a program without the SDK would.
func baselineLeads(ctx context.Context, hc *http.Client, base string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/leads", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var v struct {
		Leads []*blueclerk.Lead `json:"leads"`
	}
	err = json.NewDecoder(resp.Body).Decode(&v)
	io.Copy(io.Discard, resp.Body)
	return len(v.Leads), err
}

// BenchmarkLeadsAllHeap reads 100,000 leads with All and with List and
// reports the most live heap seen while they were being read.
func BenchmarkLeadsAllHeap(b *testing.B) {
	const n = 100_000
	srv := leadsServer(b, n)
	ctx := context.Background()
	c := serverClient(b, srv)
	b.Run("All", func(b *testing.B) {
		var peak uint64
		for b.Loop() {
			base := liveHeap()
			count := 0
			for _, err := range c.Leads.All(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				count++
				if count%20_000 == 0 {
					peak = max(peak, heapGrowth(base))
				}
			}
			if count != n {
				b.Fatal(count)
			}
		}
		b.ReportMetric(float64(peak)/(1<<20), "live-MiB")
	})
	b.Run("List", func(b *testing.B) {
		var peak uint64
		for b.Loop() {
			base := liveHeap()
			leads, err := c.Leads.List(ctx)
			if err != nil || len(leads) != n {
				b.Fatal(err)
			}
			peak = max(peak, heapGrowth(base))
			runtime.KeepAlive(leads)
		}
		b.ReportMetric(float64(peak)/(1<<20), "live-MiB")
	})
}

// heapGrowth returns how much the live heap has grown since base, with one
// collection.
func heapGrowth(base uint64) uint64 {
	if h := liveHeap(); h > base {
		return h - base
	}
	return 0
}

// liveHeap returns the bytes of heap still reachable after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// budgetHeaders reports a budget far from spent, as most answers do.
func budgetHeaders(w http.ResponseWriter) {
	w.Header().Set("X-RateLimit-Limit", "2000")
	w.Header().Set("X-RateLimit-Remaining", "1999")
	w.Header().Set("X-RateLimit-Reset", "3600")
	w.Header().Set("X-Request-Id", "req_bench")
}

// BenchmarkSmallGet compares one small GET (Leads.List answered with no
// leads) with the same request made with net/http and decoded with
// encoding/json: the SDK's per-request overhead.
func BenchmarkSmallGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		budgetHeaders(w)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"leads":[]}`)
	}))
	b.Cleanup(srv.Close)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		hc := srv.Client()
		b.ReportAllocs()
		for b.Loop() {
			if n, err := baselineLeads(ctx, hc, srv.URL); err != nil || n != 0 {
				b.Fatal(err, n)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		c := serverClient(b, srv)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Leads.List(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreate compares Tickets.Create with the same POST made with
// net/http and encoding/json, Idempotency-Key included.
func BenchmarkCreate(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		budgetHeaders(w)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"ticket_789","customerId":"cust_456","propertyId":"prop_123","description":"Leaky faucet in kitchen","priority":"high","status":"open","createdAt":"2024-01-15T10:30:00Z","updatedAt":"2024-01-15T10:30:00Z"}`)
	}))
	b.Cleanup(srv.Close)
	ctx := context.Background()
	params := &blueclerk.CreateTicketParams{CustomerID: "cust_456", PropertyID: "prop_123", Description: "Leaky faucet in kitchen", Priority: blueclerk.PriorityHigh}
	b.Run("baseline", func(b *testing.B) {
		hc := srv.Client()
		b.ReportAllocs()
		for b.Loop() {
			body, err := json.Marshal(params)
			if err != nil {
				b.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/tickets", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", rand.Text())
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var t blueclerk.Ticket
			err = json.NewDecoder(resp.Body).Decode(&t)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || t.ID == "" {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		c := serverClient(b, srv)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Tickets.Create(ctx, params); err != nil {
				b.Fatal(err)
			}
		}
	})
}
