package jsonstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

type item struct{ ID string }

func read(body, key string) ([]string, error) {
	return elements(Open(strings.NewReader(body), key, 1<<20))
}

// elements reads the IDs of the elements of an Array just opened.
func elements(a *Array, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	var ids []string
	for {
		var v item
		ok, err := a.Next(&v)
		if err != nil {
			return ids, err
		}
		if !ok {
			return ids, nil
		}
		ids = append(ids, v.ID)
	}
}

// anyError in a wantErr column accepts any error.
const anyError = "*"

func TestArray(t *testing.T) {
	tests := []struct {
		body    string
		want    []string
		wantErr string
	}{
		{`{"items":[]}`, nil, ""},
		{`{"items":[{"ID":"a"},{"ID":"b"}]}`, []string{"a", "b"}, ""},
		{`{"before":{"x":[1,{"y":[]}]},"items":[{"ID":"a"}],"after":"z"}`, []string{"a"}, ""},
		{` {"items" : [ {"ID":"a"} ] } ` + "\n", []string{"a"}, ""},
		{`{"other":[]}`, nil, `no key "items"`},
		{`{"items":{}}`, nil, "not an array"},
		{`{"items":null}`, nil, "null, not an array"},
		{`{"items":"x"}`, nil, "a string, not an array"},
		{`[]`, nil, `expected "{", found "["`},
		{``, nil, anyError},
		{`{"items":[{"ID":"a"},`, []string{"a"}, anyError},
		{`{"items":[{"ID":"a"}]`, []string{"a"}, anyError},
		{`{"items":[{"ID":"a"}]}{}`, []string{"a"}, "after the JSON object"},
		{`{"items":[{"ID":1}]}`, nil, anyError},
		{`{"items":[{"ID":"a"}],"after":}`, []string{"a"}, anyError},
	}
	for _, tt := range tests {
		got, err := read(tt.body, "items")
		if tt.wantErr == anyError && err != nil {
			// encoding/json words its own errors differently from one Go
			// release to the next; only ours are matched by text.
		} else if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err = %v, want %q", tt.body, err, tt.wantErr)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: got %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestTruncationIsNeverACleanEnd(t *testing.T) {
	body := `{"items":[{"ID":"a"},{"ID":"b"}],"n":2}`
	for i := range len(body) {
		_, err := read(body[:i], "items")
		if err == nil {
			t.Fatalf("a body cut at %d bytes (%q) read as complete", i, body[:i])
		}
		if errors.Is(err, io.EOF) {
			t.Fatalf("cut at %d: bare io.EOF", i)
		}
	}
}

func FuzzArray(f *testing.F) {
	for _, s := range []string{`{"items":[{"ID":"a"}]}`, `{"x":{"items":[]},"items":[1]}`, `{"items":[`, `{}`,
		" {\n\t\"items\" : [ {\"ID\" : \"a \\\" \\\\\"} , tr\n ue ] } \r\n", `{"items":[1 2]}`,
		`{"items":[{"ID":"\"  \\"},  {"ID":"\\\\"}  ]}`} {
		f.Add(s, uint8(0), uint8(4))
	}
	f.Fuzz(func(t *testing.T, body string, chunk, limit uint8) {
		// What Open reads, cut into reads of 1 to 8 bytes, decodes as the
		// plain json.Decoder decodes the whole body: the same elements and
		// the same error.
		want, wantErr := elements(open(strings.NewReader(body), "items"))
		got, err := elements(Open(&chunks{r: strings.NewReader(body), n: int(chunk%8) + 1}, "items", 1<<20))
		if fmt.Sprint(got, err) != fmt.Sprint(want, wantErr) {
			t.Fatalf("compacted: %q, %v; plain: %q, %v", got, err, want, wantErr)
		}

		// With a limit of a few bytes: the same again, or the same
		// elements up to a record too large.
		got, err = elements(Open(&chunks{r: strings.NewReader(body), n: int(chunk%8) + 1}, "items", int64(limit%32)+1))
		if err != nil && strings.HasPrefix(err.Error(), "record larger than ") {
			if len(got) > len(want) || fmt.Sprint(got) != fmt.Sprint(want[:len(got)]) {
				t.Fatalf("limit %d: %q, %v; without: %q, %v", limit%32+1, got, err, want, wantErr)
			}
		} else if fmt.Sprint(got, err) != fmt.Sprint(want, wantErr) {
			t.Fatalf("limit %d: %q, %v; without: %q, %v", limit%32+1, got, err, want, wantErr)
		}

		// The compacted text does not depend on where reads end, and holds
		// the same JSON.
		whole, _ := io.ReadAll(&compactReader{r: strings.NewReader(body), max: 1 << 20})
		cut, _ := io.ReadAll(&compactReader{r: &chunks{r: strings.NewReader(body), n: int(chunk%8) + 1}, max: 1 << 20})
		if !bytes.Equal(whole, cut) {
			t.Fatalf("compacted whole: %q; in reads of %d bytes: %q", whole, chunk%8+1, cut)
		}
		if json.Valid([]byte(body)) {
			var a, b bytes.Buffer
			if json.Compact(&a, []byte(body)) != nil || json.Compact(&b, whole) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("%q compacted to %q, which is another JSON text", body, whole)
			}
		}
	})
}

// filler yields n bytes of s, s again and again.
type filler struct {
	s string
	n int
}

func (f *filler) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(len(p), f.n)]
	for i := range p {
		p[i] = f.s[(f.n-i)%len(f.s)]
	}
	f.n -= len(p)
	return len(p), nil
}

// source records how much was read of r, and the largest read asked of it:
// json.Decoder asks for the free room of its buffer, which it grows to
// hold what it has not yet consumed.
type source struct {
	r       io.Reader
	read    int
	largest int
}

func (s *source) Read(p []byte) (int, error) {
	s.largest = max(s.largest, len(p))
	n, err := s.r.Read(p)
	s.read += n
	return n, err
}

// TestWhitespaceIsNotBuffered puts a long run of whitespace at every place
// JSON allows one. The decoder must never hold the run: holding it is what
// makes it scan the run again at each refill, in time that grows with the
// square of its length, and costs memory that grows with it.
func TestWhitespaceIsNotBuffered(t *testing.T) {
	const run = 1 << 20
	body := `_{_"before"_:_{_"x"_:_[_1_,_"y"_]_}_,_"items"_:_[_{_"ID"_:_"a"_,_"n"_:_{_"m"_:_[_]_}_}_,_{"ID":"b"}_]_,_"after"_:_"z"_}_`
	for i := range strings.Count(body, "_") {
		parts := strings.SplitAfterN(body, "_", i+2)
		before := strings.ReplaceAll(strings.Join(parts[:i+1], ""), "_", "")
		after := strings.ReplaceAll(parts[i+1], "_", "")
		t.Run(fmt.Sprintf("after %d bytes", len(before)), func(t *testing.T) {
			src := &source{r: &chunks{r: io.MultiReader(strings.NewReader(before), &filler{s: " \t\n\r", n: run}, strings.NewReader(after)), n: 4 << 10}}
			got, err := elements(Open(src, "items", 8<<20))
			if err != nil || strings.Join(got, ",") != "a,b" {
				t.Fatalf("got %q, %v; want a,b", got, err)
			}
			if src.largest > 64<<10 {
				t.Errorf("the decoder asked for %d bytes at once: it holds the whitespace", src.largest)
			}
		})
	}
}

func TestRecordLimit(t *testing.T) {
	const limit = 16
	// A record of n bytes: {"ID":"aaa…"}.
	record := func(n int) string { return `{"ID":"` + strings.Repeat("a", n-len(`{"ID":""}`)) + `"}` }
	fit, over := record(limit), record(limit+1)
	a7 := strings.Repeat("a", limit-len(`{"ID":""}`))
	tests := []struct {
		body     string
		want     []string
		tooLarge bool
	}{
		{`{"items":[` + fit + `,` + fit + `]}`, []string{a7, a7}, false},
		{`{"items":[` + fit + `,` + over + `,` + fit + `]}`, []string{a7}, true},
		// Whitespace inside a record counts as sent; around one, not at all.
		{`{"items":[ ` + fit + "\n ,\t" + fit + " ] } ", []string{a7, a7}, false},
		{`{"items":[{"ID": "` + a7[1:] + `"}]}`, []string{a7[1:]}, false},
		{`{"items":[{"ID":  "` + a7[1:] + `"}]}`, nil, true},
		{`{"items":[{"ID":"` + a7 + `"` + strings.Repeat(" ", 1<<20) + `}]}`, nil, true},
		// So do the bytes of an escape.
		{`{"items":[{"ID":"\"\"\"a"}]}`, []string{`"""a`}, false},
		{`{"items":[{"ID":"\"\"\"\""}]}`, nil, true},
		// Elements that are not objects, nested ones, and a long array of
		// small ones inside an element.
		{`{"items":[` + strings.Repeat("1", limit) + `]}`, nil, false},
		{`{"items":[` + strings.Repeat("1", limit+1) + `]}`, nil, true},
		{`{"items":[[` + strings.Repeat("[1],", 3) + `[1]]]}`, nil, true},
		// Keys, and what other keys hold, before and after the array.
		{`{"` + strings.Repeat("k", limit-2) + `":1,"items":[]}`, nil, false},
		{`{"` + strings.Repeat("k", limit-1) + `":1,"items":[]}`, nil, true},
		{`{"x":"` + strings.Repeat("v", limit-1) + `","items":[]}`, nil, true},
		{`{"x":` + strings.Repeat("9", limit+1) + `,"items":[]}`, nil, true},
		{`{"x":[` + strings.Repeat(fit+",", 100) + fit + `],"items":[]}`, nil, false},
		{`{"x":{"y":` + fit + `,"z":` + fit + `},"items":[]}`, nil, false},
		{`{"x":{"y":` + over + `},"items":[]}`, nil, true},
		{`{"items":[` + fit + `],"after":[` + over + `]}`, []string{a7}, true},
	}
	for _, tt := range tests {
		for _, n := range []int{1, 5, 4 << 10} {
			got, err := elements(Open(&chunks{r: strings.NewReader(tt.body), n: n}, "items", limit))
			tooLarge := err != nil && strings.Contains(err.Error(), "record larger than 16 bytes")
			if tooLarge != tt.tooLarge || strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("%.80q in reads of %d: got %q, %v; want %q, too large: %t", tt.body, n, got, err, tt.want, tt.tooLarge)
			}
		}
	}
}

// TestLargeRecordIsNotRead reads a 64 MiB record with a limit of 1 MiB:
// little more than the limit may be read.
func TestLargeRecordIsNotRead(t *testing.T) {
	src := &source{r: &chunks{r: io.MultiReader(
		strings.NewReader(`{"items":[{"ID":"a"},{"ID":"`),
		&filler{s: "a", n: 64 << 20},
		strings.NewReader(`"}]}`)), n: 4 << 10}}
	got, err := elements(Open(src, "items", 1<<20))
	if err == nil || err.Error() != "record larger than 1 MiB" || len(got) != 1 || got[0] != "a" {
		t.Fatalf("got %d elements, %v; want a, then record larger than 1 MiB", len(got), err)
	}
	if src.read > 1<<20+64<<10 {
		t.Errorf("read %d bytes", src.read)
	}
}
