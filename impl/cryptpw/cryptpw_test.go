package cryptpw

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// vectors mirrors testdata/libcrypt_vectors.json (see gen_vectors.py).
type vectors struct {
	Verify      []vector `json:"verify"`
	NeverVerify []vector `json:"never_verify"`
	Gensalt     []struct {
		Prefix  string `json:"prefix"`
		Count   int    `json:"count"`
		RBytes  string `json:"rbytes"`
		Setting string `json:"setting"`
	} `json:"gensalt"`
}

type vector struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
	Hash   string `json:"hash"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "libcrypt_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Verify) == 0 || len(v.NeverVerify) == 0 || len(v.Gensalt) == 0 {
		t.Fatal("vector file has an empty section")
	}
	return v
}

// skipSlow skips yescrypt cases above cost 3 (4 MiB) under the race
// detector, where each would take seconds.
func skipSlow(t *testing.T, info Info) {
	t.Helper()
	if raceEnabled && info.Scheme == Yescrypt && info.Cost > 3 {
		t.Skipf("yescrypt cost %d is slow under -race; covered by the run without -race", info.Cost)
	}
}

// variants returns secrets that differ from s by one character.
func variants(s string) []string {
	if s == "" {
		return []string{"x", " "}
	}
	first := "a"
	if s[0] == 'a' {
		first = "b"
	}
	return []string{first + s[1:], s + "0", s[:len(s)-1]}
}

func TestVerifyLibcryptVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.Verify {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			info, err := Parse(tc.Hash)
			if err != nil {
				t.Fatalf("Parse(libcrypt hash) = %v", err)
			}
			skipSlow(t, info)
			if err := Verify(tc.Secret, tc.Hash); err != nil {
				t.Fatalf("Verify(libcrypt hash) = %v, want nil", err)
			}
			wrongs := variants(tc.Secret)
			if info.Scheme == Yescrypt {
				wrongs = wrongs[:1] // each costs a full yescrypt run
			}
			for _, wrong := range wrongs {
				if err := Verify(wrong, tc.Hash); !errors.Is(err, ErrMismatch) {
					t.Errorf("Verify(secret changed by one character) = %v, want ErrMismatch", err)
				}
			}
		})
	}
}

func TestNeverVerifyVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.NeverVerify {
		t.Run(tc.Name, func(t *testing.T) {
			err := Verify(tc.Secret, tc.Hash)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Verify = %v, want ErrMalformed (libcrypt never reproduces this string)", err)
			}
			if _, err := Parse(tc.Hash); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestGensaltMatchesLibxcrypt(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.Gensalt {
		rb, err := hex.DecodeString(tc.RBytes)
		if err != nil {
			t.Fatal(err)
		}
		scheme, err := ParseScheme(tc.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		got, err := gensalt(scheme, tc.Count, rb)
		overLimit := (scheme == Yescrypt && tc.Count > MaxYescryptCost) ||
			(scheme != Yescrypt && tc.Count > MaxRounds)
		switch {
		case overLimit:
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("gensalt(%s, %d) = %q, %v; want ErrUnsupported above our limit", tc.Prefix, tc.Count, got, err)
			}
		case err != nil || got != tc.Setting:
			t.Errorf("gensalt(%s, %d) = %q, %v; libxcrypt gives %q", tc.Prefix, tc.Count, got, err, tc.Setting)
		}
	}
}

func TestHashRoundTrip(t *testing.T) {
	const secret = "0d2f9a51-8f5e-4b0c-9a3e-3c2b7d6e1f40"
	tests := []struct {
		scheme     Scheme
		cost       int
		wantPrefix string
		wantCost   int
	}{
		{SHA256, 0, "$5$", DefaultRounds},
		{SHA256, 5000, "$5$", DefaultRounds},
		{SHA256, 1, "$5$rounds=1000$", 1000},
		{SHA256, 10000, "$5$rounds=10000$", 10000},
		{SHA512, 0, "$6$", DefaultRounds},
		{SHA512, 4999, "$6$rounds=4999$", 4999},
		{Yescrypt, 0, "$y$j9T$", 5},
		{Yescrypt, 1, "$y$j75$", 1},
		{Yescrypt, 4, "$y$j8T$", 4},
	}
	for _, tc := range tests {
		t.Run(string(tc.scheme)+"/"+tc.wantPrefix, func(t *testing.T) {
			t.Parallel()
			skipSlow(t, Info{Scheme: tc.scheme, Cost: tc.wantCost})
			h, err := Hash(tc.scheme, tc.cost, secret)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(h, tc.wantPrefix) || (tc.cost == 0 && strings.Contains(h, "rounds=")) {
				t.Fatalf("Hash has setting %q, want prefix %q", h[:strings.LastIndexByte(h, '$')], tc.wantPrefix)
			}
			info, err := Parse(h)
			if err != nil {
				t.Fatal(err)
			}
			if info.Scheme != tc.scheme || info.Cost != tc.wantCost {
				t.Errorf("Parse = %+v, want scheme %s cost %d", info, tc.scheme, tc.wantCost)
			}
			if err := Verify(secret, h); err != nil {
				t.Errorf("Verify(own hash) = %v", err)
			}
			if err := Verify(secret+"x", h); !errors.Is(err, ErrMismatch) {
				t.Errorf("Verify(wrong secret) = %v, want ErrMismatch", err)
			}
		})
	}
}

func TestHashSaltIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		h, err := Hash(SHA256, 1000, "")
		if err != nil {
			t.Fatal(err)
		}
		info, err := Parse(h)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Salt) != 16 || seen[info.Salt] {
			t.Fatalf("salt %q is short or repeated", info.Salt)
		}
		seen[info.Salt] = true
	}
	for _, scheme := range []Scheme{SHA512, Yescrypt} {
		a, errA := gensaltRandom(scheme)
		b, errB := gensaltRandom(scheme)
		if errA != nil || errB != nil || a == b {
			t.Errorf("%s: settings %q and %q (errors %v, %v); want two different ones", scheme, a, b, errA, errB)
		}
	}
}

// gensaltRandom is Hash's setting step without the hashing.
func gensaltRandom(scheme Scheme) (string, error) {
	var rb [16]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return "", err
	}
	return gensalt(scheme, 0, rb[:])
}

func TestHashSettingFormat(t *testing.T) {
	for _, tc := range []struct {
		scheme Scheme
		want   int // setting length with a 16-byte salt
	}{{SHA256, len("$5$") + 16}, {SHA512, len("$6$") + 16}, {Yescrypt, len("$y$j9T$") + 22}} {
		s, err := gensaltRandom(tc.scheme)
		if err != nil || len(s) != tc.want {
			t.Errorf("%s setting %q, %v; want length %d", tc.scheme, s, err, tc.want)
		}
	}
}

func TestHashErrors(t *testing.T) {
	const sec = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	tests := []struct {
		name    string
		scheme  Scheme
		cost    int
		secret  string
		wantErr error // nil: any error
	}{
		{"unknown scheme", Scheme("md5"), 0, sec, ErrUnsupported},
		{"empty scheme", Scheme(""), 0, sec, ErrUnsupported},
		{"negative rounds", SHA256, -1, sec, nil},
		{"rounds above limit", SHA512, MaxRounds + 1, sec, ErrUnsupported},
		{"negative yescrypt cost", Yescrypt, -1, sec, nil},
		{"yescrypt cost above limit", Yescrypt, MaxYescryptCost + 1, sec, ErrUnsupported},
		{"yescrypt cost beyond libxcrypt", Yescrypt, 12, sec, ErrUnsupported},
		{"secret too long", SHA256, 0, strings.Repeat(sec, 15), nil},
		{"secret with NUL", SHA256, 0, sec + "\x00", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Hash(tc.scheme, tc.cost, tc.secret)
			if err == nil {
				t.Fatalf("Hash succeeded with %q", h)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Hash error %v, want %v", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), sec) {
				t.Error("error contains the secret")
			}
		})
	}
	if _, err := Hash(SHA256, 0, strings.Repeat("s", MaxSecretLen)); err != nil {
		t.Errorf("Hash of a %d-byte secret: %v", MaxSecretLen, err)
	}
}

func TestParseScheme(t *testing.T) {
	tests := []struct {
		in   string
		want Scheme
		ok   bool
	}{
		{"sha256", SHA256, true},
		{"$5$", SHA256, true},
		{"sha512", SHA512, true},
		{"$6$", SHA512, true},
		{"yescrypt", Yescrypt, true},
		{"$y$", Yescrypt, true},
		{"SHA256", "", false},
		{"md5", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, err := ParseScheme(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseScheme(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrUnsupported) {
			t.Errorf("ParseScheme(%q) error %v does not wrap ErrUnsupported", tc.in, err)
		}
	}
}

const (
	d43 = "MgcL7wXeaW8QxHzFmj9tfnCaFFj9BONOC5Nz3tlsPBD"
	d86 = d43 + d43
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		hash    string
		want    Info
		wantErr error
	}{
		{"sha256 default", "$5$saltstring$" + d43, Info{SHA256, 5000, "saltstring"}, nil},
		{"sha256 explicit 5000", "$5$rounds=5000$abc$" + d43, Info{SHA256, 5000, "abc"}, nil},
		{"sha256 rounds 1000", "$5$rounds=1000$a$" + d43, Info{SHA256, 1000, "a"}, nil},
		{"sha256 rounds at limit", "$5$rounds=1000000$a$" + d43, Info{SHA256, MaxRounds, "a"}, nil},
		{"sha512 16-char salt", "$6$0123456789abcdef$" + d86, Info{SHA512, 5000, "0123456789abcdef"}, nil},
		{"yescrypt default", "$y$j9T$/6k.2IU/5UE08g.1Bsk1E.$" + d43, Info{Yescrypt, 5, "/6k.2IU/5UE08g.1Bsk1E."}, nil},
		{"yescrypt cost 1", "$y$j75$abcd$" + d43, Info{Yescrypt, 1, "abcd"}, nil},
		{"yescrypt cost 7", "$y$jBT$abcd$" + d43, Info{Yescrypt, 7, "abcd"}, nil},

		{"empty", "", Info{}, ErrMalformed},
		{"plain text", "secret", Info{}, ErrMalformed},
		{"dollar only", "$", Info{}, ErrMalformed},
		{"locked", "!$5$abc$" + d43, Info{}, ErrMalformed},
		{"DES", "abJnggxhB/yWI", Info{}, ErrMalformed},
		{"md5", "$1$abc$def", Info{}, ErrUnsupported},
		{"bcrypt", "$2b$10$abcdefghijklmnopqrstuv" + d43[:31], Info{}, ErrUnsupported},
		{"gost-yescrypt", "$gy$j9T$abcd$" + d43, Info{}, ErrUnsupported},
		{"scrypt", "$7$CU..../....abcd$" + d43, Info{}, ErrUnsupported},

		{"sha256 prefix only", "$5$", Info{}, ErrMalformed},
		{"sha256 setting only", "$5$saltstring", Info{}, ErrMalformed},
		{"sha256 empty digest", "$5$saltstring$", Info{}, ErrMalformed},
		{"sha256 truncated digest", "$5$saltstring$" + d43[:42], Info{}, ErrMalformed},
		{"sha256 long digest", "$5$saltstring$" + d43 + "A", Info{}, ErrMalformed},
		{"sha256 sha512-length digest", "$5$saltstring$" + d86, Info{}, ErrMalformed},
		{"sha256 extra field", "$5$salt$" + d43 + "$x", Info{}, ErrMalformed},
		{"sha256 empty salt", "$5$$" + d43, Info{}, ErrMalformed},
		{"sha256 salt 17 chars", "$5$0123456789abcdefg$" + d43, Info{}, ErrMalformed},
		{"sha256 bad salt char", "$5$a:b$" + d43, Info{}, ErrMalformed},
		{"sha256 non-ascii salt", "$5$sälz$" + d43, Info{}, ErrMalformed},
		{"sha256 bad digest char", "$5$abc$" + d43[:42] + "*", Info{}, ErrMalformed},
		{"sha256 rounds 999", "$5$rounds=999$abc$" + d43, Info{}, ErrMalformed},
		{"sha256 rounds 0", "$5$rounds=0$abc$" + d43, Info{}, ErrMalformed},
		{"sha256 rounds leading zero", "$5$rounds=01000$abc$" + d43, Info{}, ErrMalformed},
		{"sha256 rounds sign", "$5$rounds=+1000$abc$" + d43, Info{}, ErrMalformed},
		{"sha256 rounds negative", "$5$rounds=-1000$abc$" + d43, Info{}, ErrMalformed},
		{"sha256 rounds empty", "$5$rounds=$abc$" + d43, Info{}, ErrMalformed},
		{"sha256 rounds junk", "$5$rounds=12x$abc$" + d43, Info{}, ErrMalformed},
		{"sha256 rounds huge", "$5$rounds=99999999999999999999999$abc$" + d43, Info{}, ErrMalformed},
		{"sha256 rounds crypt max", "$5$rounds=999999999$abc$" + d43, Info{}, ErrUnsupported},
		{"sha256 rounds above limit", "$5$rounds=1000001$abc$" + d43, Info{}, ErrUnsupported},
		{"sha256 rounds unterminated", "$5$rounds=5000", Info{}, ErrMalformed},
		{"sha512 sha256-length digest", "$6$abc$" + d43, Info{}, ErrMalformed},

		{"yescrypt prefix only", "$y$", Info{}, ErrMalformed},
		{"yescrypt params only", "$y$j9T", Info{}, ErrMalformed},
		{"yescrypt setting only", "$y$j9T$abcd", Info{}, ErrMalformed},
		{"yescrypt empty params", "$y$$abcd$" + d43, Info{}, ErrMalformed},
		{"yescrypt empty salt", "$y$j9T$$" + d43, Info{}, ErrMalformed},
		{"yescrypt salt trailing bits", "$y$j9T$abc$" + d43, Info{}, ErrMalformed},
		{"yescrypt salt too long", "$y$j9T$" + strings.Repeat("abcd", 22) + "$" + d43, Info{}, ErrMalformed},
		{"yescrypt truncated digest", "$y$j9T$abcd$" + d43[:40], Info{}, ErrMalformed},
		{"yescrypt bad param char", "$y$j9*$abcd$" + d43, Info{}, ErrMalformed},
		{"yescrypt other flavour", "$y$k9T$abcd$" + d43, Info{}, ErrUnsupported},
		{"yescrypt extra params", "$y$j9TZ$abcd$" + d43, Info{}, ErrUnsupported},
		{"yescrypt short params", "$y$j9$abcd$" + d43, Info{}, ErrUnsupported},
		{"yescrypt tiny N", "$y$j/T$abcd$" + d43, Info{}, ErrUnsupported},
		{"yescrypt odd r", "$y$j97$abcd$" + d43, Info{}, ErrUnsupported},
		{"yescrypt cost 8", "$y$jCT$abcd$" + d43, Info{}, ErrUnsupported},
		{"yescrypt cost 11 (1 GiB)", "$y$jFT$abcd$" + d43, Info{}, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.hash)
			if tc.wantErr == nil {
				if err != nil || got != tc.want {
					t.Fatalf("Parse = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Parse error = %v, want %v", err, tc.wantErr)
			}
			// Verify must fail the same way, before any hashing.
			if err := Verify("secret", tc.hash); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
			}
			if len(tc.hash) > len("$5$") && strings.Contains(err.Error(), tc.hash) {
				t.Errorf("error %q contains the hash", err)
			}
		})
	}
}

// TestVerifyBadSecret: secrets crypt(3) cannot take never match.
func TestVerifyBadSecret(t *testing.T) {
	const secret = "0d2f9a51-8f5e-4b0c-9a3e-3c2b7d6e1f40"
	h, err := Hash(SHA256, 0, secret)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"NUL after secret": secret + "\x00junk",
		"too long":         secret + strings.Repeat("x", MaxSecretLen),
	} {
		if err := Verify(s, h); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: Verify = %v, want ErrMismatch", name, err)
		}
	}
}

// TestErrorsDoNotLeak checks that no error names the secret, the salt or the
// digest.
func TestErrorsDoNotLeak(t *testing.T) {
	const secret = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
	const salt = "SALTsaltSALTsalt"
	good, err := Hash(SHA512, 0, secret)
	if err != nil {
		t.Fatal(err)
	}
	digest := good[strings.LastIndexByte(good, '$')+1:]
	for _, h := range []string{
		good,
		"$5$" + salt + "$" + d43,
		"$5$" + salt + "X$" + d43,
		"$5$rounds=99$" + salt + "$" + d43,
		"$6$" + salt + "$" + digest[:80],
		"$y$jFT$" + salt + "$" + d43,
		"$y$j9T$" + salt + "A$" + d43,
		"$9$" + salt + "$" + d43,
		"$" + secret + "$" + d43,
	} {
		for _, s := range []string{secret + "!", strings.Repeat(secret, 20), secret + "\x00"} {
			err := Verify(s, h)
			if err == nil {
				t.Fatalf("Verify accepted a wrong secret")
			}
			msg := err.Error()
			for _, leak := range []string{secret, salt, digest, d43[:20]} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q leaks sensitive text", msg)
				}
			}
		}
	}
}

// TestLibcryptAcceptsOurHashes checks the other direction: the system's
// crypt(3) verifies what Hash produces.
func TestLibcryptAcceptsOurHashes(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed; cannot reach the system libcrypt")
	}
	type item struct {
		Secret string `json:"secret"`
		Hash   string `json:"hash"`
	}
	var items []item
	for _, c := range []struct {
		scheme Scheme
		cost   int
		secret string
	}{
		{SHA256, 0, "0d2f9a51-8f5e-4b0c-9a3e-3c2b7d6e1f40"},
		{SHA256, 1000, ""},
		{SHA256, 12345, "pässwörd-🔑"},
		{SHA512, 0, "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
		{SHA512, 5000, strings.Repeat("z", MaxSecretLen)},
		{SHA512, 2000, "pässwörd-🔑"},
		{Yescrypt, 0, "f47ac10b-58cc-4372-a567-0e02b2c3d479"},
		{Yescrypt, 1, ""},
		{Yescrypt, 2, "pässwörd-🔑"},
		{Yescrypt, 3, "f47ac10b-58cc-4372-a567-0e02b2c3d479"},
	} {
		if raceEnabled && c.scheme == Yescrypt && (c.cost == 0 || c.cost > 3) {
			continue // see skipSlow
		}
		h, err := Hash(c.scheme, c.cost, c.secret)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, item{c.secret, h})
	}
	in, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), py, filepath.Join("testdata", "libcrypt_check.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 3 {
		t.Skipf("system libcrypt not loadable: %s", strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		t.Fatalf("libcrypt_check.py: %v: %s", err, stderr.String())
	}
	var ok []bool
	if err := json.Unmarshal(out, &ok); err != nil || len(ok) != len(items) {
		t.Fatalf("libcrypt_check.py output %q: %v", out, err)
	}
	for i, good := range ok {
		if !good {
			info, _ := Parse(items[i].Hash)
			t.Errorf("libcrypt rejects our %s hash with cost %d", info.Scheme, info.Cost)
		}
	}
}
