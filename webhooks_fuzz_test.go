package blueclerk

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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
// sees it: nothing may panic, and Parse, which decodes the record with the
// rest of the payload where it can, must agree with Event's plain decoding,
// whose accessors decode Data: the same success or failure, the same fields,
// the same records or errors.
func FuzzParse(f *testing.F) {
	for _, body := range []string{
		ticketPayload,
		`{"event":"job.completed","timestamp":"2024-01-15T10:30:00Z","data":{"id":"job_1","scheduledDate":"2024-02-01T09:00:00Z"}}`,
		`{"event":"invoice.paid","timestamp":"2024-01-15T10:30:00Z","data":{"lineItems":[{"quantity":1e400,"unitPrice":-0.5}],"dueDate":"2024-13-45"}}`,
		`{"event":"invoice.sent","data":{"id":"inv_1","lineItems":[{"itemId":"i","quantity":2,"unitPrice":75.00}],"dueDate":"2024-02-01"}}`,
		`{"event":"estimate.approved","data":{"lineItems":null}}`,
		`{"event":"widget.spun","data":[1,2,3]}`,
		`{"event":"ticket.created","data":"ticket_1"}`,
		`{"event":"","data":{}}`,
		`{"event":"ticket.created","timestamp":null,"data":null}`,
		`{"data":{"id":"ticket_1"},"event":"ticket.created"}`,
		`{"EVENT":"ticket.created","Data":{"id":"ticket_1"},"data":{"id":"ticket_2"}}`,
		`{"event":"ticket\u002ecreated","\u0064ata":{"id":"ticket_1"}}`,
		`{"event":"job.created","data":{"id":"j"},"event":"ticket.created"}`,
		`{"event":"ticket.created","data":{"id":"a \\\"}]\\\\","priority":5}}`,
		`{"event":"ticket.created","data":{"id":"t","createdAt":"yesterday"}}`,
		`{"event":"ticket.created","data":{"id":"t"}} x`,
		`{"event":"ticket.created","data":{"id":"t"},}`,
		` {"event" : "ticket.created" , "data" : [ {"id":"t"} ] } `,
		`{"event":"ticket.created","data":tru}`,
		`{"\u00e9vent":"ticket.created","data":{"id":"t"}}`,
		`{"event":"ticket.created","x":tru,"data":{"id":"t"}}`,
		`{"event":"ticket.created","x":[1,{"y":"]"}],"data":{"id":"t"}}`,
		`{"event":"ticket.created","timestamp":"2024-01-15T10:30:00.5+01:00","data":{"id":"t"}}`,
		`{"event":"ticket.created","timestamp":1705314600,"data":{"id":"t"}}`,
		`{"Timestamp":"2024-01-15T10:30:00Z","timestamp":null,"event":"job.created","data":{"id":"j"}}`,
		"{\"event\":\"ticket.cr\xffated\",\"data\":{\"id\":\"t\"}}",
		"{\"ev\x01nt\":\"ticket.created\",\"data\":{\"id\":\"t\"}}",
		"{\"event\":\"ticket.created\",\"data\":{\"id\":\"t\"}}\xef\xbb\xbf",
		`null`, `[]`, `{}`, `{`, `"`, ``,
	} {
		f.Add([]byte(body))
	}
	v := newTestVerifier(f, testSecret)
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := v.Parse(signedHeader(t, testSecret, "msg_1", testNow, body), body)
		if errors.Is(err, ErrInvalidSignature) || errors.Is(err, ErrWebhookTimestamp) {
			t.Fatalf("a signed body failed verification: %v", err)
		}
		want := &Event{ID: "msg_1"}
		wantErr := json.Unmarshal(body, want)
		if wantErr == nil && want.Type == "" {
			wantErr = errors.New(`no "event"`)
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("Parse = %+v, %v; plain decoding: %v", e, err, wantErr)
		}
		if err != nil {
			return
		}
		if e.ID != want.ID || e.Type != want.Type || !e.Timestamp.Equal(want.Timestamp) ||
			e.Timestamp.String() != want.Timestamp.String() || !bytes.Equal(e.Data, want.Data) || (e.Data == nil) != (want.Data == nil) {
			t.Fatalf("Parse = %+v, plain decoding %+v", e, want)
		}
		if got, want := records(e), records(want); got != want {
			t.Fatalf("accessors of the parsed event:\n%s\nof the plainly decoded one:\n%s", got, want)
		}
	})
}
