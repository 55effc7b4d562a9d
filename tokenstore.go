package blueclerk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/blueclerk/blueclerk-go/internal/atomicfile"
	"golang.org/x/oauth2"
)

// TokenStore keeps a user's token between runs of a program, or shares it
// between processes. Implementations must be safe for concurrent use;
// [github.com/blueclerk/blueclerk-go/blueclerktest.TestTokenStore] checks
// one against the rest of the contract.
type TokenStore interface {
	Load(ctx context.Context) (*oauth2.Token, error) // nil, nil when nothing is stored
	Save(ctx context.Context, tok *oauth2.Token) error
}

// TokenLocker is implemented by a TokenStore shared between processes.
// [PersistentTokenSource] holds the lock while it refreshes, so that when the
// token expires exactly one process refreshes it and the others reuse the
// result.
type TokenLocker interface {
	LockToken(ctx context.Context) (unlock func(), err error)
}

// FileTokenStore is a [TokenStore] keeping the token in a JSON file (access
// token, token type, refresh token and expiry) readable by its owner only.
// Writes are atomic: a reader, or a crash, sees the old token or the new
// one, never a mix. It is safe for concurrent use within a process; it does
// not implement [TokenLocker], so processes sharing one file may each
// refresh the token.
type FileTokenStore struct {
	path string
}

// NewFileTokenStore returns a store for the file at path. Save creates the
// file with mode 0600, and its directory with mode 0700 when missing.
func NewFileTokenStore(path string) *FileTokenStore {
	return &FileTokenStore{path: path}
}

// Load reads the stored token. It returns nil, nil when the file does not
// exist, and an error when it cannot be read or holds no token.
func (s *FileTokenStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("blueclerk: loading the token: %w", err)
	}
	var tok oauth2.Token
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" && tok.RefreshToken == "" {
		return nil, fmt.Errorf("blueclerk: %s holds no saved token; delete it and log in again", s.path)
	}
	return &tok, nil
}

// storable returns what of tok is kept: the fields of oauth2.Token's own
// JSON form that still mean something later (not ExpiresIn, which is
// relative to when the token was issued).
func storable(tok *oauth2.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType,
		RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
}

// Save replaces the stored token with tok.
func (s *FileTokenStore) Save(ctx context.Context, tok *oauth2.Token) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if tok == nil {
		return invalidf("FileTokenStore.Save: nil token")
	}
	b, err := json.MarshalIndent(storable(tok), "", "  ")
	if err != nil {
		return fmt.Errorf("blueclerk: saving the token: %w", err)
	}
	if err := atomicfile.WriteFile(s.path, append(b, '\n'), 0o600, 0o700); err != nil {
		return fmt.Errorf("blueclerk: saving the token: %w", err)
	}
	return nil
}

func (s *FileTokenStore) check(ctx context.Context) error {
	if s == nil || s.path == "" {
		return invalidf("FileTokenStore: no file path (use NewFileTokenStore)")
	}
	if ctx != nil {
		return ctx.Err()
	}
	return nil
}
