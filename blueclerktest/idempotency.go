package blueclerktest

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"time"
)

// idempotencyTTL is how long an Idempotency-Key's answer is kept.
const idempotencyTTL = 24 * time.Hour

// maxIdempotencyKey is the longest Idempotency-Key accepted.
const maxIdempotencyKey = 255

// idempotency keeps the answers of a company's writes by Idempotency-Key.
type idempotency struct {
	mu      sync.Mutex
	entries map[string]*idemEntry
}

// idemEntry is one key's write. Its mutex is held while the first request
// with the key runs, so that a concurrent request with the same key waits
// for its answer instead of writing again.
type idemEntry struct {
	mu          sync.Mutex
	done        bool
	at          time.Time
	fingerprint [sha256.Size]byte
	ans         answer
}

// fingerprint identifies a write by method, path and body bytes.
func fingerprint(r *http.Request, body []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	h.Write(body)
	var fp [sha256.Size]byte
	h.Sum(fp[:0])
	return fp
}

// do runs write once per key. A later request with the same key and the same
// fingerprint gets the first answer again (replayed true); one with another
// fingerprint gets 422 idempotency_key_reused. Requests with the same key
// run one after another.
func (id *idempotency) do(key string, fp [sha256.Size]byte, now time.Time, write func() answer) (ans answer, replayed bool) {
	id.mu.Lock()
	if id.entries == nil {
		id.entries = make(map[string]*idemEntry)
	}
	e := id.entries[key]
	if e == nil {
		e = &idemEntry{}
		id.entries[key] = e
	}
	id.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done && now.Sub(e.at) < idempotencyTTL {
		if e.fingerprint != fp {
			return jsonAnswer(http.StatusUnprocessableEntity, apiError{"idempotency_key_reused",
				"this Idempotency-Key was used for a different request; use a new key for a new write"}), false
		}
		return e.ans, true
	}
	ans = write()
	e.done, e.at, e.fingerprint, e.ans = true, now, fp, ans
	return ans, false
}
