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
	return elements(Open(strings.NewReader(body), key))
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
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, body string, chunk uint8) {
		// What Open reads, cut into reads of 1 to 8 bytes, decodes as the
		// plain json.Decoder decodes the whole body: the same elements and
		// the same error.
		want, wantErr := elements(open(strings.NewReader(body), "items"))
		got, err := elements(Open(&chunks{r: strings.NewReader(body), n: int(chunk%8) + 1}, "items"))
		if fmt.Sprint(got, err) != fmt.Sprint(want, wantErr) {
			t.Fatalf("compacted: %q, %v; plain: %q, %v", got, err, want, wantErr)
		}

		// The compacted text does not depend on where reads end, and holds
		// the same JSON.
		whole, _ := io.ReadAll(&compactReader{r: strings.NewReader(body)})
		cut, _ := io.ReadAll(&compactReader{r: &chunks{r: strings.NewReader(body), n: int(chunk%8) + 1}})
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

// spaces yields n bytes of mixed JSON whitespace.
type spaces struct{ n int }

func (s *spaces) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(len(p), s.n)]
	for i := range p {
		p[i] = " \t\n\r"[(s.n-i)%4]
	}
	s.n -= len(p)
	return len(p), nil
}

// asked records the largest read asked of a source: json.Decoder asks for
// the free room of its buffer, which it grows to hold what it has not yet
// consumed.
type asked struct {
	r       io.Reader
	largest int
}

func (a *asked) Read(p []byte) (int, error) {
	a.largest = max(a.largest, len(p))
	return a.r.Read(p)
}

func TestCompact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{" \t\n\r", " "},
		{"\n\n{ \t\"a\"\r\n:  [ 1 ,\t2 ]  } \n", "\n{ \"a\"\r: [ 1 ,\t2 ] } "},
		{`"  "  "  "`, `"  " "  "`},
		{`"\"  "  x`, `"\"  " x`},
		{`"\\"  "\\\"  "`, `"\\" "\\\"  "`},
		{`"\u0022  "  `, `"\u0022  " `},
		{"tr  ue", "tr ue"},
	}
	for _, tt := range tests {
		// Every way of cutting the input into reads gives the same text.
		for n := 1; n <= max(len(tt.in), 1); n++ {
			got, err := io.ReadAll(&compactReader{r: &chunks{r: strings.NewReader(tt.in), n: n}})
			if err != nil || string(got) != tt.want {
				t.Fatalf("%q in reads of %d: got %q, %v; want %q", tt.in, n, got, err, tt.want)
			}
		}
	}
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
			src := &asked{r: &chunks{r: io.MultiReader(strings.NewReader(before), &spaces{n: run}, strings.NewReader(after)), n: 4 << 10}}
			got, err := elements(Open(src, "items"))
			if err != nil || strings.Join(got, ",") != "a,b" {
				t.Fatalf("got %q, %v; want a,b", got, err)
			}
			if src.largest > 64<<10 {
				t.Errorf("the decoder asked for %d bytes at once: it holds the whitespace", src.largest)
			}
		})
	}
}
