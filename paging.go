package blueclerk

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"

	"github.com/blueclerk/blueclerk-go/internal/header"
	"github.com/blueclerk/blueclerk-go/internal/jsonstream"
)

// pages yields the response of each page of a list, following Link
// rel="next" within the API's host. The consumer must close each body.
func (c *Client) pages(ctx context.Context, path string, opts []CallOption) iter.Seq2[*http.Response, error] {
	return func(yield func(*http.Response, error) bool) {
		next := c.url(path)
		var seen map[string]bool // the pages read, made once a Link is followed
		for next != nil {
			if seen != nil {
				s := next.String()
				if seen[s] {
					yield(nil, fmt.Errorf("%w: GET %s: Link rel=\"next\" loops back to %s", ErrMalformedResponse, path, s))
					return
				}
				seen[s] = true
			}
			req, cl, err := c.newCall(ctx, http.MethodGet, next, nil, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			resp, err := c.do(req, cl)
			if err == nil {
				err = checkJSON(req, resp)
				if err != nil {
					drainClose(resp.Body)
				}
			}
			if err != nil {
				yield(nil, err)
				return
			}
			// The caller's transport may leave resp.Request unset, and the
			// transport's copy carries the token: keep the request we built.
			resp.Request = req
			next, err = c.nextPage(req.URL, resp.Header)
			if next != nil && seen == nil {
				seen = map[string]bool{req.URL.String(): true}
			}
			if err != nil {
				drainClose(resp.Body)
				yield(nil, err)
				return
			}
			if !yield(resp, nil) {
				return
			}
		}
	}
}

// nextPage resolves the Link rel="next" of a page, refusing any URL off the
// API's host: the token must not be sent elsewhere.
func (c *Client) nextPage(cur *url.URL, h http.Header) (*url.URL, error) {
	link := header.NextLink(h)
	if link == "" {
		return nil, nil
	}
	u, err := cur.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: bad Link rel=\"next\": %v", ErrMalformedResponse, cur.Path, err)
	}
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return nil, fmt.Errorf("%w: GET %s: Link rel=\"next\" leaves the API host (%s); not followed", ErrMalformedResponse, cur.Path, u.Redacted())
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// list reads every element of the array under key, across pages.
func list[T any](ctx context.Context, c *Client, path, key string, opts []CallOption) ([]*T, error) {
	var out []*T
	for v, err := range all[T](ctx, c, path, key, opts) {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if out == nil {
		out = []*T{}
	}
	return out, nil
}

// all yields the elements of the array under key one at a time, across
// pages. Stopping early drains a little of the body and closes it.
func all[T any](ctx context.Context, c *Client, path, key string, opts []CallOption) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for resp, err := range c.pages(ctx, path, opts) {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yieldArray(resp, key, yield) {
				return
			}
		}
	}
}

// yieldArray streams one page's array into yield and closes its body. It
// reports whether to go on to the next page.
func yieldArray[T any](resp *http.Response, key string, yield func(*T, error) bool) bool {
	defer drainClose(resp.Body)
	body := &bodyReader{r: resp.Body}
	// One record may be as large as a created object's answer.
	arr, err := jsonstream.Open(body, key, maxObjectBody)
	if err != nil {
		yield(nil, body.failure(resp.Request, err))
		return false
	}
	for {
		v := new(T)
		ok, err := arr.Next(v)
		if err != nil {
			yield(nil, body.failure(resp.Request, err))
			return false
		}
		if !ok {
			return true
		}
		if !yield(v, nil) {
			return false
		}
	}
}

// bodyReader remembers the first read error other than io.EOF, so that a
// connection broken mid-answer is not reported as a malformed answer.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// failure describes a decoding error: the read error behind it if there was
// one, else a malformed answer.
func (b *bodyReader) failure(req *http.Request, err error) error {
	if b.err != nil {
		return fmt.Errorf("blueclerk: %s %s: reading the answer: %w", req.Method, req.URL.Path, b.err)
	}
	return malformed(req, err)
}
