package jsonstream

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// BenchmarkWhitespace reads {"items":[ N MiB of spaces ]} as a network or
// gzip body delivers it, 32 KiB a read at most: the time per byte must not
// grow with N.
func BenchmarkWhitespace(b *testing.B) {
	for _, mib := range []int{4, 8, 16} {
		body := fmt.Appendf(nil, `{"items":[%s]}`, bytes.Repeat([]byte(" "), mib<<20))
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				a, err := Open(&chunks{r: bytes.NewReader(body), n: 32 << 10}, "items", 8<<20)
				if err != nil {
					b.Fatal(err)
				}
				if ok, err := a.Next(new(item)); ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// chunks gives at most n bytes a read.
type chunks struct {
	r io.Reader
	n int
}

func (c *chunks) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), c.n)])
}

// BenchmarkOrdinaryBody reads 100 records of an ordinary compact body, as
// Open does and through a plain json.Decoder: the difference is what the
// reader in front of the decoder costs when there is nothing to drop.
func BenchmarkOrdinaryBody(b *testing.B) {
	body := []byte(`{"items":[`)
	for i := range 100 {
		if i > 0 {
			body = append(body, ',')
		}
		body = fmt.Appendf(body, `{"ID":"lead_%d","name":"John Smith","email":"john%d@example.com","phone":"555-1234","status":"new","createdAt":"2024-01-15T10:30:00Z"}`, i, i)
	}
	body = append(body, `]}`...)
	for _, bb := range []struct {
		name string
		open func(io.Reader) (*Array, error)
	}{
		{"Open", func(r io.Reader) (*Array, error) { return Open(r, "items", 8<<20) }},
		{"plain", func(r io.Reader) (*Array, error) { return open(r, "items") }},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				ids, err := elements(bb.open(bytes.NewReader(body)))
				if err != nil || len(ids) != 100 {
					b.Fatal(len(ids), err)
				}
			}
		})
	}
}
