package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

func TestFit(t *testing.T) {
	t.Parallel()
	cols := []colSpec{{"ID", 4, 10}, {"NAME", 4, 20}, {"STATUS", 6, 8}}
	for _, c := range []struct {
		width int
		want  []int
	}{
		{0, []int{10, 20, 8}},
		{100, []int{10, 20, 8}},
		{42, []int{10, 20, 8}},
		{41, []int{10, 19, 8}},
		{30, []int{9, 9, 8}},
		{20, []int{4, 5, 7}},
		{18, []int{4, 4, 6}},
		{17, []int{7, 8}},
		{5, []int{5}},
		{3, []int{4}},
	} {
		if got := fit(cols, c.width); !slices.Equal(got, c.want) {
			t.Errorf("fit(%d) = %v, want %v", c.width, got, c.want)
		}
	}
	if got := fit(nil, 80); len(got) != 0 {
		t.Errorf("fit of no columns = %v", got)
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in    string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a bit too long", 10, "a bit too…"},
		{"line\nbreak\ttab", 20, "line break tab"},
		{"\x1b[31mred\x1b[0m", 20, " [31mred [0m"},
		{"ünïcödé wörds", 8, "ünïcödé…"},
		{"x", 0, "…"},
	} {
		got := clip(c.in, c.width)
		if got != c.want || c.width > 0 && utf8.RuneCountInString(got) > c.width {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}

// tickets yields n tickets, calling before(i) before yielding the i-th, and
// then err, if not nil.
func tickets(n int, before func(i int), err error) iter.Seq2[*blueclerk.Ticket, error] {
	return func(yield func(*blueclerk.Ticket, error) bool) {
		for i := range n {
			before(i)
			desc := strings.Repeat("Leaky faucet in the master bathroom, again. ", i%4+1)
			if !yield(&blueclerk.Ticket{ID: "ticket_" + string(rune('a'+i%26)), CustomerID: "cust_1", Description: desc}, nil) {
				return
			}
		}
		if err != nil {
			yield(nil, err)
		}
	}
}

func TestPrintListStreams(t *testing.T) {
	t.Parallel()
	for _, output := range outputs {
		var out, errOut bytes.Buffer
		a := &app{stdout: &out, stderr: &errOut, output: output, width: 60}
		err := printList(a, "tickets", tickets(3, func(i int) {
			// The first record is out before the second is read.
			if i == 1 && !strings.Contains(out.String(), "cust_1") {
				t.Errorf("%s: nothing printed after the first record: %q", output, out.String())
			}
		}, nil), ticketColumns)
		if err != nil {
			t.Fatalf("%s: %v", output, err)
		}
		switch output {
		case "json":
			var arr []blueclerk.Ticket
			if err := json.Unmarshal(out.Bytes(), &arr); err != nil || len(arr) != 3 {
				t.Errorf("json: %d tickets (%v):\n%s", len(arr), err, out.String())
			}
		case "jsonl":
			if n := strings.Count(out.String(), "\n"); n != 3 {
				t.Errorf("jsonl: %d lines, want 3:\n%s", n, out.String())
			}
		case "table":
			for line := range strings.Lines(out.String()) {
				if n := utf8.RuneCountInString(strings.TrimSuffix(line, "\n")); n > 60 {
					t.Errorf("table line of %d characters in 60 columns: %q", n, line)
				}
			}
			if strings.Count(out.String(), "\n") != 4 {
				t.Errorf("table: want a header and 3 rows:\n%s", out.String())
			}
		}
	}
}

func TestPrintListEmptyAndFailed(t *testing.T) {
	t.Parallel()
	none := func(int) {}
	for _, c := range []struct {
		output  string
		n       int
		err     error
		stdout  string
		stderr  string
		wantErr bool
	}{
		{"json", 0, nil, "[]\n", "", false},
		{"jsonl", 0, nil, "", "", false},
		{"table", 0, nil, "", "No tickets.\n", false},
		{"json", 1, errors.New("boom"), "[\n  {", "", true},
	} {
		var out, errOut bytes.Buffer
		a := &app{stdout: &out, stderr: &errOut, output: c.output}
		err := printList(a, "tickets", tickets(c.n, none, c.err), ticketColumns)
		if (err != nil) != c.wantErr || !strings.HasPrefix(out.String(), c.stdout) || errOut.String() != c.stderr {
			t.Errorf("%s, %d records, error %v: got %v, stdout %q, stderr %q", c.output, c.n, c.err, err, out.String(), errOut.String())
		}
		if c.wantErr && strings.HasSuffix(strings.TrimSpace(out.String()), "]") {
			t.Errorf("a failed list closed its JSON array: %q", out.String())
		}
	}
}

// TestPrintListMemoryIsFlat lists 100,000 records and checks that the live
// heap after the last is about what it was after the first thousand.
// It runs alone, so that other tests' allocations do not blur the count.
func TestPrintListMemoryIsFlat(t *testing.T) {
	const n = 100_000
	var early, late uint64
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	a := &app{stdout: io.Discard, stderr: io.Discard, output: "json"}
	err := printList(a, "tickets", tickets(n, func(i int) {
		switch i {
		case 1000:
			early = live()
		case n - 1:
			late = live()
		}
	}, nil), ticketColumns)
	if err != nil {
		t.Fatal(err)
	}
	if late > early+1<<20 {
		t.Errorf("live heap grew from %d to %d bytes over %d records", early, late, n)
	}
}
