package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"time"
)

const (
	// maxData bounds a --data body.
	maxData = 16 << 20
	// flushEvery is how often a list's output reaches stdout at least,
	// after its first record, which goes at once.
	flushEvery = 100 * time.Millisecond
	// progressEvery is how often the progress line is redrawn.
	progressEvery = 200 * time.Millisecond
)

// readData returns a --data value's bytes: the value itself, the file
// named after "@", or standard input for "@-".
func (a *app) readData(v string) ([]byte, error) {
	name, ok := strings.CutPrefix(v, "@")
	if !ok {
		return []byte(v), nil
	}
	r := a.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxData+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("--data: %w", err)
	case len(b) > maxData:
		return nil, fmt.Errorf("--data: larger than %d MiB", maxData>>20)
	}
	return b, nil
}

// decodeData decodes a --data value, which must be one JSON object whose
// members dst knows, into dst.
func (a *app) decodeData(v string, dst any) error {
	b, err := a.readData(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("--data: more than one JSON value")
	}
	return nil
}

// marshal encodes v as compact JSON, leaving <, > and & as they are.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// printObject prints v as JSON; see printJSON.
func (a *app) printObject(v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	return a.printJSON(b)
}

// printJSON prints the JSON text b indented, or on one line with --output
// jsonl. Empty b prints nothing.
func (a *app) printJSON(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var buf bytes.Buffer
	var err error
	if a.output == "jsonl" {
		err = json.Compact(&buf, b)
	} else {
		err = json.Indent(&buf, b, "", "  ")
	}
	if err != nil {
		return fmt.Errorf("the answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err = a.stdout.Write(buf.Bytes())
	return err
}

// printList prints the records of seq as they come, in the --output
// format: a table, one JSON array, or one JSON object a line. Output is
// flushed with the first record and then at least every flushEvery, so a
// long list starts at once and memory does not grow with it. After an error
// the JSON array is left unclosed, so that no reader takes a part for the
// whole.
func printList[T any](a *app, name string, seq iter.Seq2[*T, error], cols []column[T]) error {
	w := &flusher{Writer: bufio.NewWriterSize(a.stdout, 32<<10)}
	p := a.newProgress(name)
	write, end := listWriter(a, w, cols)
	n := 0
	for rec, err := range seq {
		if err == nil {
			err = write(rec)
		}
		if err == nil {
			err = w.tick()
		}
		if err != nil {
			p.done()
			_ = w.Flush()
			return err
		}
		n++
		p.tick(n)
	}
	p.done()
	if err := end(n); err != nil {
		return err
	}
	if n == 0 && a.output == "table" {
		fmt.Fprintf(a.stderr, "No %s.\n", name)
	}
	return w.Flush()
}

// listWriter returns how printList writes a record and ends the list of n
// records, in the --output format.
func listWriter[T any](a *app, w io.Writer, cols []column[T]) (write func(*T) error, end func(n int) error) {
	switch a.output {
	case "json":
		sep := "[\n  "
		write = func(rec *T) error {
			b, err := marshal(rec)
			if err == nil {
				_, err = fmt.Fprintf(w, "%s%s", sep, b)
			}
			sep = ",\n  "
			return err
		}
		end = func(n int) error {
			closing := "\n]\n"
			if n == 0 {
				closing = "[]\n"
			}
			_, err := io.WriteString(w, closing)
			return err
		}
	case "jsonl":
		write = func(rec *T) error {
			b, err := marshal(rec)
			if err == nil {
				_, err = fmt.Fprintf(w, "%s\n", b)
			}
			return err
		}
		end = func(int) error { return nil }
	default:
		t := newTable(w, specs(cols), a.tableWidth())
		cells := make([]string, len(cols))
		write = func(rec *T) error {
			for i, c := range cols {
				cells[i] = c.cell(rec)
			}
			return t.row(cells)
		}
		end = func(int) error { return nil }
	}
	return write, end
}

// flusher is a buffered writer that flushes its first write at once and
// then at most every flushEvery.
type flusher struct {
	*bufio.Writer
	last time.Time
}

// tick flushes when flushEvery has passed since the last flush.
func (f *flusher) tick() error {
	if now := time.Now(); now.Sub(f.last) >= flushEvery {
		f.last = now
		return f.Flush()
	}
	return nil
}

// progress is a line on stderr counting the records listed so far. It is
// shown only when stderr is a terminal and stdout is not, where the records
// themselves would show it, and only for lists that take a while.
type progress struct {
	w     io.Writer
	name  string
	on    bool
	shown bool
	last  time.Time
}

func (a *app) newProgress(name string) *progress {
	return &progress{w: a.stderr, name: name, on: a.stderrTTY && !a.stdoutTTY, last: time.Now()}
}

// tick shows that n records have been listed, when it is time to.
func (p *progress) tick(n int) {
	if !p.on {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= progressEvery {
		p.last = now
		p.shown = true
		fmt.Fprintf(p.w, "\r%d %s…", n, p.name)
	}
}

// done clears the progress line.
func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
