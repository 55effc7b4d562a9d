package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary is the command, built once for every test.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "blueclerk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "blueclerk")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the command: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is the environment the command runs in during a test: the test's
// own, empty configuration directory, and none of the caller's BlueClerk
// settings.
type env []string

func newEnv(t *testing.T, extra ...string) env {
	t.Helper()
	home := t.TempDir()
	var e env
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "BLUECLERK_") || k == "HOME" || k == "XDG_CONFIG_HOME" || k == "COLUMNS" || k == "GORACE" {
			continue
		}
		e = append(e, kv)
	}
	e = append(e, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
	// A race fails the run (exit 66), and an exit does not wait a second
	// for the race detector.
	e = append(e, "GORACE=halt_on_error=1 atexit_sleep_ms=0")
	return append(e, extra...)
}

// configDir is where the command keeps the login in e.
func (e env) configDir() string {
	for _, kv := range e {
		if dir, ok := strings.CutPrefix(kv, "XDG_CONFIG_HOME="); ok {
			return filepath.Join(dir, "blueclerk")
		}
	}
	return ""
}

// with returns e with more variables.
func (e env) with(kv ...string) env { return append(e[:len(e):len(e)], kv...) }

// result is how a run of the command ended.
type result struct {
	stdout, stderr string
	code           int
}

// oneError checks that the run failed with exit status 1, printing nothing
// on stdout and one line on stderr, which it returns.
func (r result) oneError(t *testing.T) string {
	t.Helper()
	if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 ||
		!strings.HasSuffix(r.stderr, "\n") || !strings.HasPrefix(r.stderr, "blueclerk: ") {
		t.Errorf("want exit 1, empty stdout and one stderr line; got %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
	}
	return r.stderr
}

// ok checks that the run succeeded.
func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return r
}

// runCmd runs the command with args in e, stdin as its input.
func runCmd(t *testing.T, e env, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = e
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("blueclerk %q: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// fake is a `blueclerk fake serve` process.
type fake struct {
	url, token string
	env        env // for commands against it with its token
}

// background is the command running in the background, one of its outputs
// read line by line as it comes.
type background struct {
	cmd   *exec.Cmd
	lines chan string   // the watched output's lines; closed at its end
	done  chan error    // the command's end, once the watched output ended
	other *bytes.Buffer // the other output; read it after done
	all   []string      // the lines next returned
}

// startBackground starts the command with args in e, watching its stderr
// when watchStderr, else its stdout. The test kills it if it still runs at
// the end.
func startBackground(t *testing.T, e env, watchStderr bool, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(binary, args...), lines: make(chan string, 64), done: make(chan error, 1), other: new(bytes.Buffer)}
	b.cmd.Env = e
	var watched io.Reader
	var err error
	if watchStderr {
		b.cmd.Stdout = b.other
		watched, err = b.cmd.StderrPipe()
	} else {
		b.cmd.Stderr = b.other
		watched, err = b.cmd.StdoutPipe()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(watched)
		for sc.Scan() {
			b.lines <- sc.Text()
		}
		close(b.lines)
		b.done <- b.cmd.Wait()
	}()
	t.Cleanup(func() { _ = b.cmd.Process.Kill() })
	return b
}

// next returns the watched output's next line, or false at its end; it
// fails the test when none comes within 20 s.
func (b *background) next(t *testing.T) (string, bool) {
	t.Helper()
	select {
	case line, ok := <-b.lines:
		if ok {
			b.all = append(b.all, line)
		}
		return line, ok
	case <-time.After(20 * time.Second):
		t.Fatalf("%q printed nothing more within 20 s after %q", b.cmd.Args[1:], b.all)
		return "", false
	}
}

// wait waits up to 10 s for the command to end and returns its exit status.
func (b *background) wait(t *testing.T) int {
	t.Helper()
	for {
		if _, ok := b.next(t); !ok {
			break
		}
	}
	select {
	case err := <-b.done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return b.cmd.ProcessState.ExitCode()
	case <-time.After(10 * time.Second):
		t.Fatalf("%q did not end within 10 s", b.cmd.Args[1:])
		return -1
	}
}

// startFake starts `blueclerk fake serve` on a free port with args, reads
// its url: and token: lines, and stops it with SIGINT when the test ends,
// checking that it exits 0.
func startFake(t *testing.T, args ...string) *fake {
	t.Helper()
	b := startBackground(t, newEnv(t), false, append([]string{"fake", "serve", "--addr", "127.0.0.1:0"}, args...)...)
	t.Cleanup(func() {
		_ = b.cmd.Process.Signal(os.Interrupt)
		if code := b.wait(t); code != 0 {
			t.Errorf("fake serve exited %d after SIGINT\nstderr: %s", code, b.other)
		}
	})
	url, _ := b.next(t)
	token, _ := b.next(t)
	if !strings.HasPrefix(url, "url: http://127.0.0.1:") || !strings.HasPrefix(token, "token: at_") {
		t.Fatalf("fake serve began with %q, want url: and token: lines", b.all)
	}
	f := &fake{url: strings.TrimPrefix(url, "url: "), token: strings.TrimPrefix(token, "token: ")}
	f.env = newEnv(t, "BLUECLERK_BASE_URL="+f.url, "BLUECLERK_TOKEN="+f.token)
	return f
}

// control sends a control request to the fake and decodes its JSON answer
// into out (when not nil).
func (f *fake) control(t *testing.T, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s %s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}
