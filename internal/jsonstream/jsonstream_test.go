package jsonstream

import (
	"errors"
	"io"
	"strings"
	"testing"
)

type item struct{ ID string }

func read(body, key string) ([]string, error) {
	a, err := Open(strings.NewReader(body), key)
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
	for _, s := range []string{`{"items":[{"ID":"a"}]}`, `{"x":{"items":[]},"items":[1]}`, `{"items":[`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		read(body, "items")
	})
}
