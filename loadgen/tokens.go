package loadgen

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// Token is an API token: its id (user@realm!name) and plaintext secret.
type Token struct {
	ID     string
	Secret string
}

// ErrBadTokensFile is wrapped by every parse or validation error of a tokens
// file. Such errors carry a line number but never the line itself, because a
// malformed line may hold a secret.
var ErrBadTokensFile = errors.New("bad tokens file")

// maxIDLen bounds token ids; longer ones are certainly not PBS token ids.
const maxIDLen = 256

// ReadTokens reads a tokens file: one TOKENID:SECRET per line, split on the
// first ':' (token ids cannot contain ':'). Blank lines and lines starting
// with '#' are ignored; surrounding whitespace is trimmed. Duplicate ids are
// refused so that request rotation stays predictable.
func ReadTokens(path string) ([]Token, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	defer f.Close()

	var (
		tokens []Token
		seen   = map[string]int{}
		sc     = bufio.NewScanner(f)
		lineNo int
	)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, secret, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("read tokens %s:%d: %w: missing ':' between token id and secret", path, lineNo, ErrBadTokensFile)
		}
		t := Token{ID: strings.TrimSpace(id), Secret: strings.TrimSpace(secret)}
		if err := validateToken(t); err != nil {
			return nil, fmt.Errorf("read tokens %s:%d: %w", path, lineNo, err)
		}
		if first, dup := seen[t.ID]; dup {
			return nil, fmt.Errorf("read tokens %s:%d: %w: duplicate token id (first on line %d)", path, lineNo, ErrBadTokensFile, first)
		}
		seen[t.ID] = lineNo
		tokens = append(tokens, t)
	}
	if err := sc.Err(); err != nil {
		// The scanner error names no content, only the failure (e.g. line too long).
		return nil, fmt.Errorf("read tokens %s after line %d: %w", path, lineNo, err)
	}
	return tokens, nil
}

// WriteTokens writes tokens in the format ReadTokens reads, with mode 0600,
// atomically: a temporary file in the same directory is synced and renamed
// over path, so readers never see a partial file.
func WriteTokens(path string, tokens []Token) (err error) {
	seen := map[string]int{}
	for i, t := range tokens {
		if err := validateToken(t); err != nil {
			return fmt.Errorf("write tokens: token %d: %w", i, err)
		}
		if first, dup := seen[t.ID]; dup {
			return fmt.Errorf("write tokens: token %d: %w: duplicate token id (first is token %d)", i, ErrBadTokensFile, first)
		}
		seen[t.ID] = i
	}

	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CreateTemp opens with 0600, so the secrets are never world-readable,
	// not even for the moment before rename.
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "# authbench API tokens, one TOKENID:SECRET per line. Keep private.")
	for _, t := range tokens {
		w.WriteString(t.ID)
		w.WriteByte(':')
		w.WriteString(t.Secret)
		w.WriteByte('\n')
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	return nil
}

// validateToken checks the shape of a token without ever quoting it: ids
// need user@realm!name, secrets must be non-empty and printable without
// whitespace. It is deliberately looser than the server's own id check.
func validateToken(t Token) error {
	switch {
	case t.ID == "":
		return fmt.Errorf("%w: empty token id", ErrBadTokensFile)
	case len(t.ID) > maxIDLen:
		return fmt.Errorf("%w: token id longer than %d bytes", ErrBadTokensFile, maxIDLen)
	case strings.ContainsRune(t.ID, ':'):
		return fmt.Errorf("%w: token id contains ':'", ErrBadTokensFile)
	case !printable(t.ID):
		return fmt.Errorf("%w: token id contains whitespace or control characters", ErrBadTokensFile)
	case !strings.Contains(t.ID, "@") || !strings.Contains(t.ID, "!"):
		return fmt.Errorf("%w: token id is not of the form user@realm!name", ErrBadTokensFile)
	case t.Secret == "":
		return fmt.Errorf("%w: empty secret", ErrBadTokensFile)
	case !printable(t.Secret):
		return fmt.Errorf("%w: secret contains whitespace or control characters", ErrBadTokensFile)
	}
	return nil
}

func printable(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
