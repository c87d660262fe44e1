package impl

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrBadTokenID is wrapped by every token-id validation error.
var ErrBadTokenID = errors.New("invalid token id")

// maxTokenIDLen bounds ids so that a hostile header cannot make us allocate
// or log without limit; PBS's Authid is far shorter in practice.
const maxTokenIDLen = 256

// ValidateTokenID checks that id has the API-token form user@realm!name.
// Colons, whitespace and control characters are refused anywhere because
// the Authorization header splits on ':' and logs must stay one line.
// The error never repeats the id verbatim beyond a short, quoted prefix.
func ValidateTokenID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrBadTokenID)
	}
	if len(id) > maxTokenIDLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrBadTokenID, maxTokenIDLen)
	}
	for _, r := range id {
		switch {
		case r == ':':
			return fmt.Errorf("%w: contains ':'", ErrBadTokenID)
		case r == unicode.ReplacementChar:
			return fmt.Errorf("%w: not valid UTF-8", ErrBadTokenID)
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return fmt.Errorf("%w: contains whitespace or a control character", ErrBadTokenID)
		}
	}
	at := strings.IndexByte(id, '@')
	bang := strings.LastIndexByte(id, '!')
	switch {
	case at <= 0:
		return fmt.Errorf("%w: missing user before '@'", ErrBadTokenID)
	case bang < 0:
		return fmt.Errorf("%w: missing '!tokenname' (not an API token)", ErrBadTokenID)
	case bang < at:
		return fmt.Errorf("%w: '!' before '@'", ErrBadTokenID)
	case bang == at+1:
		return fmt.Errorf("%w: empty realm", ErrBadTokenID)
	case bang == len(id)-1:
		return fmt.Errorf("%w: empty token name", ErrBadTokenID)
	case strings.Count(id[at+1:], "@") > 0 || strings.Count(id, "!") > 1:
		return fmt.Errorf("%w: more than one '@' after the user or more than one '!'", ErrBadTokenID)
	}
	return nil
}
