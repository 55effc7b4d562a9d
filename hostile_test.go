package blueclerk_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/blueclerk/blueclerk-go"
)

// answering returns a client of a loopback server that answers every
// request with status, body and the header fields given as name, value
// pairs, without retries.
func answering(t *testing.T, status int, body string, fields ...string) *blueclerk.Client {
	t.Helper()
	return newRecorder(t, reply{status, body, fields}).client(t, blueclerk.WithMaxRetries(0))
}

// TestCreateOddAnswers: a 201 that is neither the created object (with an
// id) nor the object under its singular name is an error, not an empty
// object.
func TestCreateOddAnswers(t *testing.T) {
	params := &blueclerk.CreateContactParams{Name: "Jane"}
	for _, tt := range []struct {
		body string
		id   string // "" when the answer must be refused
	}{
		{`{"id": "c1", "name": "Jane"}`, "c1"},
		{`{"contact": {"id": "c1", "name": "Jane"}}`, "c1"},
		{`{}`, ""},
		{`{"data": {"id": "c1"}}`, ""},
		{`{"name": "Jane"}`, ""},
		{`{"id": ""}`, ""},
		{`{"contact": {}}`, ""},
		{`{"contact": {"name": "Jane"}}`, ""},
		{`{"contact": {"id": "c1"}, "meta": 1}`, ""},
		{`{"contact": "c1"}`, ""},
		{`null`, ""},
		{`[]`, ""},
	} {
		t.Run(tt.body, func(t *testing.T) {
			c := answering(t, http.StatusCreated, tt.body)
			got, err := c.Contacts.Create(t.Context(), params)
			if tt.id == "" {
				assert.ErrorIs(t, err, blueclerk.ErrMalformedResponse)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.id, got.ID)
		})
	}
}

// TestEmptyDueDateIsNoDate: "dueDate": "" is a zero Date, not a failed
// list.
func TestEmptyDueDateIsNoDate(t *testing.T) {
	c := answering(t, http.StatusOK, `{"invoices": [{"id": "i1", "dueDate": ""}, {"id": "i2", "dueDate": "2024-02-01"}]}`)
	invoices, err := c.Invoices.List(t.Context())
	require.NoError(t, err)
	require.Len(t, invoices, 2)
	assert.True(t, invoices[0].DueDate.IsZero())
	assert.Equal(t, blueclerk.Date{Year: 2024, Month: time.February, Day: 1}, invoices[1].DueDate)
}

// TestResetAsDeltaSeconds: X-RateLimit-Reset below 10^6 counts seconds
// from now.
func TestResetAsDeltaSeconds(t *testing.T) {
	c := answering(t, http.StatusOK, `{"leads": []}`,
		"X-RateLimit-Limit", "500", "X-RateLimit-Remaining", "42", "X-RateLimit-Reset", "1800")
	before := time.Now()
	_, err := c.Leads.List(t.Context())
	require.NoError(t, err)
	rl := c.RateLimit()
	assert.Equal(t, 42, rl.Remaining)
	assert.WithinRange(t, rl.Reset, before.Add(1799*time.Second), time.Now().Add(1801*time.Second))
}

// TestEchoedTokenIsRedacted: an error answer that echoes the caller's
// token, in its body, message, WWW-Authenticate description or request id,
// never puts it into the error, its fields, the response or a log line.
func TestEchoedTokenIsRedacted(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		fields []string
	}{
		{"message", http.StatusBadRequest, `{"error": "bad_token", "message": "token ` + testToken + ` is malformed"}`, nil},
		{"nested message", http.StatusBadRequest, `{"error": {"code": "bad", "message": "` + testToken + `"}}`, nil},
		{"WWW-Authenticate", http.StatusUnauthorized, ``, []string{"WWW-Authenticate", `Bearer error="invalid_token", error_description="` + testToken + ` expired"`}},
		{"request id", http.StatusInternalServerError, `{"error": "oops"}`, []string{"X-Request-Id", "req-" + testToken}},
		{"HTML page", http.StatusBadGateway, `<html><body>Bearer ` + testToken + `</body></html>`, []string{"Content-Type", "text/html"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := newRecorder(t, reply{tt.status, tt.body, tt.fields}).client(t, blueclerk.WithMaxRetries(0),
				blueclerk.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			var resp blueclerk.Response
			_, err := c.Leads.List(t.Context(), blueclerk.WithResponseInto(&resp))
			var e *blueclerk.Error
			require.ErrorAs(t, err, &e)
			for name, s := range map[string]string{
				"Error()": err.Error(), "%+v": fmt.Sprintf("%+v", err), "%#v": fmt.Sprintf("%#v", e),
				"Body": string(e.Body), "Message": e.Message, "RequestID": e.RequestID, "Code": e.Code,
				"log": logs.String(), "Response": fmt.Sprintf("%#v", resp),
			} {
				assert.NotContains(t, s, testToken, name)
			}
			assert.Contains(t, fmt.Sprintf("%s %s %s %s", e.Body, e.Message, e.RequestID, resp.Header), "[redacted]")
		})
	}
}
