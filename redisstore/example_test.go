package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/blueclerk/blueclerk-go"
	"github.com/blueclerk/blueclerk-go/redisstore"
)

// Example is what each of four replicas runs (the README's program): the
// replicas share the company's budget, the OAuth token and the record of
// handled webhooks through Redis.
func Example() {
	ctx := context.Background()

	// One client per replica. Short timeouts: these calls sit on the
	// request path, and go-redis honours a context's deadline only with
	// ContextTimeoutEnabled.
	rdb := redis.NewClient(&redis.Options{
		Addr:                  os.Getenv("REDIS_ADDR"), // e.g. "redis:6379"
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		MaxRetries:            1,
		DialerRetries:         1,
	})
	defer rdb.Close()

	cfg := &oauth2.Config{
		ClientID:     os.Getenv("BLUECLERK_CLIENT_ID"),
		ClientSecret: os.Getenv("BLUECLERK_CLIENT_SECRET"),
		Endpoint:     blueclerk.Endpoint(blueclerk.DefaultBaseURL),
		Scopes:       []string{blueclerk.ScopeTicketsRead, blueclerk.ScopeTicketsWrite},
	}

	// One token for all replicas. When it expires, the first replica to
	// notice takes the lock and refreshes it; the others wait and load it.
	tokens := redisstore.NewTokenStore(rdb, "blueclerk:token:"+cfg.ClientID)
	ts := blueclerk.PersistentTokenSource(ctx, cfg, tokens)

	// One budget for all replicas, keyed by company. While Redis is down
	// each replica falls back to its own in-process limiter.
	plan := blueclerk.PlanPro
	limiter := redisstore.NewLimiter(rdb, "blueclerk:budget:"+os.Getenv("BLUECLERK_COMPANY_ID"), plan,
		redisstore.WithFallback(blueclerk.NewLimiter(plan)))
	client, err := blueclerk.NewClient(ts, blueclerk.WithPlan(plan), blueclerk.WithLimiter(limiter))
	if err != nil {
		log.Fatal(err)
	}

	// Each webhook handled once, whichever replica BlueClerk delivers it to.
	verifier, err := blueclerk.NewWebhookVerifier(os.Getenv("BLUECLERK_WEBHOOK_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	verifier.Deliveries = redisstore.NewDeliveryStore(rdb, "blueclerk:webhook:")

	http.Handle("POST /webhooks/blueclerk", verifier.Handler(func(ctx context.Context, e *blueclerk.Event) error {
		log.Printf("%s %s", e.Type, e.ID)
		return nil
	}))
	http.HandleFunc("GET /tickets", func(w http.ResponseWriter, r *http.Request) {
		tickets, err := client.Tickets.List(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway) // never holds a token
			return
		}
		fmt.Fprintf(w, "%d tickets; budget %+v\n", len(tickets), client.RateLimit())
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// TestReadmeProgram keeps the README's program and Example the same code.
func TestReadmeProgram(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	program := between(string(readme), "```go\n", "```")
	if program == "" {
		t.Fatal("README.md has no Go program")
	}
	if got, want := between(string(example), "func Example() {", "\n}\n"), between(program, "func main() {", "\n}\n"); got != want || got == "" {
		t.Errorf("Example's body differs from the README program's main; copy one into the other")
	}
	imports := between(string(example), "import (", ")")
	for line := range strings.Lines(between(program, "import (", ")")) {
		if !strings.Contains(imports, line) {
			t.Errorf("Example does not import %s", strings.TrimSpace(line))
		}
	}
}

// between returns the text of s between the first start and the next end
// after it, or "".
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	in, _, ok := strings.Cut(rest, end)
	if !ok {
		return ""
	}
	return in
}
