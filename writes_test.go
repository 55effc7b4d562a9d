package blueclerk_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/blueclerk/blueclerk-go"
)

// h2ResetServer is an HTTP/2 server over TLS on loopback that reads each
// request whole (the write "happens") and then answers its stream with
// RST_STREAM(PROTOCOL_ERROR): the answer net/http's HTTP/2 client takes as
// a reason to send the request again when it can rewind the body.
func h2ResetServer(t *testing.T) (srv *httptest.Server, requests *atomic.Int32) {
	requests = new(atomic.Int32)
	srv = httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{NextProtos: []string{"h2"}}
	srv.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		"h2": func(_ *http.Server, c *tls.Conn, _ http.Handler) { serveResets(c, requests) },
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, requests
}

// HTTP/2 frame types and flags (RFC 9113 §6).
const (
	frameData     = 0x0
	frameHeaders  = 0x1
	frameRST      = 0x3
	frameSettings = 0x4
	frameGoAway   = 0x7
	flagEndStream = 0x1
	flagAck       = 0x1
	protocolError = 0x1
)

// serveResets speaks just enough HTTP/2 to read requests and reset them.
func serveResets(c *tls.Conn, requests *atomic.Int32) {
	defer c.Close()
	r := bufio.NewReader(c)
	preface := make([]byte, len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	if _, err := io.ReadFull(r, preface); err != nil {
		return
	}
	var mu sync.Mutex
	write := func(typ, flags byte, stream uint32, payload []byte) {
		mu.Lock()
		defer mu.Unlock()
		h := make([]byte, 9, 9+len(payload))
		h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
		h[3], h[4] = typ, flags
		binary.BigEndian.PutUint32(h[5:], stream)
		_, _ = c.Write(append(h, payload...))
	}
	write(frameSettings, 0, 0, nil)
	h := make([]byte, 9)
	for {
		if _, err := io.ReadFull(r, h); err != nil {
			return
		}
		n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
		typ, flags := h[3], h[4]
		stream := binary.BigEndian.Uint32(h[5:]) & 0x7fffffff
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return
		}
		switch {
		case typ == frameSettings && flags&flagAck == 0:
			write(frameSettings, flagAck, 0, nil)
		case (typ == frameData || typ == frameHeaders) && flags&flagEndStream != 0:
			// The whole request is in: the server acted on it.
			requests.Add(1)
			write(frameRST, 0, stream, binary.BigEndian.AppendUint32(nil, protocolError))
		case typ == frameGoAway:
			return
		}
	}
}

// h2Client returns an http.Client that speaks HTTP/2 to srv.
func h2Client(srv *httptest.Server) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	tr.TLSClientConfig.NextProtos = []string{"h2"}
	return &http.Client{Transport: tr}
}

// TestWriteNotResentByHTTP2: a write the server read whole and answered
// with RST_STREAM(PROTOCOL_ERROR) reaches the server once in the default
// mode, and once per attempt of the SDK's own with idempotent retries:
// net/http's HTTP/2 transport never resends it on its own.
func TestWriteNotResentByHTTP2(t *testing.T) {
	create := func(ctx context.Context, c *blueclerk.Client) error {
		_, err := c.Tickets.Create(ctx, &blueclerk.CreateTicketParams{CustomerID: "c1", Description: "Leak"})
		return err
	}
	bodyless := func(ctx context.Context, c *blueclerk.Client) error {
		return c.Do(ctx, http.MethodPost, "/api/v1/tickets/t1/close", nil, nil)
	}
	for _, tt := range []struct {
		name       string
		write      func(context.Context, *blueclerk.Client) error
		idempotent bool
		want       int32
	}{
		{"default", create, false, 1},
		{"idempotent retries", create, true, 3},
		{"no body", bodyless, false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, requests := h2ResetServer(t)
			hc := h2Client(srv)
			defer hc.CloseIdleConnections()
			c := serverClient(t, srv, blueclerk.WithHTTPClient(hc), blueclerk.WithMaxRetries(2),
				blueclerk.WithIdempotentRetries(tt.idempotent))
			blueclerk.FastRetries(c)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := tt.write(ctx, c)
			require.ErrorIs(t, err, blueclerk.ErrOutcomeUnknown)
			assert.Equal(t, tt.want, requests.Load(), "requests the server acted on")
			assert.NotContains(t, err.Error(), testToken)
		})
	}
}

// keyRecorder is a RoundTripper under the SDK that records what it sees of
// each write, as a partner's logging or signing transport would.
type keyRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	keys [][]string // Header.Values("Idempotency-Key") of each request
	body []bool     // whether each request had GetBody
}

func (k *keyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	k.mu.Lock()
	k.keys = append(k.keys, r.Header.Values("Idempotency-Key"))
	k.body = append(k.body, r.GetBody != nil)
	k.mu.Unlock()
	// A transport that sets the key it read must not make it two.
	if v := r.Header.Get("Idempotency-Key"); v != "" {
		r.Header.Set("Idempotency-Key", v)
	}
	return k.next.RoundTrip(r)
}

// TestWriteKeyUnderCanonicalName: a RoundTripper under the SDK reads the
// key with Header.Get, sees it once, and sees no GetBody on a write.
func TestWriteKeyUnderCanonicalName(t *testing.T) {
	var (
		mu   sync.Mutex
		seen [][]string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Values("Idempotency-Key"))
		n := len(seen)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id": "ticket_1"}`)
	}))
	defer srv.Close()
	rec := &keyRecorder{next: srv.Client().Transport}
	c := serverClient(t, srv, blueclerk.WithHTTPClient(&http.Client{Transport: rec}))
	blueclerk.FastRetries(c)
	_, err := c.Tickets.Create(t.Context(), &blueclerk.CreateTicketParams{CustomerID: "c1", Description: "Leak"})
	require.NoError(t, err)
	require.Len(t, rec.keys, 2, "a 503 with Retry-After: the write surely did not happen and is retried")
	for i := range rec.keys {
		require.Len(t, rec.keys[i], 1, "attempt %d: one key, read by Header.Values", i+1)
		assert.Equal(t, rec.keys[0][0], rec.keys[i][0], "the same key on every attempt")
		assert.False(t, rec.body[i], "attempt %d of a write carries no GetBody", i+1)
		require.Len(t, seen[i], 1, "the server sees one key")
	}
}

// TestOutcomeUnknownOutlivesLaterAnswers: with idempotent retries, a write
// whose first answer was lost after the server stored it, and whose retry
// got a 503, a long 429 or the end of ctx, fails with an error matching
// ErrOutcomeUnknown as well as what the last answer matched.
func TestOutcomeUnknownOutlivesLaterAnswers(t *testing.T) {
	for _, tt := range []struct {
		name  string
		retry func(w http.ResponseWriter)
		is    []error
	}{
		{"then 503", func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }, []error{blueclerk.ErrServer}},
		{"then 429 for an hour", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}, []error{blueclerk.ErrRateLimited}},
		{"then 400", func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) }, []error{blueclerk.ErrInvalidRequest}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var posts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if posts.Add(1) == 1 {
					// Stored; the answer is lost.
					if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
						_ = conn.Close()
					}
					return
				}
				w.Header().Set("X-Request-Id", "req-retry")
				tt.retry(w)
			}))
			defer srv.Close()
			var resp blueclerk.Response
			c := serverClient(t, srv, blueclerk.WithIdempotentRetries(true), blueclerk.WithMaxRetries(1))
			blueclerk.FastRetries(c)
			_, err := c.Tickets.Create(t.Context(), &blueclerk.CreateTicketParams{CustomerID: "c1", Description: "Leak"},
				blueclerk.WithResponseInto(&resp))
			require.Error(t, err)
			assert.ErrorIs(t, err, blueclerk.ErrOutcomeUnknown, "%v", err)
			for _, target := range tt.is {
				assert.ErrorIs(t, err, target)
			}
			var e *blueclerk.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "req-retry", e.RequestID)
			assert.Equal(t, resp.IdempotencyKey, e.IdempotencyKey)
			assert.NotEmpty(t, e.IdempotencyKey)
			assert.Equal(t, int32(2), posts.Load())
		})
	}
	t.Run("then ctx ends", func(t *testing.T) {
		stored := make(chan struct{})
		var once sync.Once
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			once.Do(func() { close(stored) })
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
		}))
		defer srv.Close()
		c := serverClient(t, srv, blueclerk.WithIdempotentRetries(true))
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-stored
			cancel() // while the answer is lost, or during the backoff before the retry
		}()
		_, err := c.Tickets.Create(ctx, &blueclerk.CreateTicketParams{CustomerID: "c1", Description: "Leak"})
		assert.ErrorIs(t, err, blueclerk.ErrOutcomeUnknown)
		assert.ErrorIs(t, err, context.Canceled)
	})
}
