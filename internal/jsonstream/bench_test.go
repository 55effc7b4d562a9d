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
