package blueclerk_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// A receiver mounts the verifier's Handler at the URL registered with
// BlueClerk. The function runs once per delivery, however often it is
// redelivered; an error from it makes BlueClerk retry later.
func ExampleWebhookVerifier_Handler() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // from the BlueClerk partners team
	v, err := blueclerk.NewWebhookVerifier(secret)
	if err != nil {
		log.Fatal(err)
	}
	h := v.Handler(func(ctx context.Context, e *blueclerk.Event) error {
		switch e.Type {
		case blueclerk.EventTicketCreated, blueclerk.EventTicketUpdated:
			t, err := e.Ticket()
			if err != nil {
				return err
			}
			fmt.Printf("%s %s: %s\n", e.Type, t.ID, t.Description)
		default:
			fmt.Println("ignored", e.Type)
		}
		return nil
	})
	// In a server: http.Handle("POST /webhooks/blueclerk", h)

	// What BlueClerk sends, twice: the second delivery is acknowledged
	// without running the function again.
	body := `{"event":"ticket.created","timestamp":"2024-01-15T10:30:00Z",` +
		`"data":{"id":"ticket_123","customerId":"cust_456","description":"Leaky faucet"}}`
	now := time.Now()
	sig, err := blueclerk.SignWebhook(secret, "msg_1", now, []byte(body))
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/blueclerk", strings.NewReader(body))
		r.Header.Set("webhook-id", "msg_1")
		r.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		r.Header.Set("webhook-signature", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// ticket.created ticket_123: Leaky faucet
	// 204
	// 200
}

// SignWebhook gives the webhook-signature header of a delivery, for tests
// and for senders. This is the Standard Webhooks test vector.
func ExampleSignWebhook() {
	sig, err := blueclerk.SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sig)
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

// Parse suits a framework that has already read the body; keep the bytes
// exactly as received.
func ExampleWebhookVerifier_Parse() {
	v, err := blueclerk.NewWebhookVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		log.Fatal(err)
	}
	body := []byte(`{"event":"invoice.paid","timestamp":"2024-01-15T10:30:00Z","data":{"id":"inv_9"}}`)
	h := http.Header{}
	h.Set("webhook-id", "msg_2")
	h.Set("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	h.Set("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=") // not BlueClerk's
	if _, err := v.Parse(h, body); err != nil {
		fmt.Println(err)
	}
	// Output: blueclerk: invalid webhook signature: no v1 signature matches; check the webhook secret
}
