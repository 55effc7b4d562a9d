package blueclerk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchDelivery returns a ticket.created delivery of about 2 KiB, signed
// with testSecret at testNow.
func benchDelivery(b *testing.B) (http.Header, []byte) {
	body := strings.Replace(ticketPayload, "Leaky faucet",
		"Leaky faucet; "+strings.Repeat("water under the kitchen sink, ", 60), 1)
	body = body[:len(body)-2] + `,"propertyId":"prop_789","status":"open","createdAt":"2024-01-15T10:30:00Z","updatedAt":"2024-01-15T10:30:00Z"}}`
	if len(body) < 2000 || len(body) > 2100 {
		b.Fatalf("body is %d bytes, want about 2 KiB", len(body))
	}
	return signedHeader(b, testSecret, "msg_p5jXN8AQM9LWM0D4loKWxJek", testNow, []byte(body)), []byte(body)
}

// baselineVerify is the least a receiver could do by hand to check a
// delivery: one HMAC, one signature, the timestamp window.
func baselineVerify(b *testing.B, key []byte, h http.Header, body []byte) {
	id, ts := h.Get("Webhook-Id"), h.Get("Webhook-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if now := testNow.Unix(); err != nil || sec < now-300 || sec > now+300 {
		b.Fatal("bad timestamp")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	got, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.Get("Webhook-Signature"), "v1,"))
	if err != nil || !hmac.Equal(got, m.Sum(nil)) {
		b.Fatal("signature mismatch")
	}
}

// benchPair runs sdk and baseline as sub-benchmarks of one run, over the
// same 2 KiB delivery.
func benchPair(b *testing.B, sdk func(b *testing.B, v *WebhookVerifier, h http.Header, body []byte),
	baseline func(b *testing.B, key []byte, h http.Header, body []byte)) {
	h, body := benchDelivery(b)
	b.Run("sdk", func(b *testing.B) {
		v := newTestVerifier(b, testSecret)
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			sdk(b, v, h, body)
		}
	})
	b.Run("baseline", func(b *testing.B) {
		key, _ := decodeSecret(testSecret)
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			baseline(b, key, h, body)
		}
	})
}

func BenchmarkWebhookVerify(b *testing.B) {
	benchPair(b, func(b *testing.B, v *WebhookVerifier, h http.Header, body []byte) {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}, baselineVerify)
}

// BenchmarkWebhookParse: verify, then decode into an Event. Parse decodes
// the ticket too; the baseline keeps it raw, as Event's fields alone do.
func BenchmarkWebhookParse(b *testing.B) {
	benchPair(b, func(b *testing.B, v *WebhookVerifier, h http.Header, body []byte) {
		if _, err := v.Parse(h, body); err != nil {
			b.Fatal(err)
		}
	}, func(b *testing.B, key []byte, h http.Header, body []byte) {
		baselineVerify(b, key, h, body)
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkWebhookTicket: verify, then decode the ticket, as a receiver
// does. Parse decodes the ticket with the rest of the payload, and Ticket
// returns a copy of it; the baseline decodes once, straight into a ticket.
func BenchmarkWebhookTicket(b *testing.B) {
	benchPair(b, func(b *testing.B, v *WebhookVerifier, h http.Header, body []byte) {
		e, err := v.Parse(h, body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Ticket(); err != nil {
			b.Fatal(err)
		}
	}, func(b *testing.B, key []byte, h http.Header, body []byte) {
		baselineVerify(b, key, h, body)
		var e struct {
			Event     EventType `json:"event"`
			Timestamp time.Time `json:"timestamp"`
			Data      Ticket    `json:"data"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			b.Fatal(err)
		}
	})
}
