// Command webhook-receiver receives BlueClerk webhooks and prints each event,
// typed. With -send it is the other side: it signs a sample ticket.created
// event and POSTs it to a receiver.
//
//	go run ./examples/webhook-receiver                  # listen on 127.0.0.1:8090
//	go run ./examples/webhook-receiver -secret whsec_… -send http://127.0.0.1:8090/webhooks/blueclerk
//
// It listens on 8090 by default, so that it can run beside the standalone
// fake server, which takes 8080.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

const path = "/webhooks/blueclerk"

func main() {
	addr := flag.String("addr", envOr("BLUECLERK_WEBHOOK_ADDR", "127.0.0.1:8090"), "address to listen on (env BLUECLERK_WEBHOOK_ADDR)")
	secret := flag.String("secret", os.Getenv("BLUECLERK_WEBHOOK_SECRET"), "webhook secret, whsec_… (env BLUECLERK_WEBHOOK_SECRET); generated when empty")
	send := flag.String("send", "", "instead of listening, sign a sample ticket.created event and POST it to this URL")
	flag.Parse()
	log.SetFlags(0)

	if *send != "" {
		if *secret == "" {
			log.Fatal("-send needs the receiver's -secret (or BLUECLERK_WEBHOOK_SECRET)")
		}
		if err := sendSample(os.Stdout, *send, *secret); err != nil {
			log.Fatal(err)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := serve(ctx, os.Stdout, *addr, *secret); err != nil {
		log.Fatal(err)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// serve receives deliveries at path until ctx ends, verified with secret,
// or with a new one it prints when secret is empty, and prints each event to
// out. It says it is listening only once it is.
func serve(ctx context.Context, out io.Writer, addr, secret string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if secret == "" {
		secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte(rand.Text()))
		fmt.Fprintf(out, "generated secret: %s\n", secret)
	}
	v, err := blueclerk.NewWebhookVerifier(secret)
	if err != nil {
		_ = ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(path, v.Handler(func(_ context.Context, e *blueclerk.Event) error { return printEvent(out, e) }))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	shutDown := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(shutDown)
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	fmt.Fprintf(out, "listening on http://%s%s\n", ln.Addr(), path)
	err = srv.Serve(ln)
	if stop() {
		return err // Serve failed before ctx ended
	}
	<-shutDown
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// printEvent prints one event. A real receiver would store it and return
// an error when it cannot, so that BlueClerk delivers it again.
func printEvent(out io.Writer, e *blueclerk.Event) error {
	kind, _, _ := strings.Cut(string(e.Type), ".")
	var rec any
	var err error
	switch kind {
	case "ticket":
		rec, err = e.Ticket()
	case "job":
		rec, err = e.Job()
	case "invoice":
		rec, err = e.Invoice()
	case "estimate":
		rec, err = e.Estimate()
	default:
		rec = string(e.Data) // an event this program does not know
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s %s at %s: %+v\n", e.ID, e.Type, e.Timestamp.Format(time.RFC3339), rec)
	return nil
}

// sendSample signs a ticket.created event with secret and POSTs it to url,
// as BlueClerk would, and prints the answer to out.
func sendSample(out io.Writer, url, secret string) error {
	now := time.Now()
	body := fmt.Sprintf(`{"event":"ticket.created","timestamp":%q,`+
		`"data":{"id":"ticket_123","customerId":"cust_456","description":"Leaky faucet","priority":"high","status":"open"}}`,
		now.UTC().Format(time.RFC3339))
	id := "msg_" + rand.Text()
	sig, err := blueclerk.SignWebhook(secret, id, now, []byte(body))
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	fmt.Fprintf(out, "sent %s: %s %s\n", id, resp.Status, strings.TrimSpace(string(answer)))
	return nil
}
