package blueclerk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// exampleAuthServer stands in for the authorization server in the
// examples: it approves every login and issues a token for every request.
func exampleAuthServer() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		back := q.Get("redirect_uri") + "?" + url.Values{"code": {"example-code"}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back, http.StatusFound)
	})
	token := func(w http.ResponseWriter, r *http.Request) {
		body := map[string]any{"access_token": "example-access", "token_type": "Bearer", "expires_in": 3600}
		switch r.PostFormValue("grant_type") {
		case "client_credentials": // as Keycloak answers
			body["scope"] = "email profile " + r.PostFormValue("scope")
			body["refresh_expires_in"] = 0
			body["not-before-policy"] = 0
		default:
			body["refresh_token"] = "example-refresh"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}
	mux.HandleFunc("POST /oauth/token", token)
	mux.HandleFunc("POST /partners/authenticate", token)
	return httptest.NewServer(mux)
}

func ExampleNewAuthSession() {
	srv := exampleAuthServer() // in production: blueclerk.Endpoint(blueclerk.DefaultBaseURL)
	defer srv.Close()
	cfg := &oauth2.Config{
		ClientID:     "my-client-id",
		ClientSecret: "my-client-secret",
		Endpoint:     blueclerk.Endpoint(srv.URL),
		RedirectURL:  "https://app.example/callback",
		Scopes:       []string{blueclerk.ScopeTicketsRead, blueclerk.ScopeJobsRead},
	}

	// 1. Start a login and send the user to sess.URL. A web application
	// keeps sess.State and sess.PKCE.Verifier on the server side, such as
	// in the user's session, until the callback.
	sess, err := blueclerk.NewAuthSession(cfg)
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(sess.URL)
	fmt.Println("scope:", u.Query().Get("scope"))
	fmt.Println("code_challenge_method:", u.Query().Get("code_challenge_method"))

	// 2. The authorization server sends the browser back to RedirectURL.
	// Here a client plays the browser; a web handler would use
	// r.URL.Query().
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(sess.URL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	back, _ := resp.Location()

	// 3. Check the callback and exchange the code for a token.
	tok, err := sess.Exchange(context.Background(), cfg, back.Query())
	if err != nil {
		log.Fatal(err) // errors.Is(err, blueclerk.ErrPlanRequired) when the company is on the FREE plan
	}
	fmt.Println("token type:", tok.Type())
	fmt.Println("refresh token issued:", tok.RefreshToken != "")
	// Output:
	// scope: tickets.read jobs.read
	// code_challenge_method: S256
	// token type: Bearer
	// refresh token issued: true
}

func ExampleLoopbackLogin() {
	srv := exampleAuthServer()
	defer srv.Close()
	cfg := &oauth2.Config{
		ClientID:     "my-client-id",
		ClientSecret: "my-client-secret",
		Endpoint:     blueclerk.Endpoint(srv.URL),
		RedirectURL:  "http://127.0.0.1:0/callback", // any free port
		Scopes:       []string{blueclerk.ScopeLeadsRead},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tok, err := blueclerk.LoopbackLogin(ctx, cfg, func(authURL string) error {
		// A real program prints authURL and opens it in the user's
		// browser. Here a client plays the browser and follows the
		// redirects back to the loopback listener.
		resp, err := http.Get(authURL)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in:", tok.Valid())
	// Output:
	// logged in: true
}

func ExamplePersistentTokenSource() {
	srv := exampleAuthServer()
	defer srv.Close()
	cfg := &oauth2.Config{
		ClientID:     "my-client-id",
		ClientSecret: "my-client-secret",
		Endpoint:     blueclerk.Endpoint(srv.URL),
	}
	dir, err := os.MkdirTemp("", "blueclerk-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// A program would use a path under os.UserConfigDir().
	store := blueclerk.NewFileTokenStore(filepath.Join(dir, "token.json"))
	ctx := context.Background()

	// Once, after a login (LoopbackLogin or AuthSession.Exchange), save its
	// token. This one has expired already.
	expired := &oauth2.Token{AccessToken: "old", RefreshToken: "example-refresh", Expiry: time.Now().Add(-time.Hour)}
	if err := store.Save(ctx, expired); err != nil {
		log.Fatal(err)
	}

	// Every run after that: the source loads the token, refreshes it when
	// due and saves the new one.
	ts := blueclerk.PersistentTokenSource(ctx, cfg, store)
	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err) // errors.Is(err, blueclerk.ErrUnauthorized): log in again
	}
	saved, _ := store.Load(ctx)
	fmt.Println("refreshed:", tok.AccessToken != "old")
	fmt.Println("saved:", saved.AccessToken == tok.AccessToken)

	client, err := blueclerk.NewClient(ts, blueclerk.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	_ = client // client.Tickets.List(ctx), …
	// Output:
	// refreshed: true
	// saved: true
}

func ExampleClientCredentialsTokenSource() {
	srv := exampleAuthServer() // in production: https://api.theblueground.com
	defer srv.Close()
	cfg := &clientcredentials.Config{
		ClientID:     "my-client-id",
		ClientSecret: "my-client-secret",
		TokenURL:     srv.URL + "/partners/authenticate",
		Scopes:       []string{"partner-info"},
	}
	ts := blueclerk.ClientCredentialsTokenSource(context.Background(), cfg)
	tok, err := ts.Token() // reused until a minute before it expires
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("scope:", tok.Extra("scope"))
	fmt.Println("valid for about:", time.Until(tok.Expiry).Round(time.Hour))
	// Output:
	// scope: email profile partner-info
	// valid for about: 1h0m0s
}
