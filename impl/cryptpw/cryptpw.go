// Package cryptpw hashes and verifies API token secrets in the crypt(3)
// formats Proxmox Backup Server keeps in token.shadow: SHA-256-crypt ($5$),
// SHA-512-crypt ($6$) and yescrypt ($y$).
//
// Verification follows PBS (proxmox-sys verify_crypt_pw): a secret matches
// iff crypt(secret, hash) reproduces hash exactly. Hashes that libxcrypt
// would never reproduce (salt longer than 16 characters, rounds outside
// [1000, 999999999] or with leading zeros, ...) therefore never verify; Parse
// rejects them up front as ErrMalformed.
//
// Work per call is bounded so that a hostile token.shadow or request cannot
// exhaust the machine:
//   - SHA-crypt rounds above MaxRounds are rejected (ErrUnsupported),
//     although crypt(3) allows up to 999999999;
//   - yescrypt is limited to the parameter sets libxcrypt's crypt_gensalt
//     produces (costs 1..11) and further to costs up to MaxYescryptCost,
//     which bounds memory per call to 64 MiB;
//   - secrets must be shorter than 512 bytes (libxcrypt's
//     CRYPT_MAX_PASSPHRASE_SIZE); SHA-crypt's work grows quadratically
//     with the secret length.
//
// Errors never contain the secret, the salt or the digest; they name at most
// the scheme prefix.
package cryptpw

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/GehirnInc/crypt/sha256_crypt"
	"github.com/GehirnInc/crypt/sha512_crypt"
	"github.com/go-crypt/x/yescrypt"
)

// Scheme names a supported crypt(3) hashing scheme.
type Scheme string

// Supported schemes.
const (
	SHA256   Scheme = "sha256"   // SHA-256-crypt, prefix $5$
	SHA512   Scheme = "sha512"   // SHA-512-crypt, prefix $6$
	Yescrypt Scheme = "yescrypt" // yescrypt, prefix $y$
)

// Limits; see the package documentation.
const (
	// DefaultRounds is the SHA-crypt rounds count when a hash has no
	// "rounds=" field.
	DefaultRounds = 5000
	// MinRounds and MaxCryptRounds are crypt(3)'s bounds for an explicit
	// "rounds=" field.
	MinRounds      = 1000
	MaxCryptRounds = 999999999
	// MaxRounds is this package's bound on SHA-crypt rounds: 200 times the
	// default, about 0.7 s of CPU for one SHA-512 verification on a 2-core
	// AMD EPYC VM.
	MaxRounds = 1_000_000

	// DefaultYescryptCost is libxcrypt's default cost (N=4096, r=32,
	// 16 MiB), written "$y$j9T$".
	DefaultYescryptCost = 5
	// MaxYescryptCost is this package's bound on the yescrypt cost:
	// N=16384, r=32, 64 MiB per call ("$y$jBT$"). libxcrypt goes to 11
	// (1 GiB).
	MaxYescryptCost = 7

	// MaxSecretLen is the longest secret crypt(3) accepts, in bytes.
	MaxSecretLen = 511
)

// Errors returned (wrapped) by this package.
var (
	// ErrMismatch means the secret does not match the hash.
	ErrMismatch = errors.New("cryptpw: secret does not match")
	// ErrUnsupported means the hash looks well-formed but uses a scheme,
	// parameter set or cost this package does not handle.
	ErrUnsupported = errors.New("cryptpw: unsupported hash")
	// ErrMalformed means the string is not a valid crypt hash of a
	// supported scheme, or is one crypt(3) would never reproduce.
	ErrMalformed = errors.New("cryptpw: malformed hash")
)

// Prefix returns the crypt(3) prefix of s, such as "$5$", or "" if s is not
// a supported scheme.
func (s Scheme) Prefix() string {
	switch s {
	case SHA256:
		return "$5$"
	case SHA512:
		return "$6$"
	case Yescrypt:
		return "$y$"
	}
	return ""
}

// ParseScheme accepts a scheme name ("sha256", "sha512", "yescrypt") or its
// crypt prefix ("$5$", "$6$", "$y$").
func ParseScheme(s string) (Scheme, error) {
	for _, sc := range []Scheme{SHA256, SHA512, Yescrypt} {
		if s == string(sc) || s == sc.Prefix() {
			return sc, nil
		}
	}
	return "", fmt.Errorf("cryptpw: scheme %q (want sha256, sha512 or yescrypt): %w", s, ErrUnsupported)
}

// Info describes a parsed crypt hash.
type Info struct {
	Scheme Scheme
	// Cost is the rounds count for SHA-crypt (DefaultRounds when the hash
	// has no "rounds=" field) and libxcrypt's cost (1..11) for yescrypt.
	Cost int
	// Salt is the salt as written in the hash (not secret).
	Salt string
}

// parsed is Info plus the setting crypt needs to recompute the hash.
type parsed struct {
	Info
	setting string // everything before the digest, without the final '$'
}

// Parse validates hash and returns its scheme, cost and salt. It checks
// everything Verify checks except the digest's value.
func Parse(hash string) (Info, error) {
	p, err := parse(hash)
	return p.Info, err
}

func parse(hash string) (parsed, error) {
	switch {
	case strings.HasPrefix(hash, "$5$"):
		return parseSHA(SHA256, hash, 43)
	case strings.HasPrefix(hash, "$6$"):
		return parseSHA(SHA512, hash, 86)
	case strings.HasPrefix(hash, "$y$"):
		return parseYescrypt(hash)
	}
	return parsed{}, unknown(hash)
}

// unknown classifies a hash of no supported scheme. The id is echoed only
// when it is short and plain, so no hash content leaks into the error.
func unknown(hash string) error {
	if id, _, ok := strings.Cut(strings.TrimPrefix(hash, "$"), "$"); ok && hash[0] == '$' &&
		len(id) >= 1 && len(id) <= 4 && strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789") == "" {
		return fmt.Errorf("cryptpw: scheme $%s$: %w", id, ErrUnsupported)
	}
	return fmt.Errorf("cryptpw: not a crypt hash of a known scheme: %w", ErrMalformed)
}

// itoa64 is the crypt(3) base-64 alphabet.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isB64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(itoa64, s[i]) < 0 {
			return false
		}
	}
	return true
}

func malformed(prefix, why string) error {
	return fmt.Errorf("cryptpw: %s: %s: %w", prefix, why, ErrMalformed)
}

func parseSHA(scheme Scheme, hash string, digestLen int) (parsed, error) {
	prefix := scheme.Prefix()
	rest := hash[len(prefix):]
	rounds, explicit := DefaultRounds, false
	if num, ok := strings.CutPrefix(rest, "rounds="); ok {
		num, after, ok := strings.Cut(num, "$")
		// libxcrypt accepts only canonical decimals in [1000, 999999999];
		// glibc would clamp, and so emit a string different from hash.
		if !ok || len(num) == 0 || len(num) > 9 || num[0] == '0' || strings.Trim(num, "0123456789") != "" {
			return parsed{}, malformed(prefix, "rounds field is not a decimal in [1000, 999999999]")
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < MinRounds {
			return parsed{}, malformed(prefix, "rounds below 1000")
		}
		if n > MaxRounds {
			return parsed{}, fmt.Errorf("cryptpw: %s: rounds %d above this package's limit %d: %w", prefix, n, MaxRounds, ErrUnsupported)
		}
		rounds, explicit, rest = n, true, after
	}
	salt, digest, ok := strings.Cut(rest, "$")
	switch {
	case !ok:
		return parsed{}, malformed(prefix, "missing digest")
	case len(salt) == 0 || len(salt) > 16 || !isB64(salt):
		return parsed{}, malformed(prefix, "salt must be 1 to 16 characters of [./0-9A-Za-z]")
	case len(digest) != digestLen || !isB64(digest):
		return parsed{}, malformed(prefix, "digest must be "+strconv.Itoa(digestLen)+" characters of [./0-9A-Za-z]")
	}
	return parsed{
		Info:    Info{Scheme: scheme, Cost: rounds, Salt: salt},
		setting: shaSetting(prefix, rounds, explicit, salt),
	}, nil
}

// shaSetting builds the setting handed to GehirnInc/crypt's Generate. It
// must not carry the digest: with "rounds=" present that package takes the
// rest of the string as salt (its issue #9), which breaks salts shorter
// than 16 characters.
func shaSetting(prefix string, rounds int, explicit bool, salt string) string {
	if explicit {
		return prefix + "rounds=" + strconv.Itoa(rounds) + "$" + salt
	}
	return prefix + salt
}

// yescryptParams maps libxcrypt's crypt_gensalt cost to (log2 N, r).
var yescryptParams = [...]struct{ nLog2, r int }{
	1: {10, 8}, 2: {11, 8},
	3: {10, 32}, 4: {11, 32}, 5: {12, 32}, 6: {13, 32}, 7: {14, 32},
	8: {15, 32}, 9: {16, 32}, 10: {17, 32}, 11: {18, 32},
}

const maxYescryptSalt = 86 // characters, i.e. 64 bytes

func parseYescrypt(hash string) (parsed, error) {
	const prefix = "$y$"
	params, rest, ok := strings.Cut(hash[len(prefix):], "$")
	if !ok || params == "" || !isB64(params) {
		return parsed{}, malformed(prefix, "bad parameter field")
	}
	// libxcrypt's crypt_gensalt writes flavour 'j' (YESCRYPT_DEFAULTS),
	// then N and r; optional p, t, g or ROM fields would follow.
	if len(params) != 3 || params[0] != 'j' {
		return parsed{}, fmt.Errorf("cryptpw: %s: parameters other than libxcrypt's crypt_gensalt defaults: %w", prefix, ErrUnsupported)
	}
	nLog2 := strings.IndexByte(itoa64, params[1]) + 1
	r := strings.IndexByte(itoa64, params[2]) + 1
	cost := 0
	for c, p := range yescryptParams {
		if c > 0 && p.nLog2 == nLog2 && p.r == r {
			cost = c
		}
	}
	if cost == 0 {
		return parsed{}, fmt.Errorf("cryptpw: %s: N and r not from libxcrypt's crypt_gensalt: %w", prefix, ErrUnsupported)
	}
	if cost > MaxYescryptCost {
		return parsed{}, fmt.Errorf("cryptpw: %s: cost %d above this package's limit %d: %w", prefix, cost, MaxYescryptCost, ErrUnsupported)
	}
	salt, digest, ok := strings.Cut(rest, "$")
	switch {
	case !ok:
		return parsed{}, malformed(prefix, "missing digest")
	case len(salt) == 0 || len(salt) > maxYescryptSalt || !isB64(salt) || yescrypt.Decode64([]byte(salt)) == nil:
		return parsed{}, malformed(prefix, "bad salt encoding")
	case len(digest) != 43 || !isB64(digest):
		return parsed{}, malformed(prefix, "digest must be 43 characters of [./0-9A-Za-z]")
	}
	return parsed{
		Info:    Info{Scheme: Yescrypt, Cost: cost, Salt: salt},
		setting: prefix + params + "$" + salt,
	}, nil
}

// compute runs crypt(secret, setting) for a parsed or generated setting.
func compute(scheme Scheme, secret, setting string) (string, error) {
	var (
		out string
		err error
	)
	switch scheme {
	case SHA256:
		out, err = sha256_crypt.New().Generate([]byte(secret), []byte(setting))
	case SHA512:
		out, err = sha512_crypt.New().Generate([]byte(secret), []byte(setting))
	case Yescrypt:
		var b []byte
		b, err = yescrypt.Hash([]byte(secret), []byte(setting))
		out = string(b)
	default:
		return "", fmt.Errorf("cryptpw: scheme %q: %w", scheme, ErrUnsupported)
	}
	if err != nil {
		// The libraries' errors are fixed strings without inputs.
		return "", fmt.Errorf("cryptpw: %s: computing hash: %w", scheme.Prefix(), err)
	}
	return out, nil
}

// Verify returns nil iff secret matches hash, that is iff crypt(3) would
// reproduce hash from secret. It fails closed: any hash Parse rejects, and
// any secret crypt(3) cannot take (NUL bytes, MaxSecretLen exceeded), gives
// an error. The final comparison is constant-time.
func Verify(secret, hash string) error {
	p, err := parse(hash)
	if err != nil {
		return err
	}
	if err := checkSecret(secret); err != nil {
		return fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	got, err := compute(p.Scheme, secret, p.setting)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(hash)) != 1 {
		return ErrMismatch
	}
	return nil
}

func checkSecret(secret string) error {
	if len(secret) > MaxSecretLen {
		return fmt.Errorf("cryptpw: secret longer than %d bytes", MaxSecretLen)
	}
	if strings.IndexByte(secret, 0) >= 0 {
		return errors.New("cryptpw: secret contains a NUL byte")
	}
	return nil
}

// Hash returns a crypt(3) hash of secret with a fresh random salt, in the
// format libxcrypt's crypt_gensalt produces. cost is the SHA-crypt rounds
// count (0 or 5000: default, written without "rounds="; 1..999 raise to
// 1000 like libxcrypt; at most MaxRounds) or the yescrypt cost (0: default
// 5; 1..MaxYescryptCost).
func Hash(scheme Scheme, cost int, secret string) (string, error) {
	if err := checkSecret(secret); err != nil {
		return "", err
	}
	var rbytes [16]byte // libxcrypt draws 16 bytes for every scheme here
	if _, err := rand.Read(rbytes[:]); err != nil {
		return "", fmt.Errorf("cryptpw: reading random salt: %w", err)
	}
	setting, err := gensalt(scheme, cost, rbytes[:])
	if err != nil {
		return "", err
	}
	return compute(scheme, secret, setting)
}

// gensalt mirrors libxcrypt's crypt_gensalt for our schemes and limits.
func gensalt(scheme Scheme, cost int, rbytes []byte) (string, error) {
	if cost < 0 {
		return "", fmt.Errorf("cryptpw: negative cost %d", cost)
	}
	salt := string(yescrypt.Encode64(rbytes))
	switch scheme {
	case SHA256, SHA512:
		if cost > MaxRounds {
			return "", fmt.Errorf("cryptpw: rounds %d above this package's limit %d: %w", cost, MaxRounds, ErrUnsupported)
		}
		if cost == 0 {
			cost = DefaultRounds
		}
		cost = max(cost, MinRounds)
		return shaSetting(scheme.Prefix(), cost, cost != DefaultRounds, salt[:min(len(salt), 16)]), nil
	case Yescrypt:
		if cost == 0 {
			cost = DefaultYescryptCost
		}
		if cost > MaxYescryptCost {
			return "", fmt.Errorf("cryptpw: yescrypt cost %d above this package's limit %d: %w", cost, MaxYescryptCost, ErrUnsupported)
		}
		p := yescryptParams[cost]
		return "$y$j" + string(itoa64[p.nLog2-1]) + string(itoa64[p.r-1]) + "$" + salt, nil
	}
	return "", fmt.Errorf("cryptpw: scheme %q: %w", scheme, ErrUnsupported)
}
