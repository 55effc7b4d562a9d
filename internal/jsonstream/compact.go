package jsonstream

import (
	"fmt"
	"io"
)

// compactReader passes a JSON text on with each run of whitespace outside
// strings cut to its first byte, and fails once one record grows past max
// bytes (see [Open] for what a record is).
//
// json.Decoder keeps a run of whitespace it has not yet stepped over in its
// buffer and scans it again after each read, so that a run of n bytes costs
// time in n² and memory in n. One byte stands for the whole run: JSON needs
// whitespace only to part two tokens, and keeping the first byte keeps the
// decoder's errors word for word (such as "invalid character '\n' in
// literal true").
//
// The decoder holds a record whole before decoding it, growing its buffer
// to fit; failing the read past max bytes of one keeps that buffer within
// about twice max.
type compactReader struct {
	r   io.Reader
	max int64 // the bytes one record may take
	err error // once a record went past max, for every later read

	// Where the text stands after the bytes read so far.
	inString bool  // inside a string
	escaped  bool  // after a backslash inside a string
	space    bool  // after whitespace outside a string
	depth    int   // objects and arrays open
	size     int64 // bytes of the record being read, 0 between records
}

func (c *compactReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for {
		n, err := c.r.Read(p)
		w := c.compact(p[:n])
		switch {
		case c.err != nil && w > 0:
			// What came before the record goes first; the error comes at
			// the next read, and at every one after it, as json.Decoder
			// drops an error that comes with the end of a value.
			return w, nil
		case c.err != nil:
			return 0, c.err
		case w > 0 || n == 0 || err != nil:
			// A read that was all whitespace gives nothing: read on
			// rather than answer 0, nil, unless the source gave nothing.
			return w, err
		}
	}
}

// compact drops the redundant whitespace of b in place and returns the
// length of what is left. When a record goes past c.max, it sets c.err and
// keeps only what comes before the byte too many.
func (c *compactReader) compact(b []byte) int {
	inString, escaped, space, depth, size := c.inString, c.escaped, c.space, c.depth, c.size
	// b[:w] is what is kept so far; b[keep:i] is kept too, but not yet
	// moved down to w. end is where what is kept ends.
	w, keep, end := 0, 0, len(b)
scan:
	for i := 0; i < len(b); {
		if inString {
			// Step over the string's bytes up to its closing quote.
			from := i
			if escaped {
				escaped = false
				i++
			}
			for i < len(b) && b[i] != '"' && b[i] != '\\' {
				i++
			}
			if i < len(b) {
				escaped = b[i] == '\\'
				inString = escaped
				i++
			}
			if size += int64(i - from); size > c.max {
				end = i - int(size-c.max)
				break scan
			}
			continue
		}
		// A record is made of every byte from its first to its last; what
		// stands between records outside strings (whitespace, the commas,
		// colons, brackets and braces of the outer two levels) parts them.
		between := false
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			j := i + 1
			for j < len(b) && isSpace(b[j]) {
				j++
			}
			if depth < 3 {
				size = 0
			} else if size += int64(j - i); size > c.max {
				end = i
				break scan
			}
			// Keep the run's first byte, if it is in b, and drop the rest.
			from := i
			if !space {
				from++
			}
			if w != keep {
				copy(b[w:], b[keep:from])
			}
			w += from - keep
			keep, i, space = j, j, true
			continue
		case '"':
			inString = true
		case '{', '[':
			depth++
			between = depth <= 2
		case '}', ']':
			depth--
			between = depth <= 1
		case ',', ':':
			between = depth <= 2
		}
		space = false
		if between {
			size = 0
		} else if size++; size > c.max {
			end = i
			break scan
		}
		i++
	}
	if size > c.max {
		c.err = fmt.Errorf("record larger than %s", bytesText(c.max))
	}
	if w != keep {
		copy(b[w:], b[keep:end])
	}
	w += end - keep
	c.inString, c.escaped, c.space, c.depth, c.size = inString, escaped, space, depth, size
	return w
}

func isSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'
}

// bytesText writes n in MiB when it is a whole number of them.
func bytesText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
