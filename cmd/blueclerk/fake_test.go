package main

import (
	"encoding/json"
	"testing"
)

// TestFakeServeDeliversWebhooks runs `fake serve --webhook` and drives it
// through the command and through control requests.
func TestFakeServeDeliversWebhooks(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	f := startFake(t, "--webhook", recv.url, "--secret", recv.secret, "--plan", "starter")
	r := runCmd(t, f.env, "", "tickets", "create", "--customer-id", "cust_1", "--description", "Leaky faucet").ok(t)
	var ticket struct{ ID string }
	if err := json.Unmarshal([]byte(r.stdout), &ticket); err != nil {
		t.Fatal(err)
	}
	if got, err := recv.event(t, "ticket.created").Ticket(); err != nil || got.ID != ticket.ID {
		t.Errorf("ticket.created carried %+v (%v), want %s", got, err, ticket.ID)
	}
	f.control(t, "POST", "/_fake/emit", `{"event":"ticket.updated","id":"`+ticket.ID+`"}`, nil)
	if got, err := recv.event(t, "ticket.updated").Ticket(); err != nil || got.Status != "in_progress" {
		t.Errorf("ticket.updated carried %+v (%v), want the ticket in progress", got, err)
	}
	var budget struct{ Limit int }
	f.control(t, "GET", "/_fake/budget", "", &budget)
	if budget.Limit != 100 {
		t.Errorf("--plan starter: hourly limit %d, want 100", budget.Limit)
	}
}
