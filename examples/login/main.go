// Command login logs a user in to BlueClerk from the command line with
// blueclerk.LoopbackLogin, keeps the token in a file with
// blueclerk.PersistentTokenSource, and lists the company's leads.
//
//	BLUECLERK_CLIENT_ID=... BLUECLERK_CLIENT_SECRET=... go run ./examples/login
//
// The OAuth client must allow the redirect URI http://127.0.0.1/callback on
// any port (RFC 8252 §7.3). BLUECLERK_BASE_URL points it at another host,
// and BLUECLERK_TOKEN_FILE at another token file (default: blueclerk/token.json
// under the user's configuration directory). The first run opens the
// browser; later runs reuse and refresh the saved token. With no client
// configured it prints this usage and exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"golang.org/x/oauth2"
)

func main() {
	id, secret := os.Getenv("BLUECLERK_CLIENT_ID"), os.Getenv("BLUECLERK_CLIENT_SECRET")
	if id == "" || secret == "" {
		fmt.Fprintln(os.Stderr, "usage: BLUECLERK_CLIENT_ID=... BLUECLERK_CLIENT_SECRET=... go run ./examples/login")
		fmt.Fprintln(os.Stderr, "optional: BLUECLERK_BASE_URL, BLUECLERK_TOKEN_FILE")
		return
	}
	if err := run(id, secret); err != nil {
		fmt.Fprintln(os.Stderr, "login:", err)
		os.Exit(1)
	}
}

func run(id, secret string) error {
	base := os.Getenv("BLUECLERK_BASE_URL")
	if base == "" {
		base = blueclerk.DefaultBaseURL
	}
	path := os.Getenv("BLUECLERK_TOKEN_FILE")
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return err
		}
		path = filepath.Join(dir, "blueclerk", "token.json")
	}
	cfg := &oauth2.Config{
		ClientID:     id,
		ClientSecret: secret,
		Endpoint:     blueclerk.Endpoint(base),
		RedirectURL:  "http://127.0.0.1/callback",
		Scopes:       []string{blueclerk.ScopeLeadsRead},
	}
	ctx := context.Background()
	store := blueclerk.NewFileTokenStore(path)
	ts := blueclerk.PersistentTokenSource(ctx, cfg, store)

	if _, err := ts.Token(); errors.Is(err, blueclerk.ErrUnauthorized) {
		// Nothing saved, or the saved token can no longer be refreshed.
		lctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		tok, err := blueclerk.LoopbackLogin(lctx, cfg, openBrowser)
		if err != nil {
			return err
		}
		if err := store.Save(ctx, tok); err != nil {
			return err
		}
		ts = blueclerk.PersistentTokenSource(ctx, cfg, store)
	} else if err != nil {
		return err
	}

	c, err := blueclerk.NewClient(ts, blueclerk.WithBaseURL(base))
	if err != nil {
		return err
	}
	leads, err := c.Leads.List(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%d leads (token saved in %s)\n", len(leads), path)
	for _, l := range leads {
		fmt.Printf("  %s  %-20s %s\n", l.ID, l.Name, l.Status)
	}
	return nil
}

// openBrowser prints the login URL and tries to open it; a failure to open
// leaves the user to copy the URL.
func openBrowser(authURL string) error {
	fmt.Fprintf(os.Stderr, "Log in to BlueClerk in your browser:\n\n  %s\n\n", authURL)
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
