package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer is an output written by the server's goroutines and read by
// the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServeReceivesASignedSample(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, &out, "127.0.0.1:0", "") }()

	var url, secret string
	deadline := time.Now().Add(5 * time.Second)
	for url == "" && time.Now().Before(deadline) {
		for line := range strings.Lines(out.String()) {
			if s, ok := strings.CutPrefix(line, "generated secret: "); ok {
				secret = strings.TrimSpace(s)
			}
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				url = strings.TrimSpace(u)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if url == "" || secret == "" {
		t.Fatalf("no secret and listening lines:\n%s", out.String())
	}
	var sent strings.Builder
	if err := sendSample(&sent, url, secret); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sent.String(), "204 No Content") {
		t.Errorf("send: %s, want 204", sent.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(out.String(), "ticket.created at ") || !strings.Contains(out.String(), "ID:ticket_123") {
		t.Errorf("the receiver did not print the sample:\n%s", out.String())
	}
}

func TestServeSaysNothingWhenThePortIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out strings.Builder
	if err := serve(t.Context(), &out, ln.Addr().String(), ""); err == nil {
		t.Fatal("serve on a port in use succeeded")
	}
	if out.Len() != 0 {
		t.Errorf("serve printed %q before failing to listen", out.String())
	}
}
