package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
	"github.com/blueclerk/blueclerk-go/internal/loopback"
)

// The OAuth client the fake registers, for `blueclerk login`, which
// redirects to loopback.DefaultRedirect.
const (
	fakeClientID     = "blueclerk-fake"
	fakeClientSecret = "blueclerk-fake-secret"
)

func newFakeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fake",
		Short: "Run an in-memory BlueClerk server",
		Args:  cobra.NoArgs,
	}
	var (
		addr, plan, secret string
		webhooks           []string
	)
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the fake BlueClerk API on loopback until interrupted",
		Long: `serve runs an in-memory BlueClerk server (package blueclerktest) on a loopback
address and prints two lines on standard output:

  url: <base URL>
  token: <an access token with every scope, valid for an hour>

then serves until interrupted. It answers the whole API, the OAuth login
(client ` + fakeClientID + `, secret ` + fakeClientSecret + `, any loopback redirect
port; refresh tokens and client credentials are granted), and control
requests under /_fake/ that emit events, inject faults, set the budget and
list webhook deliveries. --addr 127.0.0.1:0 picks a free port.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := blueclerk.Plan(strings.ToUpper(plan))
			switch p {
			case blueclerk.PlanFree, blueclerk.PlanStarter, blueclerk.PlanPro, blueclerk.PlanHigh:
			default:
				return fmt.Errorf("--plan %q: use free, starter, pro or high", plan)
			}
			if len(webhooks) > 0 && secret == "" {
				secret = blueclerktest.NewWebhookSecret()
				fmt.Fprintf(a.stderr, "webhook secret: %s\n", secret)
			}
			if secret != "" {
				if _, err := blueclerk.SignWebhook(secret, "check", time.Now(), nil); err != nil {
					return fmt.Errorf("--secret: %w", err)
				}
			}
			l, err := blueclerktest.Listen(addr)
			if err != nil {
				return fmt.Errorf("--addr: %w", err)
			}
			opts := []blueclerktest.Option{
				blueclerktest.WithListener(l),
				blueclerktest.WithPlan(p),
				blueclerktest.WithOAuthClient(fakeClientID, fakeClientSecret, loopback.DefaultRedirect),
				blueclerktest.WithRefreshTokens(),
				blueclerktest.WithClientCredentials(),
				blueclerktest.WithControl(),
			}
			for _, u := range webhooks {
				opts = append(opts, blueclerktest.WithWebhook(u, secret))
			}
			srv := blueclerktest.NewServer(opts...)
			defer srv.Close()
			// Printing the fake's own token is the point: it exists only in
			// this process.
			if _, err := fmt.Fprintf(a.stdout, "url: %s\ntoken: %s\n", srv.URL, srv.IssueToken().AccessToken); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "BlueClerk fake on %s, plan %s; serving until interrupted.\n", srv.URL, p)
			fmt.Fprintf(a.stderr, "  log in:   BLUECLERK_CLIENT_SECRET=%s blueclerk login --base-url %s --client-id %s\n",
				fakeClientSecret, srv.URL, fakeClientID)
			fmt.Fprintf(a.stderr, "  control:  %s/_fake/{emit,faults,budget,deliveries}\n", srv.URL)
			<-cmd.Context().Done()
			return nil
		},
	}
	f := serve.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "loopback `address` to listen on; port 0 picks a free one")
	f.StringVar(&plan, "plan", "pro", "the company's plan: free, starter, pro or high")
	f.StringArrayVar(&webhooks, "webhook", nil, "webhook receiver `URL` to deliver every event to; repeatable")
	f.StringVar(&secret, "secret", "", "the webhooks' signing secret, `whsec_…` (default: a new one, printed on stderr)")
	cmd.AddCommand(serve)
	return cmd
}
