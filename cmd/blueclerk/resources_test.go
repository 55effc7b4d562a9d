package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// creates are a valid `create` of each resource that has one, by flags.
var creates = []struct {
	resource string
	args     []string
}{
	{"tickets", []string{"--customer-id", "cust_1", "--description", "Leaky faucet", "--priority", "high"}},
	{"jobs", []string{"--ticket-id", "ticket_1", "--scheduled-date", "2024-01-20T14:00:00Z", "--assigned-to", "user_456"}},
	{"properties", []string{"--address", "123 Main St", "--city", "Austin", "--state", "TX", "--zip", "78701"}},
	{"estimates", []string{"--customer-id", "cust_1", "--line-item", "2,75.00,Labor, in hours", "--line-item", "1,18.95,Valve"}},
	{"invoices", []string{"--customer-id", "cust_1", "--line-item", "1,150.00,item_456", "--due-date", "2024-02-01"}},
	{"contacts", []string{"--name", "Jane Doe", "--email", "jane@example.com"}},
}

func TestCreateThenListInEachFormat(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	for _, c := range creates {
		t.Run(c.resource, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, f.env, "", append([]string{c.resource, "create"}, c.args...)...).ok(t)
			var created struct{ ID string }
			if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || created.ID == "" {
				t.Fatalf("create printed %q, want a JSON object with an id (%v)", r.stdout, err)
			}
			id := created.ID
			checkListed(t, f, c.resource, id)
		})
	}
	t.Run("leads", func(t *testing.T) {
		t.Parallel()
		checkListed(t, f, "leads", "lead_3")
	})
}

// checkListed lists resource in each output format and checks that id is
// there.
func checkListed(t *testing.T, f *fake, resource, id string) {
	t.Helper()
	r := runCmd(t, f.env, "", resource, "list", "--output", "json").ok(t)
	var arr []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &arr); err != nil {
		t.Fatalf("list -o json printed %q: %v", r.stdout, err)
	}
	if !hasID(arr, id) {
		t.Errorf("list -o json lacks %s: %s", id, r.stdout)
	}

	r = runCmd(t, f.env, "", resource, "list", "--output", "jsonl").ok(t)
	var lines []map[string]any
	for line := range strings.Lines(r.stdout) {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("list -o jsonl line %q: %v", line, err)
		}
		lines = append(lines, obj)
	}
	if len(lines) != len(arr) || !hasID(lines, id) {
		t.Errorf("list -o jsonl printed %d records, want %d with %s: %s", len(lines), len(arr), id, r.stdout)
	}

	r = runCmd(t, f.env.with("COLUMNS=80"), "", resource, "list", "--output", "table").ok(t)
	rows := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(rows) != len(arr)+1 || !strings.HasPrefix(rows[0], "ID  ") {
		t.Fatalf("list -o table: %d lines, want a header and %d rows:\n%s", len(rows), len(arr), r.stdout)
	}
	found := false
	for _, row := range rows {
		found = found || strings.HasPrefix(row, id+" ")
		if n := len([]rune(row)); n > 80 {
			t.Errorf("table row of %d characters does not fit COLUMNS=80: %q", n, row)
		}
	}
	if !found {
		t.Errorf("list -o table lacks %s:\n%s", id, r.stdout)
	}
}

func hasID(records []map[string]any, id string) bool {
	for _, r := range records {
		if r["id"] == id {
			return true
		}
	}
	return false
}

func TestCreateFromData(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	file := filepath.Join(t.TempDir(), "ticket.json")
	if err := os.WriteFile(file, []byte(`{"customerId":"cust_2","description":"From a file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `{"customerId":"cust_1","description":"Leaky faucet","priority":"low"}`
	for _, c := range []struct {
		name, stdin string
		args        []string
		want        map[string]string
	}{
		{"json", "", []string{"--data", body}, map[string]string{"customerId": "cust_1", "priority": "low"}},
		{"file", "", []string{"--data", "@" + file}, map[string]string{"customerId": "cust_2", "description": "From a file"}},
		{"stdin", body, []string{"--data", "@-"}, map[string]string{"description": "Leaky faucet"}},
		{"flags over data", "", []string{"--data", body, "--priority", "urgent"}, map[string]string{"customerId": "cust_1", "priority": "urgent"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, f.env, c.stdin, append([]string{"tickets", "create"}, c.args...)...).ok(t)
			var got map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("create printed %q: %v", r.stdout, err)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestRefusedCreateNamesTheField(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	for _, c := range []struct {
		args []string
		want []string // in the error line
	}{
		{[]string{"tickets", "create", "--description", "No customer"}, []string{"customerId", "--customer-id"}},
		{[]string{"jobs", "create", "--ticket-id", "ticket_1"}, []string{"scheduledDate", "--scheduled-date"}},
		{[]string{"properties", "create", "--address", "1 Main St", "--city", "Austin", "--state", "TX"}, []string{"zip", "--zip"}},
		{[]string{"estimates", "create", "--customer-id", "cust_1"}, []string{"lineItems", "--line-item"}},
		{[]string{"estimates", "create", "--customer-id", "cust_1", "--line-item", "0,1,Nothing"}, []string{"lineItems[0].quantity", "--line-item"}},
		{[]string{"invoices", "create", "--customer-id", "cust_1", "--line-item", "1,1,item_1"}, []string{"dueDate", "--due-date"}},
		{[]string{"contacts", "create", "--email", "jane@example.com"}, []string{"name", "--name"}},
		{[]string{"tickets", "create", "--data", `{"customer_id":"cust_1"}`}, []string{"unknown field", "customer_id"}},
		{[]string{"tickets", "create", "--data", `{"customerId":"c"} {}`}, []string{"more than one JSON value"}},
		{[]string{"jobs", "create", "--ticket-id", "t", "--scheduled-date", "tomorrow"}, []string{"--scheduled-date", "RFC 3339"}},
		{[]string{"estimates", "create", "--customer-id", "c", "--line-item", "two"}, []string{"--line-item", "QUANTITY,UNIT_PRICE,DESCRIPTION"}},
		{[]string{"tickets", "create", "--data", "@/nonexistent/ticket.json"}, []string{"--data", "no such file"}},
	} {
		line := runCmd(t, f.env, "", c.args...).oneError(t)
		for _, w := range c.want {
			if !strings.Contains(line, w) {
				t.Errorf("%q: error %q does not name %q", c.args, line, w)
			}
		}
	}
	var budget struct{ Limit, Remaining int }
	f.control(t, "GET", "/_fake/budget", "", &budget)
	if budget.Remaining != budget.Limit {
		t.Errorf("budget %+v after refused creates: something was sent", budget)
	}
}
