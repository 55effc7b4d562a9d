package backoff

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestDelay(t *testing.T) {
	t.Parallel()
	p := Policy{Base: 500 * time.Millisecond, Cap: 30 * time.Second}
	for n, ceiling := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		var top time.Duration
		for range 200 {
			d := p.Delay(n)
			if d < 0 || d >= ceiling {
				t.Fatalf("Delay(%d) = %v, want in [0, %v)", n, d, ceiling)
			}
			top = max(top, d)
		}
		if top < ceiling/2 {
			t.Errorf("Delay(%d) never above %v in 200 draws: not jittered over the full range", n, top)
		}
	}
	if d := p.Delay(1 << 20); d >= p.Cap {
		t.Errorf("Delay(huge) = %v", d)
	}
	if d := (Policy{}).Delay(3); d != 0 {
		t.Errorf("zero Policy Delay = %v", d)
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := Sleep(t.Context(), 3*time.Second); err != nil || time.Since(start) != 3*time.Second {
			t.Errorf("Sleep = %v after %v", err, time.Since(start))
		}
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		start = time.Now()
		if err := Sleep(ctx, time.Hour); err != context.Canceled || time.Since(start) != time.Second {
			t.Errorf("cancelled Sleep = %v after %v", err, time.Since(start))
		}
		if err := Sleep(ctx, 0); err != context.Canceled {
			t.Errorf("Sleep on a done context = %v", err)
		}
	})
}

func TestSleepOrWake(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		wake := make(chan struct{})
		time.AfterFunc(2*time.Second, func() { close(wake) })
		start := time.Now()
		if err := SleepOrWake(t.Context(), time.Hour, wake); err != nil || time.Since(start) != 2*time.Second {
			t.Errorf("SleepOrWake woken = %v after %v", err, time.Since(start))
		}
		start = time.Now()
		if err := SleepOrWake(t.Context(), 3*time.Second, make(chan struct{})); err != nil || time.Since(start) != 3*time.Second {
			t.Errorf("SleepOrWake never woken = %v after %v", err, time.Since(start))
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start = time.Now()
		if err := SleepOrWake(ctx, time.Hour, make(chan struct{})); err != context.DeadlineExceeded || time.Since(start) != time.Second {
			t.Errorf("SleepOrWake past ctx's deadline = %v after %v", err, time.Since(start))
		}
	})
}
