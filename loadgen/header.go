package loadgen

import (
	"fmt"
	"strings"
)

// Form selects the Authorization header syntax of a product.
type Form uint8

const (
	// FormPBS is Proxmox Backup Server: "PBSAPIToken=id:secret", secret
	// percent-encoded.
	FormPBS Form = iota
	// FormPDM is Proxmox Datacenter Manager: "PDMAPIToken=id:secret",
	// secret percent-encoded.
	FormPDM
	// FormPVE is Proxmox VE: "PVEAPIToken=id=secret", split by the server on
	// the last '='; the secret is sent verbatim.
	FormPVE
)

var formNames = [...]string{FormPBS: "pbs", FormPDM: "pdm", FormPVE: "pve"}

// String returns "pbs", "pdm" or "pve".
func (f Form) String() string {
	if int(f) < len(formNames) {
		return formNames[f]
	}
	return fmt.Sprintf("Form(%d)", uint8(f))
}

// ParseForm parses the names String returns (case-insensitive).
func ParseForm(s string) (Form, error) {
	for i, n := range formNames {
		if strings.EqualFold(s, n) {
			return Form(i), nil
		}
	}
	return 0, fmt.Errorf("unknown header form %q (want pbs, pdm or pve)", s)
}

// prefix returns the scheme part including the '=' that follows it.
func (f Form) prefix() string {
	switch f {
	case FormPDM:
		return "PDMAPIToken="
	case FormPVE:
		return "PVEAPIToken="
	default:
		return "PBSAPIToken="
	}
}

// sep is the separator between token id and secret.
func (f Form) sep() byte {
	if f == FormPVE {
		return '='
	}
	return ':'
}

// Header returns the Authorization header value authenticating t in form f.
// PBS and PDM percent-decode the secret, so every byte outside the RFC 3986
// unreserved set is percent-encoded (a UUID secret is sent unchanged). PVE
// splits on the last '=' and does not decode, so its secret is sent as is and
// must not contain '='.
func Header(f Form, t Token) string {
	secret := t.Secret
	if f != FormPVE {
		secret = percentEncode(secret)
	}
	var b strings.Builder
	p := f.prefix()
	b.Grow(len(p) + len(t.ID) + 1 + len(secret))
	b.WriteString(p)
	b.WriteString(t.ID)
	b.WriteByte(f.sep())
	b.WriteString(secret)
	return b.String()
}

// percentEncode encodes every byte outside A-Z a-z 0-9 - . _ ~ as %XX.
func percentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
