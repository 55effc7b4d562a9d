package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/internal/atomicfile"
	"github.com/blueclerk/blueclerk-go/internal/loopback"
)

// allScopes are the scopes a login asks for unless --scopes says otherwise.
var allScopes = []string{
	blueclerk.ScopeLeadsRead, blueclerk.ScopeTicketsRead, blueclerk.ScopeTicketsWrite,
	blueclerk.ScopeJobsRead, blueclerk.ScopeJobsWrite, blueclerk.ScopePropertiesRead,
	blueclerk.ScopePropertiesWrite, blueclerk.ScopeEstimatesRead, blueclerk.ScopeEstimatesWrite,
	blueclerk.ScopeInvoicesRead, blueclerk.ScopeInvoicesWrite, blueclerk.ScopeContactsRead,
	blueclerk.ScopeContactsWrite,
}

// loginTimeout bounds the wait for the browser's callback.
const loginTimeout = 5 * time.Minute

// login is what a stored login needs besides its token, which a
// blueclerk.FileTokenStore keeps next to it: the host, the OAuth client to
// renew the token with, and the scopes granted.
type login struct {
	BaseURL      string   `json:"baseUrl"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	Scopes       []string `json:"scopes"`
}

// config returns the OAuth configuration the login renews its token with.
func (l *login) config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     l.ClientID,
		ClientSecret: l.ClientSecret,
		Endpoint:     blueclerk.Endpoint(l.BaseURL),
		RedirectURL:  loopback.DefaultRedirect, // on any free port
		Scopes:       l.Scopes,
	}
}

// configDir is where the login is kept: blueclerk under the user's
// configuration directory.
func configDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding where to keep the login: %w", err)
	}
	return filepath.Join(dir, "blueclerk"), nil
}

func loginPath(dir string) string { return filepath.Join(dir, "login.json") }
func tokenPath(dir string) string { return filepath.Join(dir, "token.json") }

// loadLogin reads the stored login; nil, nil when there is none.
func loadLogin(dir string) (*login, error) {
	b, err := os.ReadFile(loginPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the stored login: %w", err)
	}
	var l login
	if err := json.Unmarshal(b, &l); err != nil || l.BaseURL == "" || l.ClientID == "" {
		return nil, fmt.Errorf("%s is not a stored login: run `blueclerk logout`, then `blueclerk login`", loginPath(dir))
	}
	return &l, nil
}

// save writes the login, readable by its owner only.
func (l *login) save(dir string) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(loginPath(dir), append(b, '\n'), 0o600, 0o700)
}

func newLoginCmd(a *app) *cobra.Command {
	var (
		clientID   string
		scopes     string
		noBrowser  bool
		authParams []string
	)
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in through the browser and keep the login",
		Long: `login logs in to BlueClerk with the OAuth 2.0 authorization code flow and
PKCE: it listens on a loopback port, opens the login page in the browser
(and prints its URL on standard error), and takes the answer. The token is
kept under the user's configuration directory (blueclerk/, readable by the
user only) with the OAuth client, and renewed with its refresh token when it
expires; later commands use it.

The OAuth client comes from --client-id (env BLUECLERK_CLIENT_ID) and the
secret from BLUECLERK_CLIENT_SECRET, so that it never shows in the process
list. It must allow the redirect URI http://127.0.0.1/callback on any port.
'blueclerk fake serve' prints the fake's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if clientID == "" {
				clientID = os.Getenv("BLUECLERK_CLIENT_ID")
			}
			secret := os.Getenv("BLUECLERK_CLIENT_SECRET")
			if clientID == "" || secret == "" {
				return errors.New("login needs the OAuth client: pass --client-id (or set BLUECLERK_CLIENT_ID) and set BLUECLERK_CLIENT_SECRET")
			}
			opts, err := authOptions(authParams)
			if err != nil {
				return err
			}
			l := &login{BaseURL: a.base(nil), ClientID: clientID, ClientSecret: secret, Scopes: strings.Fields(scopes)}
			return a.login(cmd.Context(), l, !noBrowser, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&clientID, "client-id", "", "OAuth client ID (env BLUECLERK_CLIENT_ID)")
	f.StringVar(&scopes, "scopes", strings.Join(allScopes, " "), "space-separated scopes to ask for")
	f.BoolVar(&noBrowser, "no-browser", false, "only print the login URL; do not open a browser")
	f.StringArrayVar(&authParams, "auth-param", nil,
		"an extra authorization parameter, `key=value`, such as prompt=consent, which OpenID Connect servers need to grant a refresh token; repeatable")
	return cmd
}

// authOptions turns key=value pairs into authorization parameters.
func authOptions(pairs []string) ([]oauth2.AuthCodeOption, error) {
	var opts []oauth2.AuthCodeOption
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--auth-param %q: want key=value", p)
		}
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return opts, nil
}

// login logs in as l says, with extra authorization parameters opts, and
// stores the login.
func (a *app) login(ctx context.Context, l *login, browser bool, opts []oauth2.AuthCodeOption) error {
	dir, err := configDir()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	tok, err := blueclerk.LoopbackLogin(ctx, l.config(), func(authURL string) error {
		fmt.Fprintf(a.stderr, "Log in to BlueClerk in your browser: %s\n", authURL)
		if browser {
			openBrowser(authURL)
		}
		return nil
	}, opts...)
	if err != nil {
		return err
	}
	if granted, ok := tok.Extra("scope").(string); ok && granted != "" {
		l.Scopes = strings.Fields(granted)
	}
	if err := l.save(dir); err != nil {
		return fmt.Errorf("keeping the login: %w", err)
	}
	if err := blueclerk.NewFileTokenStore(tokenPath(dir)).Save(ctx, tok); err != nil {
		return fmt.Errorf("keeping the login: %w", err)
	}
	fmt.Fprintf(a.stderr, "Logged in to %s; the login is kept in %s.\n", l.BaseURL, dir)
	if tok.RefreshToken == "" && !tok.Expiry.IsZero() {
		fmt.Fprintf(a.stderr, "No refresh token was issued: log in again after %s.\n", tok.Expiry.Local().Format(time.DateTime))
	}
	return nil
}

// openBrowser tries to open url in the user's browser; when it cannot,
// the URL printed is there to copy.
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err == nil {
		go func() { _ = cmd.Wait() }()
	}
}

func newLogoutCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the stored login",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := configDir()
			if err != nil {
				return err
			}
			l, _ := loadLogin(dir)
			removed := false
			for _, p := range []string{tokenPath(dir), loginPath(dir)} {
				err := os.Remove(p)
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("forgetting the login: %w", err)
				}
				removed = removed || err == nil
			}
			switch {
			case !removed:
				fmt.Fprintln(a.stderr, "Not logged in.")
			case l != nil:
				fmt.Fprintf(a.stderr, "Logged out of %s.\n", l.BaseURL)
			default:
				fmt.Fprintln(a.stderr, "Logged out.")
			}
			return nil
		},
	}
}
