package ticket

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // SHA-1: the digest of old Crypt::OpenSSL::RSA releases
	_ "crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PVE's constants (AccessControl.pm).
const (
	TicketLifetime = 2 * time.Hour
	GracePeriod    = 300 * time.Second
	KeyLifetime    = 24 * time.Hour
	// DefaultKeyBits is PVE's generate_key(2048).
	DefaultKeyBits = 2048
	// Prefix is the login ticket's prefix.
	Prefix = "PVE"
	// MaxTicketLen bounds what the parser looks at: a 4096-bit signature
	// is 684 base64 characters, user names are short. Longer is garbage.
	MaxTicketLen = 4096
)

// DefaultDigest is the hash signed with PKCS#1 v1.5 unless a caller chooses.
var DefaultDigest = crypto.SHA256

// Errors a ticket can fail with. Callers answer all of them with 401.
var (
	ErrMalformed = errors.New("malformed ticket")
	ErrSignature = errors.New("bad ticket signature")
	ErrAge       = errors.New("ticket age out of range")
	ErrNoKey     = errors.New("no usable public key")
)

// Parsed is a ticket split into its parts; nothing is verified yet.
type Parsed struct {
	Prefix string
	Data   string
	Time   int64  // HEXTIME as Unix seconds
	Plain  string // "PREFIX:data:HEXTIME", what was signed
	Sig    []byte
}

// Assemble signs data as PVE::Ticket::assemble_rsa_ticket does.
func Assemble(priv *rsa.PrivateKey, digest crypto.Hash, prefix, data string, now time.Time) (string, error) {
	if strings.ContainsAny(data, " \t\r\n") || strings.Contains(prefix, ":") {
		return "", fmt.Errorf("ticket: data may not contain white space, prefix no colon")
	}
	plain := prefix + ":"
	if data != "" {
		plain += data + ":"
	}
	plain += fmt.Sprintf("%08X", now.Unix())
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, digest, hashOf(digest, plain))
	if err != nil {
		return "", fmt.Errorf("ticket: sign: %w", err)
	}
	return plain + "::" + base64.StdEncoding.EncodeToString(sig), nil
}

func hashOf(d crypto.Hash, s string) []byte {
	h := d.New()
	h.Write([]byte(s))
	return h.Sum(nil)
}

// Parse splits a ticket with the rules of verify_rsa_ticket: the whole
// ticket matches ^(PREFIX:\S+)::([^:\s]+)$ and the plain part
// ^PREFIX:(?:(\S+):)?([A-Z0-9]{8})$. PVE's hex() of "[A-Z0-9]{8}" would
// read non-hex letters as garbage; here anything but upper-case hex is an
// error.
func Parse(prefix, t string) (Parsed, error) {
	if len(t) > MaxTicketLen {
		return Parsed{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(t))
	}
	if strings.ContainsAny(t, " \t\r\n\v\f") {
		return Parsed{}, fmt.Errorf("%w: white space", ErrMalformed)
	}
	i := strings.LastIndex(t, "::")
	if i < 0 {
		return Parsed{}, fmt.Errorf("%w: no signature separator", ErrMalformed)
	}
	plain, sig64 := t[:i], t[i+2:]
	if sig64 == "" || strings.Contains(sig64, ":") {
		return Parsed{}, fmt.Errorf("%w: signature part", ErrMalformed)
	}
	if !strings.HasPrefix(plain, prefix+":") || len(plain) < len(prefix)+1+8 {
		return Parsed{}, fmt.Errorf("%w: wrong prefix or too short", ErrMalformed)
	}
	rest := plain[len(prefix)+1:]
	hexTime := rest[len(rest)-8:]
	data := ""
	if len(rest) > 8 {
		if rest[len(rest)-9] != ':' {
			return Parsed{}, fmt.Errorf("%w: timestamp not 8 digits", ErrMalformed)
		}
		data = rest[:len(rest)-9]
		if data == "" {
			return Parsed{}, fmt.Errorf("%w: empty data", ErrMalformed)
		}
	}
	for _, c := range hexTime {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return Parsed{}, fmt.Errorf("%w: timestamp %q is not upper-case hex", ErrMalformed, hexTime)
		}
	}
	ts, err := strconv.ParseUint(hexTime, 16, 32) // 8 hex digits never overflow 32 bits
	if err != nil {
		return Parsed{}, fmt.Errorf("%w: timestamp: %v", ErrMalformed, err)
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil {
		// PVE's encode_base64($x, '') pads; accept unpadded too, as
		// MIME::Base64's decoder is lenient about padding.
		sig, err = base64.RawStdEncoding.DecodeString(sig64)
		if err != nil {
			return Parsed{}, fmt.Errorf("%w: signature base64: %v", ErrMalformed, err)
		}
	}
	return Parsed{Prefix: prefix, Data: data, Time: int64(ts), Plain: plain, Sig: sig}, nil
}

// AgeRange is an open interval (Min, Max) of accepted ticket ages in
// seconds, as verify_rsa_ticket compares them.
type AgeRange struct{ Min, Max int64 }

// TicketAgeRange is get_ticket_age_range: for the current key (rotated
// false) a ticket cannot predate the key by more than the grace period
// while the key is young, and a key past its lifetime narrows the range;
// for the old key (rotated true) the ticket must predate the rotation
// (the old file's mtime). ok is false when no ticket can be valid.
func TicketAgeRange(now, keyMtime int64, rotated bool, keyLifetime time.Duration) (AgeRange, bool) {
	keyAge := now - keyMtime
	if keyAge < 0 {
		keyAge = 0
	}
	grace, life, klife := int64(GracePeriod/time.Second), int64(TicketLifetime/time.Second), int64(keyLifetime/time.Second)
	r := AgeRange{Min: -grace, Max: life}
	if rotated {
		r.Min = keyAge - grace
	} else {
		if keyAge > klife && klife > 0 {
			r.Min = keyAge - klife // quorate: we have no quorum concept, always quorate
		}
		if keyAge < life {
			r.Max = keyAge + grace
		}
	}
	if r.Min > life {
		return AgeRange{}, false
	}
	return r, true
}

// VerifyWith checks a parsed ticket's signature with pub and its age
// against r. Signature first, as verify_rsa_ticket does.
func VerifyWith(p Parsed, pub *rsa.PublicKey, digest crypto.Hash, r AgeRange, now int64) error {
	if pub == nil {
		return ErrNoKey
	}
	if err := rsa.VerifyPKCS1v15(pub, digest, hashOf(digest, p.Plain), p.Sig); err != nil {
		return ErrSignature
	}
	age := now - p.Time
	if !(age > r.Min && age < r.Max) {
		return fmt.Errorf("%w: age %d s not in (%d, %d)", ErrAge, age, r.Min, r.Max)
	}
	return nil
}
