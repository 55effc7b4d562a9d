package redisstore

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// shared is the redis-server most tests use, each under keys of its own
// name; nil when the binary is missing.
var shared *redisServer

// missing says why there is no redis-server, when there is none.
var missing string

func TestMain(m *testing.M) {
	// The tests stop Redis on purpose: keep go-redis from logging each
	// failed dial.
	redis.SetLogger(quietLogger{})
	var err error
	shared, err = startRedisServer()
	if err != nil {
		missing = err.Error()
	}
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	stopCluster()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// requireRedis skips the test when redis-server is missing, except on CI
// (CI=true), where that is a failure.
func requireRedis(t testing.TB) {
	t.Helper()
	if shared != nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("redis-server is required on CI: %s", missing)
	}
	t.Skipf("skipping: %s (install the redis-server package to run it)", missing)
}

// newClient returns a client of srv closed when the test ends, with
// shortTimeouts.
func newClient(t testing.TB, srv *redisServer) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(shortTimeouts(&redis.Options{Addr: srv.addr()}))
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// shortTimeouts sets the options of every connection the tests make, so
// that a stopped server fails commands quickly, and returns o.
func shortTimeouts(o *redis.Options) *redis.Options {
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = time.Second, time.Second, time.Second
	o.MaxRetries, o.DialerRetries = -1, 1
	o.ContextTimeoutEnabled = true
	return o
}

// sharedClient returns a client of the shared server; it skips the test
// when there is none.
func sharedClient(t testing.TB) *redis.Client {
	t.Helper()
	requireRedis(t)
	return newClient(t, shared)
}

// ownRedis starts a redis-server for one test that stops and restarts it,
// stopped when the test ends.
func ownRedis(t testing.TB) *redisServer {
	t.Helper()
	requireRedis(t)
	srv, err := startRedisServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	return srv
}

// redisServer is a redis-server process on a loopback port, without
// persistence, that a test may stop and start again on the same port.
type redisServer struct {
	bin  string
	port int
	args []string // configuration beyond the port and persistence
	proc *os.Process
	done chan struct{} // closed when proc has exited
}

// startRedisServer starts redis-server on a free loopback port, with args
// added to its command line, and waits until it answers PING.
func startRedisServer(args ...string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found in PATH")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &redisServer{bin: bin, port: port, args: args}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start runs the server on s.port, empty, and waits until it answers.
func (s *redisServer) start() error {
	cmd := exec.Command(s.bin, append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", os.TempDir(), "--loglevel", "warning"}, s.args...)...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	s.proc, s.done = cmd.Process, make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(s.done)
	deadline := time.Now().Add(10 * time.Second)
	for !ping(s.addr()) {
		select {
		case <-s.done:
			return fmt.Errorf("redis-server on port %d exited at start", s.port)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("redis-server on port %d did not answer PING within 10s", s.port)
		}
	}
	return nil
}

// stop kills the server, as a crash would, and waits until it has exited.
func (s *redisServer) stop() {
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.done
	s.proc = nil
}

// ping reports whether a Redis server at addr answers PING.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.TrimSpace(line) == "+PONG"
}
