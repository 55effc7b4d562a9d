package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLoginToTheFake runs the program with no client configured: it logs in
// to the embedded fake, saves the token and never prints it.
func TestLoginToTheFake(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	var out bytes.Buffer
	if err := run(t.Context(), &out, func(string) string { return "" }, path); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{
		"an embedded fake BlueClerk at http://127.0.0.1:",
		"logged in; token saved to " + path,
		"expires: ",
		"scopes: leads.read",
		"refresh token: saved",
		"3 leads",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, out.String())
		}
	}
	tok, err := blueclerk.NewFileTokenStore(path).Load(t.Context())
	if err != nil || tok == nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("saved token: %v, %v", tok, err)
	}
	if strings.Contains(out.String(), tok.AccessToken) || strings.Contains(out.String(), tok.RefreshToken) {
		t.Errorf("the output shows the token:\n%s", out.String())
	}
	if fi, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestReuseSavedToken runs the program with a client configured and a valid
// token saved: it uses the token without logging in again.
func TestReuseSavedToken(t *testing.T) {
	srv := blueclerktest.NewServer(blueclerktest.WithOAuthClient("app", "app-secret", "http://127.0.0.1/callback"))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "token.json")
	if err := blueclerk.NewFileTokenStore(path).Save(t.Context(), srv.IssueToken(blueclerk.ScopeLeadsRead)); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BLUECLERK_CLIENT_ID": "app", "BLUECLERK_CLIENT_SECRET": "app-secret", "BLUECLERK_BASE_URL": srv.URL}
	var out bytes.Buffer
	if err := run(t.Context(), &out, func(k string) string { return env[k] }, path); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{"BlueClerk at " + srv.URL, "using the token saved in " + path, "3 leads"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, out.String())
		}
	}
	if n := srv.Requests("POST", "/oauth/token") + srv.Requests("GET", "/oauth/authorize"); n != 0 {
		t.Errorf("%d OAuth requests; the saved token needs none", n)
	}
}
