package blueclerk_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
)

// TestLostAnswerIsNotReplayedByTheTransport: net/http resends a request it
// deems idempotent when a reused connection breaks after the request was
// written. A write answered by silence must reach the server once, whatever
// header carries its Idempotency-Key.
func TestLostAnswerIsNotReplayedByTheTransport(t *testing.T) {
	var posts atomic.Int32
	var key atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"contacts":[]}`))
			return
		}
		posts.Add(1)
		key.Store(r.Header.Get("Idempotency-Key"))
		// The write happened; the answer is lost.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c, err := blueclerk.NewClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}),
		blueclerk.WithBaseURL(srv.URL), blueclerk.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	ctx := context.Background()
	// A first call leaves a kept-alive connection for the write to reuse.
	_, err = c.Contacts.List(ctx)
	require.NoError(t, err)

	_, err = c.Contacts.Create(ctx, &blueclerk.CreateContactParams{Name: "Jane"})
	require.ErrorIs(t, err, blueclerk.ErrOutcomeUnknown)
	assert.Equal(t, int32(1), posts.Load(), "the write must be sent once")
	assert.NotEmpty(t, key.Load(), "the Idempotency-Key still reaches the server")
	assert.NotContains(t, err.Error(), testToken)
}

// TestAttemptTimeout: the http.Client's Timeout bounds each attempt, so a
// read that hangs once is retried, and a write that hangs is reported as
// possibly done rather than as a bare timeout.
func TestAttemptTimeout(t *testing.T) {
	var gets, posts atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every write hangs; of the reads, the first.
		hang := r.Method == http.MethodPost
		if hang {
			posts.Add(1)
		} else {
			hang = gets.Add(1) == 1
		}
		if hang {
			select { // until the client gives up
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"contacts":[{"id":"c1"}]}`))
	}))
	defer srv.Close()
	defer close(release)
	hc := srv.Client()
	hc.Timeout = 200 * time.Millisecond
	c, err := blueclerk.NewClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}),
		blueclerk.WithBaseURL(srv.URL), blueclerk.WithHTTPClient(hc))
	require.NoError(t, err)

	got, err := c.Contacts.List(context.Background())
	require.NoError(t, err, "the hung first attempt is retried")
	assert.Len(t, got, 1)
	assert.Equal(t, int32(2), gets.Load())

	_, err = c.Contacts.Create(context.Background(), &blueclerk.CreateContactParams{Name: "Jane"})
	require.ErrorIs(t, err, blueclerk.ErrOutcomeUnknown)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int32(1), posts.Load(), "a write that may have happened is not repeated")
}
