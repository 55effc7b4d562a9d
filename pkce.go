package blueclerk

import (
	"fmt"

	"golang.org/x/oauth2"
)

// PKCE is a Proof Key for Code Exchange pair (RFC 7636) with the S256
// method. The Challenge goes in the authorization URL; the Verifier is sent
// only to the token endpoint and must be kept secret until then. Its String
// and GoString methods leave the Verifier out, so printing or logging a PKCE
// does not reveal it.
type PKCE struct {
	Verifier  string // 43 to 128 characters of [A-Za-z0-9-._~]
	Challenge string // BASE64URL(SHA256(Verifier)), without padding
}

// NewPKCE returns a fresh pair whose verifier holds 32 random bytes from
// crypto/rand (43 characters). Use a new pair for every login.
func NewPKCE() PKCE {
	v := oauth2.GenerateVerifier()
	return PKCE{Verifier: v, Challenge: oauth2.S256ChallengeFromVerifier(v)}
}

// NewPKCEFromVerifier returns the pair for a verifier kept from an earlier
// [NewPKCE], such as one stored between the redirect to the authorization
// server and its callback. It returns an error matching [ErrInvalidRequest]
// when the verifier breaks RFC 7636 §4.1: 43 to 128 characters, each a
// letter, a digit, "-", ".", "_" or "~". The error does not quote the
// verifier.
func NewPKCEFromVerifier(verifier string) (PKCE, error) {
	if n := len(verifier); n < 43 || n > 128 {
		return PKCE{}, fmt.Errorf("%w: PKCE verifier has %d characters; RFC 7636 §4.1 requires 43 to 128 (use NewPKCE to make one)", ErrInvalidRequest, n)
	}
	for i := 0; i < len(verifier); i++ {
		if !isUnreserved(verifier[i]) {
			return PKCE{}, fmt.Errorf("%w: PKCE verifier has a character other than A-Z, a-z, 0-9, \"-\", \".\", \"_\" or \"~\" at position %d (RFC 7636 §4.1; use NewPKCE to make one)", ErrInvalidRequest, i+1)
		}
	}
	return PKCE{Verifier: verifier, Challenge: oauth2.S256ChallengeFromVerifier(verifier)}, nil
}

// isUnreserved reports whether c is an RFC 3986 unreserved character, the
// alphabet of a PKCE verifier.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// String returns the challenge only; the verifier is never printed.
func (p PKCE) String() string {
	return "PKCE{Challenge: " + p.Challenge + ", Verifier: [redacted]}"
}

// GoString is like String, for the %#v verb.
func (p PKCE) GoString() string {
	return fmt.Sprintf("blueclerk.PKCE{Verifier: %q, Challenge: %q}", "[redacted]", p.Challenge)
}
