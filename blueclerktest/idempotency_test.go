package blueclerktest

import (
	"bytes"
	"sync"
	"testing"
)

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	first := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"], "Idempotency-Key", "k1")
	again := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"], "Idempotency-Key", "k1")
	if first.status != 201 || again.status != 201 || !bytes.Equal(first.body, again.body) ||
		again.header.Get("Idempotent-Replayed") != "true" || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("replay: %d %s then %d %s", first.status, first.body, again.status, again.body)
	}
	other := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"], "Idempotency-Key", "k2")
	if other.status != 201 || bytes.Equal(other.body, first.body) {
		t.Fatalf("another key: %d %s", other.status, other.body)
	}
	if n := len(s.Tickets()); n != 2 {
		t.Fatalf("%d tickets, want 2", n)
	}
	// An invalid body's answer is replayed too.
	bad1 := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, `{}`, "Idempotency-Key", "k3")
	bad2 := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, `{}`, "Idempotency-Key", "k3")
	if bad1.status != 422 || bad2.status != 422 || !bytes.Equal(bad1.body, bad2.body) {
		t.Fatalf("replayed 422: %d %d", bad1.status, bad2.status)
	}
}

func TestWithoutIdempotencyKeys(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithoutIdempotencyKeys())
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	for range 2 {
		r := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"], "Idempotency-Key", "k1")
		if r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("%d %s, Idempotent-Replayed %q", r.status, r.body, r.header.Get("Idempotent-Replayed"))
		}
	}
	if n := len(s.Tickets()); n != 2 {
		t.Fatalf("%d tickets, want 2: the key must be ignored", n)
	}
}

func TestIdempotencyKeyReused(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	hc := testClient(t)
	tok := s.IssueToken().AccessToken
	mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"], "Idempotency-Key", "k")
	for _, c := range []struct{ path, body string }{
		{"/api/v1/tickets", `{"customerId":"c","description":"another"}`},
		{"/api/v1/contacts", validBodies["tickets"]},
	} {
		r := mustSend(t, hc, "POST", s.URL+c.path, tok, c.body, "Idempotency-Key", "k")
		if r.status != 422 || r.errorCode(t) != "idempotency_key_reused" {
			t.Errorf("POST %s reusing the key: %d %s", c.path, r.status, r.body)
		}
	}
	if len(s.Tickets()) != 1 || len(s.Contacts()) != 0 {
		t.Fatalf("reused key wrote: %d tickets, %d contacts", len(s.Tickets()), len(s.Contacts()))
	}
	long := string(bytes.Repeat([]byte("k"), 256))
	if r := mustSend(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"], "Idempotency-Key", long); r.status != 400 {
		t.Errorf("256-character key: %d, want 400", r.status)
	}
}

func TestIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := s.IssueToken().AccessToken
	const n = 16
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		hc := testClient(t)
		wg.Go(func() {
			r, err := send(t, hc, "POST", s.URL+"/api/v1/tickets", tok, validBodies["tickets"], "Idempotency-Key", "same")
			if err != nil {
				t.Error(err)
			}
			replies[i] = r
		})
	}
	wg.Wait()
	for _, r := range replies {
		if r.status != 201 || !bytes.Equal(r.body, replies[0].body) {
			t.Fatalf("concurrent replay: %d %s, first %s", r.status, r.body, replies[0].body)
		}
	}
	if got := len(s.Tickets()); got != 1 {
		t.Fatalf("%d tickets from %d requests with one key, want 1", got, n)
	}
}
