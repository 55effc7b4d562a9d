package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// gap is the space between table columns.
const gap = 2

// colSpec is a table column's header and the widths it may take.
type colSpec struct {
	header   string
	min, max int
}

// table writes rows in columns of fixed widths, chosen before the first row
// so that rows can be written as they come. Its header goes out with the
// first row.
type table struct {
	w      io.Writer
	cols   []colSpec
	widths []int // of the columns shown, a prefix of cols
	header bool  // written
	line   strings.Builder
}

// newTable returns a table of cols fitting width characters (0: no limit).
func newTable(w io.Writer, cols []colSpec, width int) *table {
	return &table{w: w, cols: cols, widths: fit(cols, width)}
}

// fit chooses the widths of the columns shown: each its max when they fit
// in width (or width is 0), else narrowed, the one with most room above its
// min first; when even their mins are too wide, the last columns are left
// out. The first column is always shown.
func fit(cols []colSpec, width int) []int {
	for n := len(cols); n > 0; n-- {
		widths := make([]int, n)
		over := gap*(n-1) - width
		for i, c := range cols[:n] {
			widths[i] = max(c.max, c.minWidth())
			over += widths[i]
		}
		if width <= 0 {
			return widths
		}
		for over > 0 {
			best, room := -1, 0
			for i, w := range widths {
				if r := w - cols[i].minWidth(); r > room {
					best, room = i, r
				}
			}
			if best < 0 {
				break
			}
			widths[best]--
			over--
		}
		if over <= 0 || n == 1 {
			return widths
		}
	}
	return nil
}

// minWidth is the narrowest the column may be: its min, and room for its
// header.
func (c colSpec) minWidth() int { return max(c.min, len(c.header)) }

// row writes one row of cells (one per column of the table), each cut to
// its column's width; the header goes first.
func (t *table) row(cells []string) error {
	if !t.header {
		t.header = true
		headers := make([]string, len(t.cols))
		for i, c := range t.cols {
			headers[i] = c.header
		}
		if err := t.row(headers); err != nil {
			return err
		}
	}
	t.line.Reset()
	for i, w := range t.widths {
		cell := clip(cells[i], w)
		t.line.WriteString(cell)
		if i < len(t.widths)-1 {
			t.line.WriteString(strings.Repeat(" ", w-utf8.RuneCountInString(cell)+gap))
		}
	}
	_, err := io.WriteString(t.w, strings.TrimRight(t.line.String(), " ")+"\n")
	return err
}

// clip makes s one line of at most width characters: control characters
// (newlines, escape sequences) become spaces, and a longer s ends in "…".
func clip(s string, width int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	runes := []rune(s)
	return string(runes[:max(width-1, 0)]) + "…"
}

// tableWidth is the width tables fit: the terminal's, else $COLUMNS, else
// none.
func (a *app) tableWidth() int {
	if a.width > 0 {
		return a.width
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}
