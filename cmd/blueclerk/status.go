package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// status is what `blueclerk status` reports.
type status struct {
	BaseURL   string     `json:"baseUrl"`
	Login     string     `json:"login"` // "--token", "BLUECLERK_TOKEN", or the stored login's directory
	ClientID  string     `json:"clientId,omitempty"`
	Expiry    *time.Time `json:"expiry,omitempty"` // of the access token, when known
	Renewable bool       `json:"renewable"`        // a refresh token is kept
	Scopes    []string   `json:"scopes"`           // null when the token does not say
	Plan      string     `json:"plan"`             // FREE, STARTER, PRO, HIGH, or "" when not known
	Limit     int        `json:"limit"`            // requests an hour
	Remaining int        `json:"remaining"`        // left in this hour
	Reset     *time.Time `json:"reset,omitempty"`  // when the budget renews
}

func newStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the login, its scopes, the plan and the budget",
		Long: `status shows where the token comes from, what it grants, the company's plan
and how much of the hourly budget is left. It spends one request of the
budget to learn it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.status(cmd.Context())
			if err != nil {
				return err
			}
			if a.output == "table" {
				return st.print(a.stdout)
			}
			return a.printObject(st)
		},
	}
}

// status gets the token and reads one record, which reports the budget.
func (a *app) status(ctx context.Context) (*status, error) {
	c, cr, err := a.client(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := cr.ts.Token()
	if err != nil {
		return nil, err
	}
	st := &status{BaseURL: cr.base, Login: cr.source}
	if cr.login != nil {
		st.ClientID, st.Scopes, st.Renewable = cr.login.ClientID, cr.login.Scopes, tok.RefreshToken != ""
		if !tok.Expiry.IsZero() {
			st.Expiry = &tok.Expiry
		}
	}
	err = probe(st.Scopes).peek(ctx, c)
	switch {
	case errors.Is(err, blueclerk.ErrPlanRequired):
		st.Plan = string(blueclerk.PlanFree)
		return st, nil
	case err != nil && !errors.Is(err, blueclerk.ErrInsufficientScope) && !errors.Is(err, blueclerk.ErrRateLimited):
		return nil, err
	}
	rl := c.RateLimit()
	st.Limit, st.Remaining = rl.Limit, rl.Remaining
	if !rl.Reset.IsZero() {
		st.Reset = &rl.Reset
	}
	for _, p := range []blueclerk.Plan{blueclerk.PlanStarter, blueclerk.PlanPro, blueclerk.PlanHigh} {
		if p.HourlyLimit() == rl.Limit {
			st.Plan = string(p)
		}
	}
	return st, nil
}

// probe returns a resource the scopes can list (leads when they are not
// known or list none).
func probe(scopes []string) resourceCommand {
	for _, r := range resources {
		if slices.Contains(scopes, r.readScope()) {
			return r
		}
	}
	return resources[0]
}

// print writes the status for a person to read.
func (st *status) print(w io.Writer) error {
	login := "the token given with " + st.Login
	if st.ClientID != "" {
		login = "stored in " + st.Login + " (client " + st.ClientID + ")"
		if st.Renewable {
			login += ", renewed with its refresh token"
		}
	}
	scopes := "not known: a token given directly does not say"
	if st.Scopes != nil {
		scopes = strings.Join(st.Scopes, " ")
	}
	lines := [][2]string{{"base URL", st.BaseURL}, {"login", login}}
	if st.Expiry != nil {
		lines = append(lines, [2]string{"token", "valid until " + stamp(*st.Expiry)})
	}
	lines = append(lines, [2]string{"scopes", scopes})
	switch {
	case st.Plan == string(blueclerk.PlanFree):
		lines = append(lines, [2]string{"plan", "FREE: the API needs STARTER or higher; upgrade the company's plan"})
	case st.Limit == 0:
		lines = append(lines, [2]string{"plan", "not known: the answer reported no budget"})
	default:
		plan := st.Plan
		if plan == "" {
			plan = "not known"
		}
		lines = append(lines,
			[2]string{"plan", fmt.Sprintf("%s (%d requests an hour)", plan, st.Limit)},
			[2]string{"budget", fmt.Sprintf("%d of %d requests left this hour", st.Remaining, st.Limit)})
		if st.Reset != nil {
			lines[len(lines)-1][1] += ", renews at " + stamp(*st.Reset)
		}
	}
	for _, l := range lines {
		if _, err := fmt.Fprintf(w, "%-9s %s\n", l[0]+":", l[1]); err != nil {
			return err
		}
	}
	return nil
}
