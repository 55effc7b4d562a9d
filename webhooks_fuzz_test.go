package blueclerk

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// FuzzVerify checks that no header or body makes Verify panic, and that
// whatever it accepts really was signed.
func FuzzVerify(f *testing.F) {
	ts := strconv.FormatInt(testNow.Unix(), 10)
	valid := signedHeader(f, testSecret, "msg_1", testNow, []byte(ticketPayload)).Get("Webhook-Signature")
	f.Add("msg_1", ts, valid, []byte(ticketPayload))
	f.Add("msg_1", ts, valid+" "+valid, []byte(ticketPayload))
	f.Add("msg_1", ts, "v1,"+strings.Repeat("A", 44)+" v2,x "+valid, []byte(ticketPayload))
	f.Add(vectorID, strconv.Itoa(vectorTimestamp), vectorSignature, []byte(vectorPayload))
	f.Add("", "", "", []byte(nil))
	f.Add("msg_1", "hello", "v1,", []byte("{}"))
	f.Add("msg_1", "-9223372036854775808", "v1,,v1", []byte{0xff})
	f.Add("msg.1", "+"+ts, "  v1,==== ", []byte("x"))
	f.Add("msg_1", ts, "\u00a0"+valid, []byte(ticketPayload)) // entries are separated by spaces only
	v := newTestVerifier(f, testSecret, oldSecret)
	f.Fuzz(func(t *testing.T, id, ts, sigs string, body []byte) {
		h := http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sigs}}
		err := v.Verify(h, body)
		if err == nil {
			if _, perr := strconv.ParseInt(ts, 10, 64); perr != nil {
				t.Fatalf("accepted timestamp %q", ts)
			}
			signed := false
			for _, secret := range []string{testSecret, oldSecret} {
				key, _ := decodeSecret(secret)
				want := base64.StdEncoding.EncodeToString(newWebhookMAC(key).sum(id, ts, body))
				signed = signed || strings.Contains(" "+sigs+" ", " v1,"+want+" ")
			}
			if !signed {
				t.Fatalf("accepted a delivery not signed: id %q ts %q sigs %q", id, ts, sigs)
			}
			return
		}
		if !errors.Is(err, ErrInvalidSignature) && !errors.Is(err, ErrWebhookTimestamp) {
			t.Fatalf("err %v matches neither ErrInvalidSignature nor ErrWebhookTimestamp", err)
		}
	})
}

// FuzzParse signs each body, so that the decoder, not the signature check,
// sees it: nothing may panic, and an accepted event has its type and id.
func FuzzParse(f *testing.F) {
	for _, body := range []string{
		ticketPayload,
		`{"event":"job.completed","timestamp":"2024-01-15T10:30:00Z","data":{"id":"job_1","scheduledDate":"2024-02-01T09:00:00Z"}}`,
		`{"event":"invoice.paid","timestamp":"2024-01-15T10:30:00Z","data":{"lineItems":[{"quantity":1e400,"unitPrice":-0.5}],"dueDate":"2024-13-45"}}`,
		`{"event":"estimate.approved","data":{"lineItems":null}}`,
		`{"event":"widget.spun","data":[1,2,3]}`,
		`{"event":"ticket.created","data":"ticket_1"}`,
		`{"event":"","data":{}}`,
		`{"event":"ticket.created","timestamp":null,"data":null}`,
		`null`, `[]`, `{`, `"`, ``,
	} {
		f.Add([]byte(body))
	}
	v := newTestVerifier(f, testSecret)
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := v.Parse(signedHeader(t, testSecret, "msg_1", testNow, body), body)
		if err != nil {
			if errors.Is(err, ErrInvalidSignature) || errors.Is(err, ErrWebhookTimestamp) {
				t.Fatalf("a signed body failed verification: %v", err)
			}
			return
		}
		if e.ID != "msg_1" || e.Type == "" {
			t.Fatalf("Parse = %+v, want ID msg_1 and a type", e)
		}
		_, _ = e.Ticket()
		_, _ = e.Job()
		_, _ = e.Invoice()
		_, _ = e.Estimate()
	})
}
