package blueclerk

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipeDialer connects an http.Transport to serve over in-memory pipes, so
// that a synctest bubble can let minutes pass.
func pipeDialer(serve func(n int, conn net.Conn)) func(context.Context, string, string) (net.Conn, error) {
	var conns atomic.Int32
	return func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go serve(int(conns.Add(1)), server)
		return client, nil
	}
}

// TestDefaultTransportHeaderTimeout: without WithHTTPClient, an attempt
// whose answer's headers have not begun within 60 seconds is given up and
// retried, and a body that streams for longer is never cut.
func TestDefaultTransportHeaderTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan struct{})
		tr := newDefaultTransport()
		tr.Proxy = nil
		tr.DialContext = pipeDialer(func(n int, conn net.Conn) {
			defer conn.Close()
			if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
				return
			}
			if n == 1 { // hangs before its headers
				select {
				case <-done:
				case <-time.After(time.Hour):
				}
				return
			}
			body := `{"leads": [{"id": "lead_1"}]}`
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
			_, _ = conn.Write([]byte(body[:5]))
			time.Sleep(90 * time.Second) // a slow body, past the header timeout
			_, _ = conn.Write([]byte(body[5:]))
		})
		c := newTestClient(t, tr, WithBaseURL("http://127.0.0.1"))
		fastRetries(c)
		var resp Response
		start := time.Now()
		leads, err := c.Leads.List(t.Context(), WithResponseInto(&resp))
		elapsed := time.Since(start)
		close(done)
		tr.CloseIdleConnections()
		require.NoError(t, err)
		require.Len(t, leads, 1)
		assert.Equal(t, 2, resp.Attempts)
		assert.GreaterOrEqual(t, elapsed, headerTimeout+90*time.Second)
		assert.Less(t, elapsed, headerTimeout+91*time.Second)
	})
}
