package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loginAsBrowser runs `blueclerk login` in e against the fake, playing the
// browser: it reads the login URL the command prints on stderr, GETs it and
// follows the fake's redirect to the command's loopback callback. It
// returns what the command printed, and the login URL.
func loginAsBrowser(t *testing.T, f *fake, e env, args ...string) (result, string) {
	t.Helper()
	b := startBackground(t, e.with("BLUECLERK_CLIENT_SECRET=blueclerk-fake-secret"), true,
		append([]string{"login", "--base-url", f.url, "--client-id", "blueclerk-fake", "--no-browser"}, args...)...)
	var loginURL string
	for loginURL == "" {
		line, ok := b.next(t)
		if !ok {
			t.Fatalf("login printed no URL: %q", b.all)
		}
		loginURL, _ = strings.CutPrefix(line, "Log in to BlueClerk in your browser: ")
	}
	if !strings.HasPrefix(loginURL, f.url+"/oauth/authorize?") {
		t.Errorf("login URL %q is not the fake's", loginURL)
	}
	resp, err := http.Get(loginURL) // follows the redirect to the loopback callback
	if err != nil {
		t.Fatalf("the browser's GET: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Logged in") {
		t.Errorf("the browser got %s: %s", resp.Status, page)
	}
	code := b.wait(t)
	return result{b.other.String(), strings.Join(b.all, "\n") + "\n", code}, loginURL
}

// statusJSON runs `blueclerk status -o json` in e and decodes it.
func statusJSON(t *testing.T, e env) map[string]any {
	t.Helper()
	r := runCmd(t, e, "", "status", "--output", "json").ok(t)
	var st map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status printed %q: %v", r.stdout, err)
	}
	return st
}

func TestLoginStatusLogout(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	e := newEnv(t)
	r, loginURL := loginAsBrowser(t, f, e, "--scopes", "leads.read tickets.read tickets.write", "--auth-param", "prompt=consent")
	r.ok(t)
	if !strings.Contains(loginURL, "&prompt=consent&") {
		t.Errorf("login URL %q lacks prompt=consent", loginURL)
	}
	if r.stdout != "" || !strings.Contains(r.stderr, "Logged in to "+f.url) || strings.Contains(r.stderr, "at_") {
		t.Errorf("login printed stdout %q, stderr %q", r.stdout, r.stderr)
	}
	dir := e.configDir()
	for _, name := range []string{"login.json", "token.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", name, err, fi.Mode())
		}
	}

	st := statusJSON(t, e)
	scopes, _ := st["scopes"].([]any)
	if st["baseUrl"] != f.url || st["login"] != dir || st["clientId"] != "blueclerk-fake" || st["renewable"] != true ||
		len(scopes) != 3 || st["plan"] != "PRO" || st["limit"] != 500.0 || st["remaining"] == nil {
		t.Errorf("status after login: %v", st)
	}
	r = runCmd(t, e.with("COLUMNS=200"), "", "status", "--output", "table").ok(t)
	for _, want := range []string{"base URL: " + f.url, "login:    stored in " + dir, "scopes:   leads.read tickets.read tickets.write",
		"plan:     PRO (500 requests an hour)", "budget:   "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status table lacks %q:\n%s", want, r.stdout)
		}
	}

	// The stored login serves the other commands, and only for its host.
	runCmd(t, e, "", "tickets", "create", "--customer-id", "cust_1", "--description", "With the stored login").ok(t)
	line := runCmd(t, e.with("BLUECLERK_BASE_URL=http://127.0.0.1:1"), "", "leads", "list").oneError(t)
	if !strings.Contains(line, "the stored login is for "+f.url) {
		t.Errorf("another base URL: %q", line)
	}

	// An expired token is renewed with the refresh token and saved.
	tokenFile := filepath.Join(dir, "token.json")
	before := readToken(t, tokenFile)
	before["expiry"] = time.Now().Add(-time.Minute).Format(time.RFC3339)
	b, _ := json.Marshal(before)
	if err := os.WriteFile(tokenFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	runCmd(t, e, "", "leads", "list").ok(t)
	after := readToken(t, tokenFile)
	if after["access_token"] == before["access_token"] || after["refresh_token"] == before["refresh_token"] {
		t.Errorf("the expired token was not renewed and saved")
	}

	r = runCmd(t, e, "", "logout").ok(t)
	if !strings.Contains(r.stderr, "Logged out of "+f.url) {
		t.Errorf("logout said %q", r.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("after logout %s holds %v", dir, entries)
	}
	if line := runCmd(t, e, "", "status").oneError(t); !strings.Contains(line, "not logged in") {
		t.Errorf("status after logout: %q", line)
	}
}

func readToken(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestStatusWithAToken(t *testing.T) {
	t.Parallel()
	f := startFake(t, "--plan", "high")
	for _, c := range []struct {
		env  env
		args []string
		from string
	}{
		{f.env, nil, "BLUECLERK_TOKEN"},
		{newEnv(t), []string{"--base-url", f.url, "--token", f.token}, "--token"},
	} {
		r := runCmd(t, c.env, "", append(c.args, "status", "--output", "json")...).ok(t)
		var st map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			t.Fatal(err)
		}
		if st["login"] != c.from || st["scopes"] != nil || st["plan"] != "HIGH" || st["limit"] != 2000.0 {
			t.Errorf("status with %s: %v", c.from, st)
		}
		if strings.Contains(r.stdout+r.stderr, f.token) {
			t.Errorf("status shows the token")
		}
	}
	free := startFake(t, "--plan", "free")
	if st := statusJSON(t, free.env); st["plan"] != "FREE" {
		t.Errorf("status on FREE: %v", st)
	}
}
