// Command blueclerk-fake runs the in-memory BlueClerk server of package
// blueclerktest on its own, to try an integration by hand:
//
//	go run ./blueclerktest/cmd/blueclerk-fake -addr 127.0.0.1:8080 -plan PRO
//
// It prints the server's URL, the OAuth client to log in with and a bearer
// token with every scope, then serves until interrupted. It answers control
// requests under /_fake/ (see blueclerktest.WithControl), so that tests in
// any language can emit events, inject faults, set the budget and read the
// webhook deliveries. The flags are
// described in blueclerktest/README.md and by -help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "blueclerk-fake:", err)
		os.Exit(1)
	}
}

// errUsage is returned for bad flags, already reported.
var errUsage = errors.New("usage")

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run serves until ctx ends, printing what a user needs to out.
func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("blueclerk-fake", flag.ContinueOnError)
	fs.SetOutput(errOut)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address`; the host must be loopback (127.0.0.1, ::1, localhost); port 0 picks a free one")
	plan := fs.String("plan", "PRO", "company `plan`: FREE, STARTER, PRO or HIGH")
	clientID := fs.String("client-id", "blueclerk-fake", "OAuth client `ID`")
	clientSecret := fs.String("client-secret", "blueclerk-fake-secret", "OAuth client `secret`")
	var redirects, webhookURLs listFlag
	fs.Var(&redirects, "redirect-uri", "registered redirect `URI`, repeatable (default http://127.0.0.1/callback; any port for a loopback IP)")
	fs.Var(&webhookURLs, "webhook-url", "webhook endpoint `URL`, repeatable")
	webhookSecret := fs.String("webhook-secret", "", "Standard Webhooks `secret` (whsec_<base64>) signing every delivery (default: a new random one)")
	refresh := fs.Bool("refresh-tokens", false, "issue refresh tokens, rotated on use")
	clientCredentials := fs.Bool("client-credentials", false, "accept grant_type=client_credentials")
	pageSize := fs.Int("page-size", 0, "list page `size`, with Link rel=\"next\" (0: no paging)")
	hourlyLimit := fs.Int("hourly-limit", 0, "hourly request `budget` instead of the plan's")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see -help", fs.Arg(0))
	}
	p := blueclerk.Plan(strings.ToUpper(*plan))
	switch p {
	case blueclerk.PlanFree, blueclerk.PlanStarter, blueclerk.PlanPro, blueclerk.PlanHigh:
	default:
		return fmt.Errorf("-plan %q: want FREE, STARTER, PRO or HIGH", *plan)
	}
	if len(redirects) == 0 {
		redirects = listFlag{"http://127.0.0.1/callback"}
	}
	if *webhookSecret == "" {
		*webhookSecret = blueclerktest.NewWebhookSecret()
	}
	if _, err := blueclerk.SignWebhook(*webhookSecret, "check", time.Now(), nil); err != nil {
		return fmt.Errorf("-webhook-secret: %w", err)
	}

	l, err := blueclerktest.Listen(*addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	opts := []blueclerktest.Option{
		blueclerktest.WithListener(l),
		blueclerktest.WithPlan(p),
		blueclerktest.WithOAuthClient(*clientID, *clientSecret, redirects...),
		blueclerktest.WithPageSize(*pageSize),
		blueclerktest.WithHourlyLimit(*hourlyLimit),
		blueclerktest.WithControl(),
	}
	for _, u := range webhookURLs {
		opts = append(opts, blueclerktest.WithWebhook(u, *webhookSecret))
	}
	if *refresh {
		opts = append(opts, blueclerktest.WithRefreshTokens())
	}
	if *clientCredentials {
		opts = append(opts, blueclerktest.WithClientCredentials())
	}
	srv := blueclerktest.NewServer(opts...)
	defer srv.Close()

	// Printing the fake's own credentials is the point: they exist only in
	// this process.
	tok := srv.IssueToken()
	limit := p.HourlyLimit()
	if *hourlyLimit > 0 {
		limit = *hourlyLimit
	}
	fmt.Fprintf(out, "BlueClerk fake server on %s (plan %s, %d requests an hour)\n\n", srv.URL, p, limit)
	fmt.Fprintf(out, "  API            %s/api/v1/{leads,tickets,jobs,properties,estimates,invoices,contacts}\n", srv.URL)
	fmt.Fprintf(out, "  Authorize      %s/oauth/authorize\n", srv.URL)
	fmt.Fprintf(out, "  Token          %s/oauth/token\n", srv.URL)
	fmt.Fprintf(out, "  Client ID      %s\n", *clientID)
	fmt.Fprintf(out, "  Client secret  %s\n", *clientSecret)
	fmt.Fprintf(out, "  Redirect URIs  %s\n", redirects.String())
	fmt.Fprintf(out, "  Control        %s/_fake/{emit,faults,budget,deliveries}\n", srv.URL)
	if len(webhookURLs) > 0 {
		fmt.Fprintf(out, "  Webhooks       %s\n", webhookURLs.String())
		fmt.Fprintf(out, "  Webhook secret %s\n", *webhookSecret)
	}
	fmt.Fprintf(out, "  Bearer token   %s (every scope, valid for 1 hour)\n\n", tok.AccessToken)
	fmt.Fprintf(out, "Try: curl -H 'Authorization: Bearer %s' %s/api/v1/leads\n\n", tok.AccessToken, srv.URL)
	fmt.Fprintln(out, "Serving until interrupted (Ctrl-C).")
	<-ctx.Done()
	fmt.Fprintln(out, "Stopping.")
	return nil
}
