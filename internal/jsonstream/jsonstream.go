// Package jsonstream reads the elements of one array inside a JSON object one
// at a time, so that memory does not grow with the array.
package jsonstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Array walks the array stored under one key of a top-level JSON object,
// such as {"leads": [...]}. Other keys, before or after it, are skipped
// without being held in memory.
type Array struct {
	dec  *json.Decoder
	done bool
}

// Open reads r up to the first element of the array under key. It returns an
// error when the body is not a JSON object, has no such key, or the key does
// not hold an array. Whatever whitespace r holds, it takes time linear in
// what it reads.
//
// A record is one element of the array, one key or value nested in another
// key's value, or one key or value other than an object or array at the top
// of the object: what the decoder holds whole. A record larger than
// maxRecord bytes, counted as sent, is an error, which Open or [Array.Next]
// returns once the decoder reaches it; no more than maxRecord bytes of it are
// held.
func Open(r io.Reader, key string, maxRecord int64) (*Array, error) {
	return open(&compactReader{r: r, max: maxRecord}, key)
}

// open is Open reading r as it is.
func open(r io.Reader, key string) (*Array, error) {
	a := &Array{dec: json.NewDecoder(r)}
	if err := a.expectDelim('{'); err != nil {
		return nil, err
	}
	for a.dec.More() {
		tok, err := a.dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		name, _ := tok.(string)
		if name != key {
			if err := a.skip(); err != nil {
				return nil, err
			}
			continue
		}
		tok, err = a.dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return nil, fmt.Errorf("key %q holds %s, not an array", key, describe(tok))
		}
		return a, nil
	}
	return nil, fmt.Errorf("no key %q in the object", key)
}

// Next decodes the next element into v. It returns false, nil after the last
// element, once the rest of the object has been read and found well formed.
func (a *Array) Next(v any) (bool, error) {
	if a.done {
		return false, nil
	}
	if a.dec.More() {
		if err := a.dec.Decode(v); err != nil {
			return false, syntax(err)
		}
		return true, nil
	}
	a.done = true
	if err := a.finish(); err != nil {
		return false, err
	}
	return false, nil
}

// finish reads the array's closing bracket and the rest of the object.
func (a *Array) finish() error {
	if err := a.expectDelim(']'); err != nil {
		return err
	}
	for a.dec.More() {
		if _, err := a.dec.Token(); err != nil {
			return syntax(err)
		}
		if err := a.skip(); err != nil {
			return err
		}
	}
	if err := a.expectDelim('}'); err != nil {
		return err
	}
	if _, err := a.dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

func (a *Array) expectDelim(want json.Delim) error {
	tok, err := a.dec.Token()
	if err != nil {
		return syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %s", string(want), describe(tok))
	}
	return nil
}

// skip reads one whole value, at any depth, without keeping it.
func (a *Array) skip() error {
	depth := 0
	for {
		tok, err := a.dec.Token()
		if err != nil {
			return syntax(err)
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		return "a string"
	case nil:
		return "null"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// syntax turns a bare io.EOF, which json reports for an empty or truncated
// body, into io.ErrUnexpectedEOF so that it is never mistaken for a clean end.
func syntax(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
