// Package authheader parses the Authorization header of Proxmox API-token
// requests into a token id and a secret.
//
// Accepted forms (the scheme name is case-sensitive, as in the servers):
//
//   - PBSAPIToken=<tokenid>:<secret> and PDMAPIToken=<tokenid>:<secret>
//     (proxmox-rest-server): split on the first ':', so the secret keeps
//     later colons; the secret is percent-decoded strictly: an invalid
//     escape, or a result that is not UTF-8, is an error.
//   - PVEAPIToken=<tokenid>=<secret> (pve-http-server + pve-access-control):
//     PVE URI-unescapes the whole value leniently (an invalid escape stays
//     literal, as in Perl's URI::Escape) and then splits on the last '='.
//     This package does the same, so an encoded "%3D" in a PVE secret
//     becomes a separator, exactly as on a PVE server.
//
// In every form a single space may replace the '=' after the scheme name.
// Stricter than the servers, so that only exactly these forms parse: the
// value after the scheme must be visible ASCII (no whitespace, no control
// bytes), leading or trailing whitespace is refused (net/http already strips
// it), and ';' is refused in the PVE form (PVE would silently cut the value
// there). Token ids are only checked to be non-empty; callers validate them.
//
// Error messages never contain the secret or the raw header.
package authheader

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Form is the scheme name of an API-token Authorization header.
type Form string

// The three forms.
const (
	FormPBS Form = "PBSAPIToken"
	FormPDM Form = "PDMAPIToken"
	FormPVE Form = "PVEAPIToken"
)

// Limits. MaxHeaderLen is checked first, so no form scans more than that.
// MaxSecretLen applies where the secret is split off: before percent-decoding
// in the PBS/PDM forms (checked before the secret is scanned), after the
// whole-value decoding in the PVE form.
const (
	MaxHeaderLen = 4096
	MaxSecretLen = 1024
)

// Sentinel errors; every error from Parse wraps exactly one of them.
var (
	ErrMissing       = errors.New("authheader: no credentials")
	ErrMalformed     = errors.New("authheader: malformed credentials")
	ErrUnknownScheme = errors.New("authheader: unknown scheme")
)

// Credentials is a parsed API-token header. Its String, GoString, Format and
// MarshalJSON redact Secret, so printing or logging it is safe.
type Credentials struct {
	Form    Form
	TokenID string
	Secret  string
}

const redacted = "<redacted>"

func (c Credentials) shownSecret() string {
	if c.Secret == "" {
		return ""
	}
	return redacted
}

// String returns the header form with the secret redacted.
func (c Credentials) String() string {
	sep := ":"
	if c.Form == FormPVE {
		sep = "="
	}
	return string(c.Form) + "=" + c.TokenID + sep + c.shownSecret()
}

// GoString implements fmt.GoStringer with the secret redacted.
func (c Credentials) GoString() string {
	return fmt.Sprintf("authheader.Credentials{Form:%q, TokenID:%q, Secret:%q}",
		string(c.Form), c.TokenID, c.shownSecret())
}

// Format implements fmt.Formatter so that no verb (%v, %+v, %#v, %s, %q, %x...)
// reaches the struct fields.
func (c Credentials) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, c.GoString())
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(c.String()))
	default:
		_, _ = io.WriteString(f, c.String())
	}
}

// MarshalJSON redacts the secret, so JSON logs and result files never hold it.
func (c Credentials) MarshalJSON() ([]byte, error) {
	type plain Credentials // no methods: avoids recursion
	return json.Marshal(plain{Form: c.Form, TokenID: c.TokenID, Secret: c.shownSecret()})
}

// Accepted lists the forms a server accepts. An empty Accepted (the default)
// accepts all three forms.
type Accepted []Form

// Allows reports whether form f is accepted.
func (a Accepted) Allows(f Form) bool {
	if len(a) == 0 {
		return f == FormPBS || f == FormPDM || f == FormPVE
	}
	return slices.Contains(a, f)
}

// Parse parses header, accepting all three forms. It returns an error for
// anything that is not exactly one of the forms.
func Parse(header string) (Credentials, error) {
	return Accepted(nil).Parse(header)
}

// Parse parses header like the package-level Parse, and refuses forms not in a
// with ErrUnknownScheme before looking at the credentials.
func (a Accepted) Parse(header string) (Credentials, error) {
	if header == "" {
		return Credentials{}, ErrMissing
	}
	if len(header) > MaxHeaderLen {
		return Credentials{}, fmt.Errorf("%w: header longer than %d bytes", ErrMalformed, MaxHeaderLen)
	}
	if isSpace(header[0]) || isSpace(header[len(header)-1]) {
		return Credentials{}, fmt.Errorf("%w: leading or trailing whitespace", ErrMalformed)
	}
	var form Form
	var rest string
	for _, f := range [...]Form{FormPBS, FormPDM, FormPVE} {
		if r, ok := strings.CutPrefix(header, string(f)); ok {
			form, rest = f, r
			break
		}
	}
	switch {
	case form == "":
		return Credentials{}, ErrUnknownScheme
	case rest == "":
		return Credentials{}, fmt.Errorf("%w: %s: no credentials after scheme", ErrMalformed, form)
	case rest[0] != '=' && rest[0] != ' ':
		return Credentials{}, ErrUnknownScheme // e.g. "PBSAPITokenX=..."
	case !a.Allows(form):
		return Credentials{}, fmt.Errorf("%w: %s not accepted", ErrUnknownScheme, form)
	}
	if form == FormPVE {
		return parsePVE(rest[1:])
	}
	return parsePBS(form, rest[1:])
}

func parsePBS(form Form, v string) (Credentials, error) {
	id, raw, ok := strings.Cut(v, ":")
	switch {
	case !ok:
		return Credentials{}, fmt.Errorf("%w: %s: no ':' between token id and secret", ErrMalformed, form)
	case len(raw) > MaxSecretLen:
		return Credentials{}, fmt.Errorf("%w: %s: secret longer than %d bytes", ErrMalformed, form, MaxSecretLen)
	case !visibleASCII(v):
		return Credentials{}, fmt.Errorf("%w: %s: whitespace or non-ASCII byte in credentials", ErrMalformed, form)
	case id == "":
		return Credentials{}, fmt.Errorf("%w: %s: empty token id", ErrMalformed, form)
	case raw == "":
		return Credentials{}, fmt.Errorf("%w: %s: empty secret", ErrMalformed, form)
	}
	secret, ok := unescape(raw, true)
	if !ok || !utf8.ValidString(secret) {
		return Credentials{}, fmt.Errorf("%w: %s: secret not valid percent-encoded UTF-8", ErrMalformed, form)
	}
	return Credentials{Form: form, TokenID: id, Secret: secret}, nil
}

func parsePVE(v string) (Credentials, error) {
	const form = FormPVE
	if !visibleASCII(v) || strings.IndexByte(v, ';') >= 0 {
		return Credentials{}, fmt.Errorf("%w: %s: whitespace, ';' or non-ASCII byte in credentials", ErrMalformed, form)
	}
	v, _ = unescape(v, false) // lenient, as PVE's uri_unescape: never fails
	i := strings.LastIndexByte(v, '=')
	switch {
	case i < 0:
		return Credentials{}, fmt.Errorf("%w: %s: no '=' between token id and secret", ErrMalformed, form)
	case len(v)-i-1 > MaxSecretLen:
		return Credentials{}, fmt.Errorf("%w: %s: secret longer than %d bytes", ErrMalformed, form, MaxSecretLen)
	case i == 0:
		return Credentials{}, fmt.Errorf("%w: %s: empty token id", ErrMalformed, form)
	case i == len(v)-1:
		return Credentials{}, fmt.Errorf("%w: %s: empty secret", ErrMalformed, form)
	}
	return Credentials{Form: form, TokenID: v[:i], Secret: v[i+1:]}, nil
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// visibleASCII reports whether s holds only bytes 0x21..0x7e.
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// unescape decodes %XX escapes. Strict mode fails on a '%' not followed by two
// hex digits; lenient mode keeps such a '%' literally.
func unescape(s string, strict bool) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true // common case: no allocation
	}
	var b strings.Builder // one allocation, no copy on String
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
				i += 2
				continue
			}
			if strict {
				return "", false
			}
		}
		b.WriteByte(s[i])
	}
	return b.String(), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}
