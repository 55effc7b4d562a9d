// Command client-credentials gets a machine-to-machine token with
// blueclerk.ClientCredentialsTokenSource, from a Keycloak-style token
// endpoint such as Blueground's partner API, and prints what it grants. It
// never prints the token.
//
//	go run ./examples/client-credentials          # against an embedded fake server
//
//	BLUECLERK_TOKEN_URL=https://api.theblueground.com/partners/authenticate \
//	BLUECLERK_CLIENT_ID=... BLUECLERK_CLIENT_SECRET=... \
//	go run ./examples/client-credentials -scope partner-info
//
// Flags override the environment, except for the secret, which is read from
// BLUECLERK_CLIENT_SECRET only so that it does not show in the process list.
//
// With no token URL, client ID or secret configured, it starts an in-memory
// BlueClerk server (package blueclerktest) in this process, with a client
// allowed the client credentials grant, gets a token from it and lists the
// company's leads with that token, as a backend with no user would.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

func main() {
	tokenURL := flag.String("token-url", os.Getenv("BLUECLERK_TOKEN_URL"), "token endpoint URL (env BLUECLERK_TOKEN_URL)")
	clientID := flag.String("client-id", os.Getenv("BLUECLERK_CLIENT_ID"), "client ID (env BLUECLERK_CLIENT_ID)")
	scope := flag.String("scope", os.Getenv("BLUECLERK_SCOPE"), "space-separated scopes (env BLUECLERK_SCOPE)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := &clientcredentials.Config{
		ClientID:     *clientID,
		ClientSecret: os.Getenv("BLUECLERK_CLIENT_SECRET"),
		TokenURL:     *tokenURL,
		Scopes:       strings.Fields(*scope),
	}
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "client-credentials:", err)
		os.Exit(1)
	}
}

// run gets a token with cfg, or from an embedded fake when cfg lacks the
// token URL, the client ID or the secret, and reports what it grants.
func run(ctx context.Context, out io.Writer, cfg *clientcredentials.Config) error {
	if cfg.TokenURL == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return runFake(ctx, out, cfg.Scopes)
	}
	fmt.Fprintln(out, "token endpoint:", cfg.TokenURL)
	return report(out, blueclerk.ClientCredentialsTokenSource(ctx, cfg))
}

// runFake starts an in-memory BlueClerk server that grants client
// credentials, gets a token from it and lists the leads with it.
func runFake(ctx context.Context, out io.Writer, scopes []string) error {
	const id, secret = "backend", "backend-secret"
	srv := blueclerktest.NewServer(
		blueclerktest.WithOAuthClient(id, secret),
		blueclerktest.WithClientCredentials(),
	)
	defer srv.Close()
	fmt.Fprintln(out, "an embedded fake BlueClerk at", srv.URL)
	fmt.Fprintln(out, "(set BLUECLERK_TOKEN_URL, BLUECLERK_CLIENT_ID and BLUECLERK_CLIENT_SECRET to use a real token endpoint)")
	cfg := &clientcredentials.Config{
		ClientID:     id,
		ClientSecret: secret,
		TokenURL:     blueclerk.Endpoint(srv.URL).TokenURL,
		Scopes:       scopes,
	}
	fmt.Fprintln(out, "token endpoint:", cfg.TokenURL)
	ts := blueclerk.ClientCredentialsTokenSource(ctx, cfg)
	if err := report(out, ts); err != nil {
		return err
	}
	// The token source renews the token when it expires; no person is
	// needed.
	c, err := blueclerk.NewClient(ts, blueclerk.WithBaseURL(srv.URL))
	if err != nil {
		return err
	}
	leads, err := c.Leads.List(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d leads, listed with the token\n", len(leads))
	return nil
}

// report gets a token from ts and prints its type, expiry and scopes, never
// the token itself.
func report(out io.Writer, ts oauth2.TokenSource) error {
	tok, err := ts.Token()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "token type:", tok.Type())
	if tok.Expiry.IsZero() {
		fmt.Fprintln(out, "expires: never (no expires_in)")
	} else {
		fmt.Fprintf(out, "expires: %s (in %s)\n", tok.Expiry.Format(time.RFC3339), time.Until(tok.Expiry).Round(time.Second))
	}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		fmt.Fprintln(out, "scopes:", s)
	} else {
		fmt.Fprintln(out, "scopes: not reported by the server")
	}
	return nil
}
