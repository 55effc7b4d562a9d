// Package loopback is the redirect side of a native app's OAuth login (RFC
// 8252 §7.3): a listener on a loopback address for the redirect URI, and the
// page the browser shows when the login is over.
package loopback

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// DefaultRedirect is used when no redirect URI is configured: the loopback
// address, a port the system picks, and the path /callback.
const DefaultRedirect = "http://127.0.0.1/callback"

// IsHost reports whether host (a name or an IP address, without port or
// brackets) is this machine's loopback: localhost or a loopback IP.
func IsHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen opens a TCP listener for the redirect URI redirect, which must be
// http on 127.0.0.1, [::1] or localhost (listened to as 127.0.0.1). A port of
// 0 or none asks the system for a free one. It returns the listener, the
// redirect URI (as given, unless the port had to be filled in) and the path
// the callback arrives on.
func Listen(ctx context.Context, redirect string) (ln net.Listener, redirectURI, path string, err error) {
	if redirect == "" {
		redirect = DefaultRedirect
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return nil, "", "", fmt.Errorf("redirect URL: %w", err)
	}
	if u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return nil, "", "", fmt.Errorf("redirect URL %q: want http://127.0.0.1[:port]/path (RFC 8252 §7.3)", u.Redacted())
	}
	host := u.Hostname()
	switch host {
	case "127.0.0.1", "::1":
	case "localhost":
		host = "127.0.0.1"
	default:
		return nil, "", "", fmt.Errorf("redirect URL %q: host must be 127.0.0.1, [::1] or localhost to receive the callback on this machine", u.Redacted())
	}
	port := u.Port()
	if port == "" {
		port = "0"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return nil, "", "", fmt.Errorf("redirect URL %q: bad port", u.Redacted())
	}
	var lc net.ListenConfig
	ln, err = lc.Listen(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, "", "", err
	}
	if got := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port); got != port {
		u.Host = net.JoinHostPort(u.Hostname(), got)
		redirect = u.String()
	}
	path = u.Path
	if path == "" {
		path = "/"
	}
	return ln, redirect, path, nil
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Message}}</p><p>You can close this window.</p></body></html>
`))

// WritePage answers the browser with a small self-contained page: no
// script, no external resource, title and message HTML-escaped, nothing
// cached and no referrer sent. The answer carries its length, so that it is
// complete once flushed.
func WritePage(w http.ResponseWriter, status int, title, message string) {
	var b bytes.Buffer
	_ = page.Execute(&b, struct{ Title, Message string }{title, message})
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
