package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-plan", "starter", "-webhook-url", "http://127.0.0.1:1/hooks"}, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	var url, token string
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "BlueClerk fake server on "):
			url = f[4]
		case len(f) > 2 && f[0] == "Bearer" && f[1] == "token":
			token = f[2]
		}
		if strings.HasPrefix(line, "Serving until interrupted") {
			break
		}
	}
	for _, want := range []string{"plan STARTER, 100 requests an hour", "Client ID      blueclerk-fake",
		"Redirect URIs  http://127.0.0.1/callback", "Webhook secret whsec_"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/api/v1/leads", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("GET leads at %q: %v\n%s", url, err, out.String())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "100" {
		t.Fatalf("GET leads with the printed token: %d limit %q", resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"))
	}
	resp, err = (&http.Client{Transport: tr}).Get(url + "/_fake/budget")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /_fake/budget: %d, want 200: the standalone fake answers control requests", resp.StatusCode)
	}
	cancel()
	_, _ = io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-addr", ":8080"},
		{"-addr", "nonsense"},
		{"-plan", "GOLD"},
		{"-webhook-secret", "whsec_!!"},
		{"-no-such-flag"},
		{"extra"},
	} {
		err := run(t.Context(), args, io.Discard, io.Discard)
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("run(%q) = %v, want an error", args, err)
		}
	}
}
