package redisstore

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
)

// answer is an error answer from Redis, as go-redis reports one.
type answer string

func (a answer) Error() string { return string(a) }
func (answer) RedisError()     {}

var _ redis.Error = answer("")

func TestFailure(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for _, tc := range []struct {
		name        string
		ctx         context.Context
		err         error
		unavailable bool
		is          error
		text        string
	}{
		{"refused", context.Background(), refused, true, refused, "Redis is unreachable"},
		{"closed", context.Background(), redis.ErrClosed, true, redis.ErrClosed, "Redis is unreachable"},
		{"loading", context.Background(), answer("LOADING Redis is loading the dataset in memory"), true, nil, "LOADING"},
		{"failover", context.Background(), answer("READONLY You can't write against a read only replica."), true, nil, "READONLY"},
		{"wrong type", context.Background(), answer("WRONGTYPE Operation against a key holding the wrong kind of value"), false, nil, "Redis answered with an error: WRONGTYPE"},
		{"deadline", past, refused, false, context.DeadlineExceeded, "deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := failure(tc.ctx, "op", tc.err)
			assert.Equal(t, tc.unavailable, errors.Is(err, ErrUnavailable), err.Error())
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Contains(t, err.Error(), tc.text)
			assert.Contains(t, err.Error(), "redisstore: ")
		})
	}
}
