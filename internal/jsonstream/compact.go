package jsonstream

import "io"

// compactReader passes a JSON text on with each run of whitespace outside
// strings cut to its first byte.
//
// json.Decoder keeps a run of whitespace it has not yet stepped over in its
// buffer and scans it again after each read, so that a run of n bytes costs
// time in n² and memory in n. One byte stands for the whole run: JSON needs
// whitespace only to part two tokens, and keeping the first byte keeps the
// decoder's errors word for word (such as "invalid character '\n' in
// literal true").
type compactReader struct {
	r io.Reader
	// Where the previous byte left the text, across reads.
	inString bool // inside a string
	escaped  bool // after a backslash inside a string
	space    bool // after whitespace outside a string
}

func (c *compactReader) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		w := c.compact(p[:n])
		// A read that was all whitespace gives nothing: read on rather than
		// answer 0, nil, unless the source itself gave nothing.
		if w > 0 || n == 0 || err != nil {
			return w, err
		}
	}
}

// compact drops the redundant whitespace of b in place and returns the
// length of what is left.
func (c *compactReader) compact(b []byte) int {
	inString, escaped, space := c.inString, c.escaped, c.space
	// b[:w] is what is kept so far; b[keep:i] is kept too, but not yet
	// moved down to w.
	w, keep := 0, 0
	for i := 0; i < len(b); {
		if inString {
			// Step over the string's bytes up to its closing quote.
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
			continue
		}
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			if !space {
				space = true
				i++
				continue
			}
			// Drop the run up to its end.
			if w != keep {
				copy(b[w:], b[keep:i])
			}
			w += i - keep
			for i < len(b) && isSpace(b[i]) {
				i++
			}
			keep = i
			continue
		case '"':
			inString = true
		}
		space = false
		i++
	}
	if w != keep {
		copy(b[w:], b[keep:])
	}
	w += len(b) - keep
	c.inString, c.escaped, c.space = inString, escaped, space
	return w
}

func isSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'
}
