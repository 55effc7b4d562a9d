package main

import (
	"strings"
	"testing"
)

func TestErrorsAreOneLineOnStderr(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	bare := newEnv(t)
	for _, c := range []struct {
		name string
		env  env
		args []string
		want string
	}{
		{"not logged in", bare, []string{"leads", "list"}, "run `blueclerk login`"},
		{"unknown command", f.env, []string{"tickts", "list"}, "see `blueclerk --help`"},
		{"unknown flag", f.env, []string{"tickets", "list", "--bogus"}, "see `blueclerk tickets list --help`"},
		{"extra argument", f.env, []string{"tickets", "list", "extra"}, "see `blueclerk tickets list --help`"},
		{"bad output", f.env, []string{"--output", "xml", "leads", "list"}, "use table, json or jsonl"},
		{"rejected token", f.env.with("BLUECLERK_TOKEN=at_NOTATOKEN"), []string{"leads", "list"}, "401"},
		{"nothing listening", f.env.with("BLUECLERK_BASE_URL=http://127.0.0.1:1"), []string{"leads", "list"}, "check --base-url"},
		{"plain http off loopback", f.env.with("BLUECLERK_BASE_URL=http://example.com"), []string{"leads", "list"}, "https"},
		{"login without a client", bare, []string{"login", "--no-browser"}, "--client-id"},
		{"login with a bad parameter", bare.with("BLUECLERK_CLIENT_ID=app", "BLUECLERK_CLIENT_SECRET=s"),
			[]string{"login", "--auth-param", "prompt"}, "key=value"},
		{"fake off loopback", bare, []string{"fake", "serve", "--addr", "0.0.0.0:0"}, "loopback"},
		{"fake with an unknown plan", bare, []string{"fake", "serve", "--plan", "gold"}, "--plan"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			line := runCmd(t, c.env, "", c.args...).oneError(t)
			if !strings.Contains(line, c.want) {
				t.Errorf("error %q does not say %q", line, c.want)
			}
			if strings.Contains(line, f.token) {
				t.Errorf("error %q shows the token", line)
			}
		})
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	r := runCmd(t, newEnv(t), "", "completion", "bash").ok(t)
	if !strings.Contains(r.stdout, "bash completion") {
		t.Errorf("completion bash printed %.200q", r.stdout)
	}
}
