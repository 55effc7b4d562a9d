package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
	"golang.org/x/term"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// app is one run of the command: where it reads and writes, what those
// are, and the global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stdoutTTY and stderrTTY say whether they are terminals; width is
	// stdout's width in columns when it is one.
	stdoutTTY, stderrTTY bool
	width                int

	baseURL, token, output string // the global flags as given
	// started is set once the command line is understood and a command
	// starts: an error before that is a usage error.
	started bool
}

// newApp returns an app on the given files, finding out which are
// terminals.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		a.stdoutTTY = true
		a.width, _, _ = term.GetSize(int(f.Fd()))
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		a.stderrTTY = true
	}
	return a
}

// run runs the command line args and returns the exit status: 0, or 1
// after printing the error on one line of stderr.
func run(ctx context.Context, args []string, a *app) int {
	root := newRoot(a)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	line := describe(err)
	if !a.started {
		line += "; see `" + cmd.CommandPath() + " --help`"
	}
	fmt.Fprintln(a.stderr, "blueclerk: "+line)
	return 1
}

// newRoot builds the command tree.
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "blueclerk",
		Short: "The BlueClerk Public API v1 on the command line",
		Long: `blueclerk logs in to BlueClerk, lists and creates records, sends any API
request, signs test webhooks, and runs an in-memory BlueClerk server to try
it all against.

Data goes to standard output; errors go to standard error, one line each,
with exit status 1.`,
		Version:       blueclerk.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			a.started = true
			return nil
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&a.baseURL, "base-url", "", "API base URL (env BLUECLERK_BASE_URL; default: the stored login's, else "+blueclerk.DefaultBaseURL+")")
	f.StringVar(&a.token, "token", "", "access token to use instead of the stored login (env BLUECLERK_TOKEN)")
	f.StringVarP(&a.output, "output", "o", "", "output format: table, json or jsonl (default table on a terminal, json otherwise)")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputs, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(newLoginCmd(a), newLogoutCmd(a), newStatusCmd(a))
	for _, r := range resources {
		root.AddCommand(r.command(a))
	}
	root.AddCommand(newAPICmd(a), newWebhooksCmd(a), newFakeCmd(a))
	return root
}

// outputs are the values --output takes.
var outputs = []string{"table", "json", "jsonl"}

// checkOutput settles --output: table on a terminal, json otherwise.
func (a *app) checkOutput() error {
	switch a.output {
	case "":
		a.output = "json"
		if a.stdoutTTY {
			a.output = "table"
		}
		return nil
	case "table", "json", "jsonl":
		return nil
	}
	return fmt.Errorf("--output %q: use table, json or jsonl", a.output)
}

// base returns the API base URL: --base-url, else BLUECLERK_BASE_URL, else
// the stored login's (l may be nil), else the default.
func (a *app) base(l *login) string {
	switch {
	case a.baseURL != "":
		return a.baseURL
	case os.Getenv("BLUECLERK_BASE_URL") != "":
		return os.Getenv("BLUECLERK_BASE_URL")
	case l != nil && l.BaseURL != "":
		return l.BaseURL
	}
	return blueclerk.DefaultBaseURL
}

// credentials is where a run's token comes from.
type credentials struct {
	base   string
	source string             // "--token", "BLUECLERK_TOKEN" or the login's directory
	login  *login             // the stored login, or nil
	ts     oauth2.TokenSource // the token
}

// errNotLoggedIn says what to do when there is no token.
var errNotLoggedIn = errors.New("not logged in: run `blueclerk login`, or pass --token or set BLUECLERK_TOKEN")

// credentials returns the token to send: --token, else BLUECLERK_TOKEN,
// else the stored login, renewed as needed. A stored login is used only
// with the base URL it was made for, so that its token never goes to
// another host.
func (a *app) credentials(ctx context.Context) (*credentials, error) {
	for _, src := range []struct{ name, token string }{
		{"--token", a.token}, {"BLUECLERK_TOKEN", os.Getenv("BLUECLERK_TOKEN")},
	} {
		if src.token != "" {
			ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: src.token, TokenType: "Bearer"})
			return &credentials{base: a.base(nil), source: src.name, ts: ts}, nil
		}
	}
	dir, err := configDir()
	if err != nil {
		return nil, err
	}
	l, err := loadLogin(dir)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, errNotLoggedIn
	}
	base := a.base(l)
	if strings.TrimRight(base, "/") != strings.TrimRight(l.BaseURL, "/") {
		return nil, fmt.Errorf("the stored login is for %s, not %s: run `blueclerk login --base-url %s`, or pass --token", l.BaseURL, base, base)
	}
	ts := blueclerk.PersistentTokenSource(ctx, l.config(), blueclerk.NewFileTokenStore(tokenPath(dir)))
	return &credentials{base: base, source: dir, login: l, ts: ts}, nil
}

// client returns a client for the API with the run's credentials.
func (a *app) client(ctx context.Context) (*blueclerk.Client, *credentials, error) {
	cr, err := a.credentials(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := blueclerk.NewClient(cr.ts, blueclerk.WithBaseURL(cr.base), blueclerk.WithUserAgent("blueclerk-cli/"+blueclerk.Version))
	if err != nil {
		return nil, nil, err
	}
	return c, cr, nil
}
