package blueclerk_test

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
)

// TestListOverWhitespace serves a list holding 16 MiB of whitespace inside
// its array, and more around its tokens and inside its records, gzipped as
// a server may send it (16 KiB on the wire). List must read it without
// letting the decoder hold the whitespace: holding it is what made the
// decoder scan it again at each read, in time that grew with the square of
// its length.
func TestListOverWhitespace(t *testing.T) {
	ws := func(n int64) io.Reader { return repeat(" \r\n\t", n) }
	c, reads := limitsClient(t, true, func() io.Reader {
		return io.MultiReader(
			ws(64<<10), strings.NewReader(`{`), ws(64<<10), strings.NewReader(`"leads"`), ws(64<<10), strings.NewReader(`:[`),
			ws(16<<20),
			strings.NewReader(`{"id":"lead_1","name":"Ann  Lee"}`), ws(64<<10), strings.NewReader(`,`), ws(64<<10),
			strings.NewReader(`{"id":`), ws(64<<10), strings.NewReader(`"lead_2"`), ws(64<<10), strings.NewReader(`}`),
			ws(64<<10), strings.NewReader(`],"other":{"x":[`), ws(64<<10), strings.NewReader(`1]}}`), ws(64<<10))
	})
	leads, err := c.Leads.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != 2 || leads[0].ID != "lead_1" || leads[0].Name != "Ann  Lee" || leads[1].ID != "lead_2" {
		t.Fatalf("got %+v", leads)
	}
	if reads.largest > 64<<10 {
		t.Errorf("the decoder asked for %d bytes at once: it holds the whitespace", reads.largest)
	}
}

// TestRecordLargerThan8MiB serves a list whose second record is of the
// given size: up to 8 MiB it is read; past that, reading stops with
// ErrMalformedResponse after about 8 MiB of it, so that the memory a list
// costs does not grow with what one record claims to be.
func TestRecordLargerThan8MiB(t *testing.T) {
	const head, tail = `{"id":"big","name":"`, `"}`
	for _, tt := range []struct {
		name string
		size int64
	}{{"8MiB", 8 << 20}, {"8MiB+1", 8<<20 + 1}, {"9MiB", 9 << 20}, {"256MiB", 256 << 20}} {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := limitsClient(t, false, func() io.Reader {
				return io.MultiReader(strings.NewReader(`{"leads":[{"id":"small"},`+head),
					repeat("a", tt.size-int64(len(head+tail))), strings.NewReader(tail+`]}`))
			})
			var ids []string
			var err error
			alloc := allocated(func() {
				for l, e := range c.Leads.All(context.Background()) {
					if e != nil {
						err = e
						break
					}
					ids = append(ids, l.ID)
				}
			})
			if tt.size <= 8<<20 {
				if err != nil || strings.Join(ids, ",") != "small,big" {
					t.Fatalf("got %q, %v; want small,big", ids, err)
				}
				return
			}
			if !errors.Is(err, blueclerk.ErrMalformedResponse) || !strings.Contains(err.Error(), "record larger than 8 MiB") || strings.Join(ids, ",") != "small" {
				t.Fatalf("got %q, %v; want small, then ErrMalformedResponse", ids, err)
			}
			if alloc > 40<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

// limitsClient returns a client of a loopback server that answers GET
// /api/v1/leads with what body returns (gzipped if asked for), and the
// record of the reads made of that answer.
func limitsClient(t *testing.T, gzipped bool, body func() io.Reader) (*blueclerk.Client, *readSizes) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/leads" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		var out io.Writer = w
		if gzipped {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			defer zw.Close()
			out = zw
		}
		// The client stops reading a record too large: the copy then fails.
		_, _ = io.Copy(out, body())
	}))
	t.Cleanup(srv.Close)
	reads := &readSizes{base: srv.Client().Transport}
	c, err := blueclerk.NewClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}),
		blueclerk.WithBaseURL(srv.URL), blueclerk.WithHTTPClient(&http.Client{Transport: reads}),
		blueclerk.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c, reads
}

// readSizes records the largest read asked of an answer's body. The SDK's
// decoder asks for the room left in its buffer, which it grows to hold what
// it has not yet consumed.
type readSizes struct {
	base    http.RoundTripper
	largest int
}

func (s *readSizes) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err == nil {
		resp.Body = &sizedBody{ReadCloser: resp.Body, s: s}
	}
	return resp, err
}

type sizedBody struct {
	io.ReadCloser
	s *readSizes
}

func (b *sizedBody) Read(p []byte) (int, error) {
	b.s.largest = max(b.s.largest, len(p))
	return b.ReadCloser.Read(p)
}

// repeat yields n bytes of s over and over, made as they are read.
func repeat(s string, n int64) io.Reader {
	return io.LimitReader(&cycle{s: strings.Repeat(s, 4096/len(s))}, n)
}

type cycle struct {
	s   string
	off int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], c.s[c.off:])
		n += k
		c.off = (c.off + k) % len(c.s)
	}
	return n, nil
}

// allocated returns the bytes of heap allocated, in the whole process,
// while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
