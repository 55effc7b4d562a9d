// Command blueclerk is the BlueClerk Public API v1 on the command line: log
// in, list and create records, send any request, sign test webhooks, and run
// an in-memory BlueClerk server to try it all against.
//
//	blueclerk fake serve &                  # prints url: and token: lines
//	blueclerk --base-url URL --token TOKEN leads list
//	blueclerk login --client-id ID          # secret from BLUECLERK_CLIENT_SECRET
//	blueclerk tickets create --customer-id cust_1 --description "Leaky faucet"
//	blueclerk api GET /api/v1/jobs
//	blueclerk webhooks trigger invoice.paid --forward-to URL --secret whsec_…
//
// Global flags: --base-url (env BLUECLERK_BASE_URL), --token (env
// BLUECLERK_TOKEN: an access token, instead of the stored login) and
// --output table|json|jsonl (table on a terminal, json otherwise). Data goes
// to standard output; an error is one line on standard error, and the exit
// status is 1. `blueclerk help` and `blueclerk COMMAND --help` say more;
// `blueclerk completion` prints shell completion scripts.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], newApp(os.Stdin, os.Stdout, os.Stderr))
	stop()
	os.Exit(code)
}
