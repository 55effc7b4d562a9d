package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	blueclerk "github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/blueclerktest"
)

// receiver is a webhook receiver of its own, verifying with the SDK's
// WebhookVerifier, independent of the command that signs.
type receiver struct {
	url, secret string
	mu          sync.Mutex
	events      []*blueclerk.Event
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{secret: blueclerktest.NewWebhookSecret()}
	v, err := blueclerk.NewWebhookVerifier(r.secret)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(v.Handler(func(_ context.Context, e *blueclerk.Event) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
		return nil
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// event returns the verified event of type typ, waiting up to 10 s for it.
func (r *receiver) event(t *testing.T, typ blueclerk.EventType) *blueclerk.Event {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		for _, e := range r.events {
			if e.Type == typ {
				r.mu.Unlock()
				return e
			}
		}
		r.mu.Unlock()
	}
	t.Fatalf("no verified %s event came", typ)
	return nil
}

func TestWebhooksTrigger(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	e := newEnv(t)
	for _, typ := range events {
		t.Run(string(typ), func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, e, "", "webhooks", "trigger", string(typ), "--forward-to", recv.url, "--secret", recv.secret).ok(t)
			if r.stdout != "204 No Content\n" {
				t.Errorf("stdout %q, want the receiver's status", r.stdout)
			}
			ev := recv.event(t, typ)
			// The record decodes as its event's kind says.
			var err error
			switch kind, _, _ := strings.Cut(string(typ), "."); kind {
			case "ticket":
				_, err = ev.Ticket()
			case "job":
				_, err = ev.Job()
			case "invoice":
				_, err = ev.Invoice()
			case "estimate":
				_, err = ev.Estimate()
			}
			var rec struct{ ID string }
			if err == nil {
				err = json.Unmarshal(ev.Data, &rec)
			}
			if err != nil || rec.ID == "" || time.Since(ev.Timestamp) > time.Minute {
				t.Errorf("%s: record %+v, timestamp %v: %v", typ, rec, ev.Timestamp, err)
			}
		})
	}
}

func TestWebhooksTriggerFailures(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	e := newEnv(t)
	r := runCmd(t, e, "", "webhooks", "trigger", "ticket.created", "--forward-to", recv.url, "--secret", blueclerktest.NewWebhookSecret())
	if r.code != 1 || r.stdout != "401 Unauthorized\n" || !strings.Contains(r.stderr, "check --forward-to and --secret") ||
		strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("wrong secret: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ticket.exploded", "--forward-to", recv.url, "--secret", recv.secret}, "unknown event"},
		{[]string{"ticket.created", "--secret", recv.secret}, "--forward-to"},
		{[]string{"ticket.created", "--forward-to", "ftp://example.com", "--secret", recv.secret}, "http or https"},
		{[]string{"ticket.created", "--forward-to", recv.url, "--secret", "whsec_!!"}, "--secret"},
	} {
		line := runCmd(t, e, "", append([]string{"webhooks", "trigger"}, c.args...)...).oneError(t)
		if !strings.Contains(line, c.want) {
			t.Errorf("%q: error %q does not say %q", c.args, line, c.want)
		}
	}
	// The secret may come from the environment instead.
	runCmd(t, e.with("BLUECLERK_WEBHOOK_SECRET="+recv.secret), "", "webhooks", "trigger", "job.completed", "--forward-to", recv.url).ok(t)
}
