package blueclerk

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/blueclerk/blueclerk-go/internal/seen"
)

// DeliveryState is what a DeliveryStore knows of a webhook-id.
type DeliveryState int

// The states of a webhook-id.
const (
	DeliveryNew        DeliveryState = iota // not seen before: the caller now holds the claim and must call Finish
	DeliveryInProgress                      // claimed by another handler that has not finished
	DeliveryDone                            // handled successfully before
)

// DeliveryStore records which webhook deliveries were handled, so that each
// webhook-id is handled once. Implementations must be safe for concurrent
// use.
//
// Claim reports what the store knows of id and, when that is
// [DeliveryNew], records the caller's claim on it atomically: of concurrent
// claims on one id, one gets DeliveryNew. A claim never finished (the
// process died) must expire after a while, after which Claim returns
// DeliveryNew again. Finish ends the caller's claim: handled records id as
// done, for about a day; handled=false forgets the claim so a redelivery
// runs fn again, and leaves an id already done as it is (the claim of a
// handler that outlived it was taken over and finished by another).
//
// [github.com/blueclerk/blueclerk-go/blueclerktest.TestDeliveryStore]
// checks an implementation against this contract.
type DeliveryStore interface {
	Claim(ctx context.Context, id string) (DeliveryState, error)
	Finish(ctx context.Context, id string, handled bool) error // handled=false forgets the claim so a redelivery runs fn again
}

// deliveries returns v.Deliveries, or v's in-memory store.
func (v *WebhookVerifier) deliveries() DeliveryStore {
	if v.Deliveries != nil {
		return v.Deliveries
	}
	v.memOnce.Do(func() {
		v.mem = &memoryDeliveries{
			set: seen.NewSet(deliveryMax, deliveryKeep, deliveryClaimTimeout),
			now: v.clock,
		}
	})
	return v.mem
}

// memoryDeliveries is the default [DeliveryStore], good for one process.
type memoryDeliveries struct {
	set *seen.Set
	now func() time.Time
}

var deliveryStates = [...]DeliveryState{
	seen.New:        DeliveryNew,
	seen.InProgress: DeliveryInProgress,
	seen.Done:       DeliveryDone,
}

func (m *memoryDeliveries) Claim(_ context.Context, id string) (DeliveryState, error) {
	return deliveryStates[m.set.Claim(id, m.now())], nil
}

func (m *memoryDeliveries) Finish(_ context.Context, id string, handled bool) error {
	m.set.Finish(id, handled, m.now())
	return nil
}

// Handler returns an http.Handler that receives deliveries and calls fn
// once per webhook-id, with the request's context. It answers:
//
//   - 405, with Allow: POST, for another method;
//   - 413 for a body over [WebhookVerifier.MaxBodyBytes];
//   - 401 for a delivery that fails [WebhookVerifier.Verify], and 400 for one
//     whose payload cannot be decoded, without calling fn;
//   - 204 when fn returns nil;
//   - 500 when fn fails or panics, so that the sender retries; fn's error
//     is not written to the response, so log it in fn. A panic is recovered
//     and logged with its stack, as net/http logs the panics it recovers (to
//     the [http.Server]'s ErrorLog, or the log package), without the
//     payload; a panic with [http.ErrAbortHandler] aborts the response
//     instead;
//   - 200 without calling fn for a webhook-id already handled;
//   - 409 without calling fn while another call of fn for the same
//     webhook-id is running, so that the sender retries later;
//   - 503 without calling fn when [WebhookVerifier.Deliveries] fails.
//
// Handler starts no goroutines.
func (v *WebhookVerifier) Handler(fn func(context.Context, *Event) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "webhook deliveries are POSTed", http.StatusMethodNotAllowed)
			return
		}
		e, err := v.parseRequest(w, r)
		if err != nil {
			http.Error(w, err.Error(), rejectStatus(err))
			return
		}
		if fn == nil {
			http.Error(w, "blueclerk: WebhookVerifier.Handler was given a nil function", http.StatusInternalServerError)
			return
		}
		store := v.deliveries()
		switch state, err := store.Claim(r.Context(), e.ID); {
		case err != nil || state < DeliveryNew || state > DeliveryDone:
			http.Error(w, "the delivery store is unavailable; retry later", http.StatusServiceUnavailable)
			return
		case state == DeliveryDone:
			http.Error(w, "already handled", http.StatusOK)
			return
		case state == DeliveryInProgress:
			http.Error(w, "this delivery is being handled; retry later", http.StatusConflict)
			return
		}
		if err := handleOnce(r.Context(), store, e, fn); err != nil {
			if p, ok := errors.AsType[*fnPanic](err); ok {
				answerPanic(w, r, e.ID, p)
				return
			}
			http.Error(w, "the webhook handler failed; retry later", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// rejectStatus is the status for a delivery parseRequest rejected.
func rejectStatus(err error) int {
	switch {
	case errors.Is(err, ErrInvalidSignature), errors.Is(err, ErrWebhookTimestamp):
		return http.StatusUnauthorized
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// handleOnce calls fn for e, which the caller claimed in store, and finishes
// the claim however fn ends, so that a failed delivery runs again when it is
// redelivered. A panic in fn is recovered and returned as a *fnPanic.
func handleOnce(ctx context.Context, store DeliveryStore, e *Event, fn func(context.Context, *Event) error) (err error) {
	handled := false
	defer func() {
		// The outcome is recorded even if the sender hung up. A failure to
		// record it is not the sender's to retry: fn ran, and a claim left
		// behind expires in the store.
		_ = store.Finish(context.WithoutCancel(ctx), e.ID, handled)
	}()
	defer func() {
		if p := recover(); p != nil {
			err = &fnPanic{value: p, stack: debug.Stack()}
		}
	}()
	if err := fn(ctx, e); err != nil {
		return err
	}
	handled = true
	return nil
}

// fnPanic is a panic of a Handler's fn, recovered.
type fnPanic struct {
	value any
	stack []byte
}

func (p *fnPanic) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// answerPanic answers a recovered panic of fn with 500 and logs it where
// net/http logs the panics it recovers: r's [http.Server.ErrorLog], or the
// log package. The log line holds the webhook-id, the panic and its stack,
// never the payload. [http.ErrAbortHandler] is panicked again, to abort the
// response as net/http does.
func answerPanic(w http.ResponseWriter, r *http.Request, id string, p *fnPanic) {
	if p.value == http.ErrAbortHandler {
		panic(http.ErrAbortHandler)
	}
	logf := log.Printf
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ErrorLog != nil {
		logf = srv.ErrorLog.Printf
	}
	logf("blueclerk: webhook handler panicked on webhook-id %q: %v\n%s", id, p.value, p.stack)
	http.Error(w, "the webhook handler failed; retry later", http.StatusInternalServerError)
}
