package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/oauth2/clientcredentials"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunAgainstTheFake runs the program as `go run
// ./examples/client-credentials` does with nothing configured.
func TestRunAgainstTheFake(t *testing.T) {
	for _, c := range []struct {
		scopes []string
		want   string
	}{
		{nil, "scopes: leads.read tickets.read tickets.write"},
		{[]string{"leads.read"}, "scopes: leads.read\n"},
	} {
		var out strings.Builder
		if err := run(t.Context(), &out, &clientcredentials.Config{Scopes: c.scopes}); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		for _, want := range []string{"an embedded fake BlueClerk at http://127.0.0.1:", "token type: Bearer",
			"expires: ", c.want, "3 leads, listed with the token"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("scopes %q: output lacks %q:\n%s", c.scopes, want, out.String())
			}
		}
		if strings.Contains(out.String(), "at_") {
			t.Errorf("the output shows the token:\n%s", out.String())
		}
	}
}

// TestRunAgainstAKeycloakEndpoint runs the program as configured for a
// Keycloak-style partner endpoint.
func TestRunAgainstAKeycloakEndpoint(t *testing.T) {
	kc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") != "client_credentials" || r.FormValue("client_secret") != "s3cret" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"tok_1","expires_in":3600,"refresh_expires_in":0,` +
			`"token_type":"Bearer","not-before-policy":0,"scope":"email profile partner-info"}`))
	}))
	defer kc.Close()
	var out strings.Builder
	cfg := &clientcredentials.Config{ClientID: "partner", ClientSecret: "s3cret", TokenURL: kc.URL, Scopes: []string{"partner-info"}}
	if err := run(t.Context(), &out, cfg); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "scopes: email profile partner-info") || strings.Contains(out.String(), "tok_1") {
		t.Errorf("output:\n%s", out.String())
	}
}
