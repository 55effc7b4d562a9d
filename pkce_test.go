package blueclerk

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RFC 7636 Appendix B.
func TestPKCEAppendixB(t *testing.T) {
	t.Parallel()
	p, err := NewPKCEFromVerifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	require.NoError(t, err)
	assert.Equal(t, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", p.Challenge)
}

func TestNewPKCE(t *testing.T) {
	t.Parallel()
	a, b := NewPKCE(), NewPKCE()
	assert.NotEqual(t, a.Verifier, b.Verifier, "every pair must be fresh")
	for _, p := range []PKCE{a, b} {
		again, err := NewPKCEFromVerifier(p.Verifier)
		require.NoError(t, err, "NewPKCE must make a verifier RFC 7636 accepts")
		assert.Equal(t, p, again)
	}
}

func TestNewPKCEFromVerifierBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, verifier string
		ok             bool
	}{
		{"42 characters", strings.Repeat("a", 42), false},
		{"43 characters", strings.Repeat("a", 43), true},
		{"128 characters", strings.Repeat("Z", 128), true},
		{"129 characters", strings.Repeat("Z", 129), false},
		{"empty", "", false},
		{"every allowed character", "ABCXYZabcxyz0189-._~" + strings.Repeat("q", 23), true},
		{"space", strings.Repeat("a", 42) + " ", false},
		{"plus", "+" + strings.Repeat("a", 42), false},
		{"slash", strings.Repeat("a", 21) + "/" + strings.Repeat("a", 21), false},
		{"equals padding", strings.Repeat("a", 42) + "=", false},
		{"non-ASCII", strings.Repeat("a", 41) + "é", false},
		{"NUL", strings.Repeat("a", 42) + "\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewPKCEFromVerifier(tt.verifier)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, tt.verifier, p.Verifier)
				assert.NotEmpty(t, p.Challenge)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalidRequest), "%v", err)
			assert.Contains(t, err.Error(), "RFC 7636")
			assert.Equal(t, PKCE{}, p)
			if len(tt.verifier) >= 8 {
				assert.NotContains(t, err.Error(), tt.verifier, "the error must not quote the verifier")
			}
		})
	}
}

func TestPKCEPrintingHidesVerifier(t *testing.T) {
	t.Parallel()
	p := NewPKCE()
	s := &AuthSession{URL: "https://example/authorize", State: "st", PKCE: p}
	for _, out := range []string{
		fmt.Sprint(p), fmt.Sprintf("%v", p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), p.String(),
		fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%+v", *s),
	} {
		assert.NotContains(t, out, p.Verifier)
		assert.Contains(t, out, p.Challenge)
	}
}
