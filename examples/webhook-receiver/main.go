// Command webhook-receiver receives BlueClerk webhooks and prints each event,
// typed. With -send it is the other side: it signs a sample ticket.created
// event and POSTs it to a receiver.
//
//	go run ./examples/webhook-receiver                  # listen on 127.0.0.1:8080
//	go run ./examples/webhook-receiver -secret whsec_… -send http://127.0.0.1:8080/webhooks/blueclerk
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
	addr := flag.String("addr", envOr("BLUECLERK_WEBHOOK_ADDR", "127.0.0.1:8080"), "address to listen on (env BLUECLERK_WEBHOOK_ADDR)")
	secret := flag.String("secret", os.Getenv("BLUECLERK_WEBHOOK_SECRET"), "webhook secret, whsec_… (env BLUECLERK_WEBHOOK_SECRET); generated when empty")
	send := flag.String("send", "", "instead of listening, sign a sample ticket.created event and POST it to this URL")
	flag.Parse()
	log.SetFlags(0)

	if *send != "" {
		if *secret == "" {
			log.Fatal("-send needs the receiver's -secret (or BLUECLERK_WEBHOOK_SECRET)")
		}
		if err := sendSample(*send, *secret); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *secret == "" {
		*secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte(rand.Text()))
		fmt.Printf("generated secret: %s\n", *secret)
	}
	if err := serve(*addr, *secret); err != nil {
		log.Fatal(err)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// serve receives deliveries at path until interrupted.
func serve(addr, secret string) error {
	v, err := blueclerk.NewWebhookVerifier(secret)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(path, v.Handler(printEvent))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	fmt.Printf("listening on http://%s%s\n", addr, path)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printEvent prints one event. A real receiver would store it and return
// an error when it cannot, so that BlueClerk delivers it again.
func printEvent(_ context.Context, e *blueclerk.Event) error {
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
	fmt.Printf("%s %s at %s: %+v\n", e.ID, e.Type, e.Timestamp.Format(time.RFC3339), rec)
	return nil
}

// sendSample signs a ticket.created event with secret and POSTs it to url,
// as BlueClerk would.
func sendSample(url, secret string) error {
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
	fmt.Printf("sent %s: %s %s\n", id, resp.Status, strings.TrimSpace(string(answer)))
	return nil
}
