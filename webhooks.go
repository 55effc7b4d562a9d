package blueclerk

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/payload"
)

// EventType names a webhook event, "event" in the payload.
type EventType string

// The documented events.
const (
	EventTicketCreated    EventType = "ticket.created"
	EventTicketUpdated    EventType = "ticket.updated"
	EventJobCreated       EventType = "job.created"
	EventJobCompleted     EventType = "job.completed"
	EventInvoiceSent      EventType = "invoice.sent"
	EventInvoicePaid      EventType = "invoice.paid"
	EventEstimateApproved EventType = "estimate.approved"
)

// Event is one webhook delivery. An event type this package does not know
// is delivered all the same, with its Data.
//
// [WebhookVerifier.Parse] decodes the record of a known kind together with
// the rest of the payload, and Ticket, Job, Invoice and Estimate then
// return it without decoding Data again. For an Event built by hand, or
// whose Data was set to other bytes since, they decode Data (changes made
// to Data's bytes in place are not noticed). Each call returns a new value,
// which the caller may change; the methods are safe for concurrent use.
type Event struct {
	ID        string          `json:"-"`         // the webhook-id header, the same on every redelivery
	Type      EventType       `json:"event"`     // what happened
	Timestamp time.Time       `json:"timestamp"` // when it happened
	Data      json.RawMessage `json:"data"`      // the record, decoded by Ticket, Job, Invoice or Estimate

	// decoded is Data decoded by Parse, a *Ticket, *Job, *Invoice or
	// *Estimate, or nil; decodedFrom is the Data it was decoded from. Both
	// are set before the Event is returned and never change after.
	decoded     any
	decodedFrom json.RawMessage
}

// The kinds of record events carry: the part of [EventType] before the dot.
const (
	kindTicket   = "ticket"
	kindJob      = "job"
	kindInvoice  = "invoice"
	kindEstimate = "estimate"
)

// eventKind returns the kind of record an event of type typ carries, the
// part before the dot: "ticket" for "ticket.created".
func eventKind(typ string) string {
	kind, _, _ := strings.Cut(typ, ".")
	return kind
}

// Ticket returns the ticket a "ticket.*" event carries. For an event of
// another kind it returns an error; switch on [Event.Type] first. It also
// fails, saying why, when Data is missing or does not hold a ticket.
func (e *Event) Ticket() (*Ticket, error) { return eventData[Ticket](e, kindTicket, nil) }

// Job returns the job a "job.*" event carries. For an event of another kind
// it returns an error; switch on [Event.Type] first. It also fails, saying
// why, when Data is missing or does not hold a job.
func (e *Event) Job() (*Job, error) { return eventData[Job](e, kindJob, nil) }

// Invoice returns the invoice an "invoice.*" event carries. For an event of
// another kind it returns an error; switch on [Event.Type] first. It also
// fails, saying why, when Data is missing or does not hold an invoice.
func (e *Event) Invoice() (*Invoice, error) {
	return eventData(e, kindInvoice, func(in *Invoice) { in.LineItems = slices.Clone(in.LineItems) })
}

// Estimate returns the estimate an "estimate.*" event carries. For an event
// of another kind it returns an error; switch on [Event.Type] first. It also
// fails, saying why, when Data is missing or does not hold an estimate.
func (e *Event) Estimate() (*Estimate, error) {
	return eventData(e, kindEstimate, func(est *Estimate) { est.LineItems = slices.Clone(est.LineItems) })
}

// eventData returns e's record as a new T once e's type says it holds one
// of kind: a copy of what Parse decoded, when it decoded e.Data, or else
// e.Data decoded now. unshare, when not nil, gives a copy its own slices,
// so that a caller changing them does not change e.
func eventData[T any](e *Event, kind string, unshare func(*T)) (*T, error) {
	if e == nil {
		return nil, fmt.Errorf("blueclerk: nil *Event carries no %s", kind)
	}
	if eventKind(string(e.Type)) != kind {
		return nil, fmt.Errorf("blueclerk: a %q event carries no %s; check Event.Type before decoding", e.Type, kind)
	}
	if decoded, ok := e.decoded.(*T); ok && sameBytes(e.Data, e.decodedFrom) {
		v := *decoded
		if unshare != nil {
			unshare(&v)
		}
		return &v, nil
	}
	if len(e.Data) == 0 || string(e.Data) == "null" {
		return nil, fmt.Errorf("blueclerk: %q event has no data", e.Type)
	}
	v := new(T)
	if err := json.Unmarshal(e.Data, v); err != nil {
		return nil, fmt.Errorf("blueclerk: %q event data is not a %s: %w", e.Type, kind, err)
	}
	return v, nil
}

// sameBytes reports whether a and b are the same non-empty slice: the same
// memory, the same length.
func sameBytes(a, b []byte) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}

// Errors of [WebhookVerifier.Verify]; the returned errors wrap them with the
// reason. [WebhookVerifier.Handler] answers both with 401.
var (
	// ErrInvalidSignature: the delivery is not signed with any of the
	// verifier's secrets, or a webhook-id, webhook-timestamp or
	// webhook-signature header is missing or repeated.
	ErrInvalidSignature = errors.New("blueclerk: invalid webhook signature")
	// ErrWebhookTimestamp: webhook-timestamp is not Unix seconds, or is
	// further from this host's clock than [WebhookVerifier.Tolerance]: a
	// replay, or a clock that is off.
	ErrWebhookTimestamp = errors.New("blueclerk: webhook timestamp rejected")
)

// The Standard Webhooks headers, canonicalized as [http.Header] keeps them.
const (
	headerWebhookID        = "Webhook-Id"
	headerWebhookTimestamp = "Webhook-Timestamp"
	headerWebhookSignature = "Webhook-Signature"
)

const (
	defaultWebhookTolerance = 5 * time.Minute
	defaultMaxWebhookBody   = 1 << 20
	// The default DeliveryStore remembers at most deliveryMax ids, each for
	// deliveryKeep, and takes over a claim older than deliveryClaimTimeout.
	deliveryMax          = 100_000
	deliveryKeep         = 24 * time.Hour
	deliveryClaimTimeout = 10 * time.Minute
	// sigLen is the length of a v1 signature: base64 of a SHA-256 HMAC.
	sigLen = (sha256.Size + 2) / 3 * 4
)

// WebhookVerifier checks and decodes BlueClerk webhook deliveries, signed
// per the Standard Webhooks specification. Build it with
// [NewWebhookVerifier]; set its fields, if at all, before first use, as with
// [http.Server]. It is then safe for concurrent use. Its formatting with fmt
// never shows the secrets.
type WebhookVerifier struct {
	// Tolerance is how far webhook-timestamp may be from this host's clock,
	// in either direction. Zero or negative means 5 minutes.
	Tolerance time.Duration

	// MaxBodyBytes bounds the body ParseRequest and Handler read; a larger
	// body is an error (413 from Handler), never truncated. Zero or negative
	// means 1 MiB.
	MaxBodyBytes int64

	// Deliveries records which webhook-ids Handler has handled, so that a
	// redelivery does not run fn again. Share one store (such as a Redis
	// one) between processes that receive the same webhooks. Nil means an
	// in-memory store of this verifier that keeps each id 24 hours, at most
	// 100,000 ids (the oldest go first).
	Deliveries DeliveryStore

	keys []*webhookKey
	now  func() time.Time // nil means time.Now

	memOnce sync.Once
	mem     DeliveryStore // the store used when Deliveries is nil
}

// NewWebhookVerifier returns a verifier that accepts deliveries signed with
// any of secrets, each "whsec_<base64>" or bare base64, as the BlueClerk
// partners team issued it. Pass the new and the old secret while rotating.
// It fails when no secret is given or one is not base64; the error does not
// contain the secret.
func NewWebhookVerifier(secrets ...string) (*WebhookVerifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("blueclerk: NewWebhookVerifier needs at least one webhook secret")
	}
	v := &WebhookVerifier{keys: make([]*webhookKey, len(secrets))}
	for i, s := range secrets {
		key, err := decodeSecret(s)
		if err != nil {
			return nil, fmt.Errorf("%w (secret %d of %d)", err, i+1, len(secrets))
		}
		v.keys[i] = newWebhookKey(key)
	}
	return v, nil
}

// String describes v without its secrets.
func (v *WebhookVerifier) String() string {
	if v == nil {
		return "blueclerk.WebhookVerifier(nil)"
	}
	return fmt.Sprintf("blueclerk.WebhookVerifier{secrets: %d redacted, Tolerance: %s, MaxBodyBytes: %d}",
		len(v.keys), v.tolerance(), v.maxBodyBytes())
}

// GoString describes v without its secrets, for %#v.
func (v *WebhookVerifier) GoString() string { return v.String() }

func (v *WebhookVerifier) tolerance() time.Duration {
	if v.Tolerance <= 0 {
		return defaultWebhookTolerance
	}
	return v.Tolerance
}

func (v *WebhookVerifier) maxBodyBytes() int64 {
	if v.MaxBodyBytes <= 0 {
		return defaultMaxWebhookBody
	}
	return v.MaxBodyBytes
}

func (v *WebhookVerifier) clock() time.Time {
	if v.now != nil {
		return v.now()
	}
	return time.Now()
}

// Verify checks that body, delivered with the headers h, was signed by
// BlueClerk: exactly one webhook-id, webhook-timestamp and webhook-signature
// header; a timestamp within [WebhookVerifier.Tolerance] of this host's
// clock; and, among the space-separated signatures, one "v1," HMAC-SHA256 of
// "id.timestamp.body" made with one of the verifier's secrets (other
// versions are ignored). Signatures are compared in constant time.
//
// The error wraps [ErrInvalidSignature] or [ErrWebhookTimestamp] and says
// what was wrong. body must be the request body exactly as received.
func (v *WebhookVerifier) Verify(h http.Header, body []byte) error {
	id, err := webhookHeader(h, headerWebhookID)
	if err != nil {
		return err
	}
	ts, err := webhookHeader(h, headerWebhookTimestamp)
	if err != nil {
		return err
	}
	sigs, err := webhookHeader(h, headerWebhookSignature)
	if err != nil {
		return err
	}
	if len(v.keys) == 0 {
		return fmt.Errorf("%w: the verifier has no secret; build it with NewWebhookVerifier", ErrInvalidSignature)
	}
	if err := v.checkTimestamp(ts); err != nil {
		return err
	}
	for _, k := range v.keys {
		if k.signed(id, ts, body, sigs) {
			return nil
		}
	}
	for range v1Signatures(sigs) {
		return fmt.Errorf("%w: no v1 signature matches; check the webhook secret", ErrInvalidSignature)
	}
	return fmt.Errorf("%w: webhook-signature holds no v1 signature", ErrInvalidSignature)
}

// webhookHeader returns the one value of the header key (canonical form).
func webhookHeader(h http.Header, key string) (string, error) {
	switch vs := h[key]; {
	case len(vs) > 1:
		return "", fmt.Errorf("%w: %d %s headers; a delivery carries exactly one", ErrInvalidSignature, len(vs), strings.ToLower(key))
	case len(vs) == 0 || vs[0] == "":
		return "", fmt.Errorf("%w: missing %s header", ErrInvalidSignature, strings.ToLower(key))
	default:
		return vs[0], nil
	}
}

// checkTimestamp checks that ts, Unix seconds, is within the tolerance of
// now. It compares whole seconds, so that no value of ts can overflow.
func (v *WebhookVerifier) checkTimestamp(ts string) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp is not Unix seconds", ErrWebhookTimestamp)
	}
	tol := v.tolerance()
	now, slack := v.clock().Unix(), int64(tol/time.Second)
	switch {
	case sec < now-slack:
		return fmt.Errorf("%w: webhook-timestamp is more than %s in the past; the delivery is a replay, or this host's clock is off", ErrWebhookTimestamp, tol)
	case sec > now+slack:
		return fmt.Errorf("%w: webhook-timestamp is more than %s in the future; check this host's clock", ErrWebhookTimestamp, tol)
	}
	return nil
}

// v1Signatures yields the base64 part of each "v1," entry of a
// webhook-signature value (entries separated by spaces), skipping other
// versions.
func v1Signatures(header string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for entry := range strings.SplitSeq(header, " ") {
			if sig, ok := strings.CutPrefix(entry, "v1,"); ok && !yield(sig) {
				return
			}
		}
	}
}

// webhookKey is one secret. The key lives only inside its pool of MACs, so
// that printing a WebhookVerifier with fmt, even field by field, cannot show
// it.
type webhookKey struct {
	macs sync.Pool // *webhookMAC
}

func newWebhookKey(key []byte) *webhookKey {
	k := new(webhookKey)
	k.macs.New = func() any { return newWebhookMAC(key) }
	return k
}

// signed reports whether one of the v1 signatures in sigs is the MAC of
// "id.ts.body" under k.
func (k *webhookKey) signed(id, ts string, body []byte, sigs string) bool {
	m := k.macs.Get().(*webhookMAC)
	defer k.macs.Put(m)
	want := m.sum(id, ts, body)
	for sig := range v1Signatures(sigs) {
		if len(sig) != sigLen {
			continue
		}
		m.buf = append(m.buf[:0], sig...)
		n, err := base64.StdEncoding.Decode(m.got[:], m.buf)
		if err == nil && hmac.Equal(m.got[:n], want) {
			return true
		}
	}
	return false
}

// webhookMAC is an HMAC-SHA256 with the buffers one verification needs, so
// that reusing it allocates nothing.
type webhookMAC struct {
	h   hash.Hash
	buf []byte               // "id.ts.", then each candidate signature
	mac [sha256.Size]byte    // the MAC
	got [sigLen / 4 * 3]byte // a candidate signature, decoded
}

func newWebhookMAC(key []byte) *webhookMAC {
	return &webhookMAC{h: hmac.New(sha256.New, key)}
}

// sum returns the MAC of "id.ts.body", the content Standard Webhooks signs.
// The result is valid until the next call.
func (m *webhookMAC) sum(id, ts string, body []byte) []byte {
	m.h.Reset()
	m.buf = append(append(append(append(m.buf[:0], id...), '.'), ts...), '.')
	m.h.Write(m.buf)
	m.h.Write(body)
	return m.h.Sum(m.mac[:0])
}

// Parse verifies a delivery like [WebhookVerifier.Verify], then decodes it.
// The Event's ID is the webhook-id header. An event type this package does
// not know is returned all the same; a body that is not a JSON object with
// an "event" is an error. A record of a known kind is decoded with the rest,
// in one pass; an error in it is left to [Event.Ticket] and its siblings.
func (v *WebhookVerifier) Parse(h http.Header, body []byte) (*Event, error) {
	return v.parse(h, body, false)
}

// parse is Parse of a body the Event may keep (owned: read by this package
// into memory of its own) or must copy from (the caller's, which it may
// reuse).
func (v *WebhookVerifier) parse(h http.Header, body []byte, owned bool) (*Event, error) {
	if err := v.Verify(h, body); err != nil {
		return nil, err
	}
	return decodeEvent(h[headerWebhookID][0], body, owned)
}

// decodeEvent decodes body, the payload of the delivery id: with its record
// when decodeEventOnce can, and otherwise into Event's own fields, leaving
// the record to the accessors. Its errors are those of the latter decoding.
// Event.Data is a copy unless body is owned.
func decodeEvent(id string, body []byte, owned bool) (*Event, error) {
	if e, ok := decodeEventOnce(id, body, owned); ok {
		return e, nil
	}
	e := &Event{ID: id}
	if err := json.Unmarshal(body, e); err != nil {
		return nil, fmt.Errorf("blueclerk: webhook payload is not a BlueClerk event: %w", err)
	}
	if e.Type == "" {
		return nil, errors.New(`blueclerk: webhook payload has no "event"`)
	}
	return e, nil
}

// decodeEventOnce decodes body with the record it carries, reading the
// envelope itself and the record with json.Unmarshal, once. It reports false
// when it cannot vouch for the result being the one Event's own decoding
// gives: payload.Scan cannot, or a value does not decode (a record that is
// not of its kind included).
func decodeEventOnce(id string, body []byte, owned bool) (*Event, bool) {
	p, ok := payload.Scan(body)
	if !ok {
		return nil, false
	}
	if !owned {
		p.Data = bytes.Clone(p.Data)
	}
	e := Event{ID: id, Type: EventType(p.Type), Data: p.Data}
	if e.Type == "" || p.Timestamp != nil && e.Timestamp.UnmarshalJSON(p.Timestamp) != nil {
		return nil, false
	}
	if p.Data != nil && string(p.Data) != "null" {
		switch eventKind(string(e.Type)) {
		case kindTicket:
			return withRecord[Ticket](e)
		case kindJob:
			return withRecord[Job](e)
		case kindInvoice:
			return withRecord[Invoice](e)
		case kindEstimate:
			return withRecord[Estimate](e)
		}
		if !json.Valid(p.Data) {
			return nil, false
		}
	}
	return &e, true
}

// withRecord returns e with its Data decoded as a T, both in one
// allocation, or false when Data is not a T.
func withRecord[T any](e Event) (*Event, bool) {
	d := new(struct {
		event  Event
		record T
	})
	if json.Unmarshal(e.Data, &d.record) != nil {
		return nil, false
	}
	d.event = e
	d.event.decoded, d.event.decodedFrom = &d.record, e.Data
	return &d.event, true
}

// ParseRequest reads r's body, at most [WebhookVerifier.MaxBodyBytes], then
// verifies and decodes it like [WebhookVerifier.Parse]. A larger body fails
// with an error that wraps [*http.MaxBytesError]. It does not check the
// method and does not close the body.
func (v *WebhookVerifier) ParseRequest(r *http.Request) (*Event, error) {
	return v.parseRequest(nil, r)
}

// parseRequest is ParseRequest; w, when not nil, learns of a body over the
// limit so that the server closes the connection.
func (v *WebhookVerifier) parseRequest(w http.ResponseWriter, r *http.Request) (*Event, error) {
	limit := v.maxBodyBytes()
	if r.ContentLength > limit {
		return nil, bodyTooLarge(&http.MaxBytesError{Limit: limit})
	}
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(r.ContentLength, 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, body, limit)); err != nil {
		if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, bodyTooLarge(tooLarge)
		}
		return nil, fmt.Errorf("blueclerk: reading the webhook body: %w", err)
	}
	return v.parse(r.Header, buf.Bytes(), true)
}

func bodyTooLarge(err *http.MaxBytesError) error {
	return fmt.Errorf("blueclerk: webhook body is larger than %d bytes (WebhookVerifier.MaxBodyBytes): %w", err.Limit, err)
}

// decodeSecret accepts a Standard Webhooks secret with or without its
// "whsec_" prefix.
func decodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New("blueclerk: webhook secret must be base64, optionally prefixed whsec_")
	}
	return key, nil
}

// sign computes the base64 HMAC-SHA256 of "id.timestamp.body".
func sign(key []byte, id string, ts int64, body []byte) string {
	return base64.StdEncoding.EncodeToString(newWebhookMAC(key).sum(id, strconv.FormatInt(ts, 10), body))
}

// SignWebhook returns the webhook-signature header value for a delivery of
// body with the given webhook-id and webhook-timestamp, per the Standard
// Webhooks specification: exactly one "v1,<base64>" entry. Senders and tests
// use it; receivers use [WebhookVerifier].
func SignWebhook(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("blueclerk: SignWebhook: empty webhook id")
	}
	return "v1," + sign(key, id, ts.Unix(), body), nil
}
