// Command login logs a user in to BlueClerk from the command line with
// blueclerk.LoopbackLogin, keeps the token in a file with
// blueclerk.NewFileTokenStore and blueclerk.PersistentTokenSource, prints
// when it expires and what it grants (never the token), and lists the
// company's leads with it.
//
//	go run ./examples/login                      # against an embedded fake server
//	BLUECLERK_CLIENT_ID=... BLUECLERK_CLIENT_SECRET=... go run ./examples/login
//
// With no client configured it starts an in-memory BlueClerk server
// (package blueclerktest) in this process and plays the user's browser
// itself, keeping the token in blueclerk-login-example.json in the
// temporary directory unless -token-file says otherwise.
//
// With a client, it logs in to the real API (BLUECLERK_BASE_URL names
// another host); the OAuth client must allow the redirect URI
// http://127.0.0.1/callback on any port (RFC 8252 §7.3). The token is kept
// in -token-file, else BLUECLERK_TOKEN_FILE, else blueclerk/token.json under
// the user's configuration directory. The first run opens the browser;
// later runs reuse and refresh the saved token.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

func main() {
	tokenFile := flag.String("token-file", "", "`path` of the file keeping the token (see the package documentation for the default)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv, *tokenFile); err != nil {
		fmt.Fprintln(os.Stderr, "login:", err)
		os.Exit(1)
	}
}

// run logs in against the real API when env holds a client ID and secret,
// else against an embedded fake, keeping the token in tokenFile ("" for the
// default).
func run(ctx context.Context, out io.Writer, env func(string) string, tokenFile string) error {
	id, secret := env("BLUECLERK_CLIENT_ID"), env("BLUECLERK_CLIENT_SECRET")
	if id == "" || secret == "" {
		return runFake(ctx, out, tokenFile)
	}
	base := env("BLUECLERK_BASE_URL")
	if base == "" {
		base = blueclerk.DefaultBaseURL
	}
	if tokenFile == "" {
		tokenFile = env("BLUECLERK_TOKEN_FILE")
	}
	if tokenFile == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return err
		}
		tokenFile = filepath.Join(dir, "blueclerk", "token.json")
	}
	fmt.Fprintln(out, "BlueClerk at", base)
	return login(ctx, out, base, config(base, id, secret), tokenFile, true, openBrowser(out))
}

// runFake starts an in-memory BlueClerk server and logs in to it, the
// program playing the browser.
func runFake(ctx context.Context, out io.Writer, tokenFile string) error {
	const id, secret = "blueclerk-login-example", "blueclerk-login-example-secret"
	srv := blueclerktest.NewServer(
		blueclerktest.WithOAuthClient(id, secret, "http://127.0.0.1/callback"),
		blueclerktest.WithRefreshTokens(),
	)
	defer srv.Close()
	if tokenFile == "" {
		tokenFile = filepath.Join(os.TempDir(), "blueclerk-login-example.json")
	}
	fmt.Fprintln(out, "an embedded fake BlueClerk at", srv.URL)
	fmt.Fprintln(out, "(set BLUECLERK_CLIENT_ID and BLUECLERK_CLIENT_SECRET to log in to the real API)")
	// A token saved by an earlier run belongs to an earlier fake: log in
	// afresh.
	return login(ctx, out, srv.URL, config(srv.URL, id, secret), tokenFile, false, playBrowser)
}

func config(base, id, secret string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     id,
		ClientSecret: secret,
		Endpoint:     blueclerk.Endpoint(base),
		RedirectURL:  "http://127.0.0.1/callback", // any free port
		Scopes:       []string{blueclerk.ScopeLeadsRead},
	}
}

// login logs in to base with LoopbackLogin, unless reuse is set and
// tokenFile holds a token that is valid or can be refreshed, saves the
// token, reports it and lists the leads with it.
func login(ctx context.Context, out io.Writer, base string, cfg *oauth2.Config, tokenFile string, reuse bool, open func(string) error) error {
	store := blueclerk.NewFileTokenStore(tokenFile)
	ts := blueclerk.PersistentTokenSource(ctx, cfg, store)
	tok, err := ts.Token()
	if !reuse || errors.Is(err, blueclerk.ErrUnauthorized) {
		// Nothing saved, the saved token can no longer be refreshed, or it
		// is not to be used.
		lctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if tok, err = blueclerk.LoopbackLogin(lctx, cfg, open); err != nil {
			return err
		}
		if err := store.Save(ctx, tok); err != nil {
			return err
		}
		ts = blueclerk.PersistentTokenSource(ctx, cfg, store)
		fmt.Fprintln(out, "logged in; token saved to", tokenFile)
	} else if err != nil {
		return err
	} else {
		fmt.Fprintln(out, "using the token saved in", tokenFile)
	}

	fmt.Fprintf(out, "expires: %s (in %s)\n", tok.Expiry.Format(time.RFC3339), time.Until(tok.Expiry).Round(time.Second))
	if scope, ok := tok.Extra("scope").(string); ok {
		fmt.Fprintln(out, "scopes:", scope)
	} else {
		fmt.Fprintln(out, "scopes: as granted at login (the token file does not keep them)")
	}
	if tok.RefreshToken != "" {
		fmt.Fprintln(out, "refresh token: saved; the token is renewed when it expires")
	}

	c, err := blueclerk.NewClient(ts, blueclerk.WithBaseURL(base))
	if err != nil {
		return err
	}
	leads, err := c.Leads.List(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d leads\n", len(leads))
	for _, l := range leads {
		fmt.Fprintf(out, "  %s  %-20s %s\n", l.ID, l.Name, l.Status)
	}
	return nil
}

// playBrowser does what the user's browser does with the login URL: it
// opens it, and follows the authorization server's redirect back to the
// program's loopback listener, which finishes the login and shows how it
// went; LoopbackLogin returns that outcome.
func playBrowser(authURL string) error {
	resp, err := http.Get(authURL)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// openBrowser prints the login URL and tries to open it; a failure to open
// leaves the user to copy the URL.
func openBrowser(out io.Writer) func(string) error {
	return func(authURL string) error {
		fmt.Fprintf(out, "Log in to BlueClerk in your browser:\n\n  %s\n\n", authURL)
		var cmd *exec.Cmd
		switch runtime.GOOS {
		case "darwin":
			cmd = exec.Command("open", authURL)
		case "windows":
			cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", authURL)
		default:
			cmd = exec.Command("xdg-open", authURL)
		}
		if err := cmd.Start(); err == nil {
			go func() { _ = cmd.Wait() }()
		}
		return nil
	}
}
