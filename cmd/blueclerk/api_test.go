package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAPI(t *testing.T) {
	t.Parallel()
	f := startFake(t)

	r := runCmd(t, f.env, "", "api", "GET", "/api/v1/leads").ok(t)
	var leads struct{ Leads []map[string]any }
	if err := json.Unmarshal([]byte(r.stdout), &leads); err != nil || len(leads.Leads) != 3 || !strings.Contains(r.stdout, "\n  ") {
		t.Errorf("api GET leads printed %q (%v), want the answer indented", r.stdout, err)
	}
	r = runCmd(t, f.env, "", "api", "get", "/api/v1/leads", "--output", "jsonl").ok(t)
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, `{"leads":[`) {
		t.Errorf("api get -o jsonl printed %q, want one line", r.stdout)
	}

	// A write, sent twice with one Idempotency-Key, happens once.
	body := `{"name": "Jane Doe", "email": "jane@example.com"}`
	var ids []string
	for _, stdin := range []string{"", body} {
		data := body
		if stdin != "" {
			data = "@-"
		}
		r := runCmd(t, f.env, stdin, "api", "POST", "/api/v1/contacts", "--data", data,
			"--idempotency-key", "contact-jane", "--header", "X-Trace: 1").ok(t)
		var c struct{ ID, Name string }
		if err := json.Unmarshal([]byte(r.stdout), &c); err != nil || c.Name != "Jane Doe" {
			t.Fatalf("api POST printed %q (%v)", r.stdout, err)
		}
		ids = append(ids, c.ID)
	}
	r = runCmd(t, f.env, "", "api", "GET", "/api/v1/contacts").ok(t)
	var contacts struct{ Contacts []map[string]any }
	if err := json.Unmarshal([]byte(r.stdout), &contacts); err != nil || len(contacts.Contacts) != 1 || ids[0] != ids[1] {
		t.Errorf("two POSTs with one key made %d contacts (ids %q): %s", len(contacts.Contacts), ids, r.stdout)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"GET", "/api/v1/nothing"}, "404"},
		{[]string{"POST", "/api/v1/contacts", "--data", "{}"}, "name is required"},
		{[]string{"GET", "api/v1/leads"}, "must be absolute"},
		{[]string{"POST", "/api/v1/contacts", "--data", "not json"}, "--data: not JSON"},
		{[]string{"GET", "/api/v1/leads", "--header", "Authorization: Bearer x"}, "Authorization is set by the SDK"},
		{[]string{"GET", "/api/v1/leads", "--header", "no colon"}, "Name: value"},
		{[]string{"GET"}, "accepts 2 arg(s)"},
	} {
		line := runCmd(t, f.env, "", append([]string{"api"}, c.args...)...).oneError(t)
		if !strings.Contains(line, c.want) {
			t.Errorf("api %q: error %q does not say %q", c.args, line, c.want)
		}
	}
}
