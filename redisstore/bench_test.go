package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/blueclerk/blueclerk-go"
)

// BenchmarkAcquireRelease measures what the shared account costs a request
// with a budget reported (two scripts, one round trip each, on loopback),
// against the in-process limiter in the same run.
func BenchmarkAcquireRelease(b *testing.B) {
	rl := blueclerk.RateLimit{Limit: 1 << 30, Remaining: 1 << 30, Reset: time.Now().Add(time.Hour)}
	run := func(b *testing.B, l blueclerk.Limiter) {
		ctx := context.Background()
		release, err := l.Acquire(ctx, 0)
		if err != nil {
			b.Fatal(err)
		}
		release(rl)
		b.ReportAllocs()
		for b.Loop() {
			release, err := l.Acquire(ctx, 0)
			if err != nil {
				b.Fatal(err)
			}
			release(rl)
		}
	}
	b.Run("redisstore", func(b *testing.B) {
		run(b, NewLimiter(sharedClient(b), testKey(b), blueclerk.PlanHigh))
	})
	b.Run("in-process", func(b *testing.B) {
		run(b, blueclerk.NewLimiter(blueclerk.PlanHigh))
	})
}
