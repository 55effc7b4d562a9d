package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

func newAPICmd(a *app) *cobra.Command {
	var (
		data, key string
		headers   []string
	)
	cmd := &cobra.Command{
		Use:   "api METHOD PATH",
		Short: "Send any request to the API and print the JSON answer",
		Long: `api sends METHOD PATH (such as GET /api/v1/leads) with the body given by
--data, through the same pipeline as the other commands (token, budget,
retries), and prints the JSON answer. POST and PATCH are writes: they carry
an Idempotency-Key, fresh unless --idempotency-key gives one, and are
retried only when they surely did not happen. An answer other than 2xx is an
error.`,
		Example: `  blueclerk api GET /api/v1/leads
  blueclerk api POST /api/v1/contacts --data '{"name": "Jane Doe"}'
  blueclerk api POST /api/v1/tickets --data @ticket.json --header 'X-Trace: 1'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []blueclerk.CallOption
			for _, h := range headers {
				name, value, ok := strings.Cut(h, ":")
				if !ok {
					return fmt.Errorf("--header %q: want Name: value", h)
				}
				opts = append(opts, blueclerk.WithHeader(strings.TrimSpace(name), strings.TrimSpace(value)))
			}
			if key != "" {
				opts = append(opts, blueclerk.WithIdempotencyKey(key))
			}
			var in any
			if data != "" {
				b, err := a.readData(data)
				if err != nil {
					return err
				}
				if !json.Valid(b) {
					return errors.New("--data: not JSON")
				}
				in = json.RawMessage(b)
			}
			c, _, err := a.client(cmd.Context())
			if err != nil {
				return err
			}
			var out json.RawMessage
			if err := c.Do(cmd.Context(), strings.ToUpper(args[0]), args[1], in, &out, opts...); err != nil {
				return err
			}
			return a.printJSON(out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "the JSON request body, @file, or @- for standard input")
	f.StringArrayVar(&headers, "header", nil, "an extra request header, `Name: value`; repeatable")
	f.StringVar(&key, "idempotency-key", "", "the write's Idempotency-Key, to repeat a write whose outcome is unknown")
	return cmd
}
