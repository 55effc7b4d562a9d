package blueclerk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
)

// rateLimited answers 429 with Retry-After ra and a spent budget that
// resets after reset, then 200.
func rateLimited(ra string, reset time.Duration, requests *atomic.Int32) roundTripFunc {
	return func(r *http.Request) (*http.Response, error) {
		h := http.Header{"Content-Type": {"application/json"}}
		status, body := http.StatusOK, `{"leads": []}`
		if requests.Add(1) == 1 {
			status, body = http.StatusTooManyRequests, `{"error": "rate_limited"}`
			h.Set("Retry-After", ra)
			h.Set("X-Request-Id", "req-429")
			h.Set("X-RateLimit-Limit", "500")
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(reset).Unix(), 10))
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
}

// Test429WaitsForTheLaterOfRetryAfterAndReset: a 429 whose Retry-After ends
// before the budget's reset waits for the reset when that is within the
// wait bound, and otherwise fails at once, keeping the 429 in the chain.
func Test429WaitsForTheLaterOfRetryAfterAndReset(t *testing.T) {
	t.Run("reset within the bound", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var requests atomic.Int32
			c := bubbleClient(t, rateLimited("2", 30*time.Second, &requests))
			start := time.Now()
			_, err := c.Leads.List(t.Context())
			require.NoError(t, err)
			assert.Equal(t, int32(2), requests.Load())
			assert.Equal(t, 30*time.Second, time.Since(start), "waited for the reset, not the Retry-After")
		})
	})
	t.Run("reset beyond the bound", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var requests atomic.Int32
			c := bubbleClient(t, rateLimited("2", 30*time.Minute, &requests))
			start := time.Now()
			_, err := c.Leads.List(t.Context())
			assert.Zero(t, time.Since(start), "fails at once")
			assert.Equal(t, int32(1), requests.Load())
			var rle *blueclerk.RateLimitError
			require.ErrorAs(t, err, &rle)
			require.NotNil(t, rle.Err, "the 429 answer stays in the chain")
			assert.Equal(t, "req-429", rle.Err.RequestID)
			assert.Equal(t, http.StatusTooManyRequests, rle.Err.StatusCode)
			assert.Equal(t, 30*time.Minute, rle.RetryAfter)
		})
	})
}

// bubbleClient is a client over an in-memory transport, for synctest.
func bubbleClient(t *testing.T, rt http.RoundTripper, opts ...blueclerk.Option) *blueclerk.Client {
	t.Helper()
	return bubbleClientWith(t, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}), rt, opts...)
}

func bubbleClientWith(t *testing.T, ts oauth2.TokenSource, rt http.RoundTripper, opts ...blueclerk.Option) *blueclerk.Client {
	t.Helper()
	opts = append([]blueclerk.Option{blueclerk.WithBaseURL("https://api.blueclerk.test"),
		blueclerk.WithHTTPClient(&http.Client{Transport: rt})}, opts...)
	c, err := blueclerk.NewClient(ts, opts...)
	require.NoError(t, err)
	return c
}

// hungSource is a caller's token source whose refresh never ends; its
// TokenContext gives up with ctx.
type hungSource struct{ release chan struct{} }

func (s hungSource) Token() (*oauth2.Token, error) {
	<-s.release
	return nil, errors.New("released")
}

func (s hungSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.release:
		return nil, errors.New("released")
	}
}

// TestTokenWaitEndsWithCtx: a call whose token source is stuck returns at
// its ctx's deadline when the source implements TokenContext, sending
// nothing.
func TestTokenWaitEndsWithCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := hungSource{release: make(chan struct{})}
		defer close(src.release)
		var sent atomic.Int32
		c := bubbleClientWith(t, src, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			sent.Add(1)
			return nil, errors.New("unreachable")
		}))
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Leads.List(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 500*time.Millisecond, time.Since(start))
		assert.Zero(t, sent.Load())
	})
}

// TestRetryAfterZeroIsNoAdvice: "Retry-After: 0" does not make a retry
// immediate; the backoff spaces it as if the header were absent.
func TestRetryAfterZeroIsNoAdvice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var requests atomic.Int32
		c := bubbleClient(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{"Content-Type": {"application/json"}}
			if requests.Add(1) < 3 {
				h.Set("Retry-After", "0")
				return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: h, Body: http.NoBody, Request: r}, nil
			}
			return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(strings.NewReader(`{"leads": []}`)), Request: r}, nil
		}))
		start := time.Now()
		_, err := c.Leads.List(t.Context())
		require.NoError(t, err)
		assert.Equal(t, int32(3), requests.Load())
		assert.Positive(t, time.Since(start), "the retries waited")
	})
}
