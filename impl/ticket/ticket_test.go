package ticket

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testKeyOnce sync.Once
	testKeys    [3]*rsa.PrivateKey
)

// keys returns three small test keys, generated once per test binary.
func keys(t testing.TB) [3]*rsa.PrivateKey {
	testKeyOnce.Do(func() {
		for i := range testKeys {
			k, err := GenerateKey(1024)
			if err != nil {
				panic(err)
			}
			testKeys[i] = k
		}
	})
	return testKeys
}

func TestAssembleFormat(t *testing.T) {
	k := keys(t)[0]
	now := time.Unix(0x5F5E1000, 0)
	tk, err := Assemble(k, DefaultDigest, Prefix, "root@pam", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tk, "PVE:root@pam:5F5E1000::") {
		t.Fatalf("ticket %q does not start with PVE:root@pam:5F5E1000::", tk)
	}
	p, err := Parse(Prefix, tk)
	if err != nil {
		t.Fatal(err)
	}
	if p.Data != "root@pam" || p.Time != 0x5F5E1000 || p.Plain != "PVE:root@pam:5F5E1000" || len(p.Sig) != 128 {
		t.Fatalf("parsed %+v", p)
	}
	r, _ := TicketAgeRange(now.Unix(), now.Unix()-3600, false, KeyLifetime)
	if err := VerifyWith(p, &k.PublicKey, DefaultDigest, r, now.Unix()+10); err != nil {
		t.Fatal(err)
	}
	if err := VerifyWith(p, &keys(t)[1].PublicKey, DefaultDigest, r, now.Unix()+10); !errors.Is(err, ErrSignature) {
		t.Fatalf("other key: %v, want ErrSignature", err)
	}
	if err := VerifyWith(p, &k.PublicKey, crypto.SHA1, r, now.Unix()+10); !errors.Is(err, ErrSignature) {
		t.Fatalf("other digest: %v, want ErrSignature", err)
	}
	if _, err := Assemble(k, DefaultDigest, Prefix, "has space", now); err == nil {
		t.Fatal("data with white space accepted")
	}
}

func TestParseRejects(t *testing.T) {
	good, err := Assemble(keys(t)[0], DefaultDigest, Prefix, "root@pam", time.Unix(0x60000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, sig, _ := strings.Cut(good, "::")
	tests := []struct {
		name, ticket string
	}{
		{"empty", ""},
		{"garbage", "hello"},
		{"wrong prefix", "PBS:root@pam:60000000::" + sig},
		{"prefix only", "PVE:::" + sig},
		{"lower-case hex", "PVE:root@pam:6000000a::" + sig},
		{"non-hex", "PVE:root@pam:6000000G::" + sig},
		{"short timestamp", "PVE:root@pam:6000000::" + sig},
		{"overflowing timestamp", "PVE:root@pam:160000000::" + sig},
		{"no signature", "PVE:root@pam:60000000::"},
		{"no separator", "PVE:root@pam:60000000:" + sig},
		{"bad base64", "PVE:root@pam:60000000::!!!!"},
		{"colon in signature", "PVE:root@pam:60000000::ab:cd"},
		{"white space", "PVE:root @pam:60000000::" + sig},
		{"empty data", "PVE::60000000::" + sig},
		{"oversized", "PVE:" + strings.Repeat("a", MaxTicketLen) + ":60000000::" + sig},
		{"truncated", good[:20]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(Prefix, tc.ticket); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed", tc.ticket, err)
			}
		})
	}
	if _, err := Parse(Prefix, good); err != nil {
		t.Fatalf("good ticket: %v", err)
	}
	// No data is allowed (VNC-style tickets carry none).
	if p, err := Parse(Prefix, "PVE:60000000::"+sig); err != nil || p.Data != "" {
		t.Fatalf("ticket without data: %+v %v", p, err)
	}
}

// TestTicketAgeRange pins get_ticket_age_range's arithmetic.
func TestTicketAgeRange(t *testing.T) {
	const now = 1_000_000_000
	tests := []struct {
		name    string
		keyAge  int64
		rotated bool
		want    AgeRange
		ok      bool
	}{
		{"fresh current key", 10, false, AgeRange{-300, 310}, true},
		{"current key 1h", 3600, false, AgeRange{-300, 3900}, true},
		{"current key past ticket lifetime", 3 * 3600, false, AgeRange{-300, 7200}, true},
		{"current key past key lifetime", 86400 + 100, false, AgeRange{100, 7200}, true},
		{"current key far too old", 86400 + 7201, false, AgeRange{}, false},
		{"key from the future", -50, false, AgeRange{-300, 300}, true},
		{"old key just rotated", 10, true, AgeRange{-290, 7200}, true},
		{"old key 2h after rotation", 7200 + 300, true, AgeRange{7200, 7200}, true},
		{"old key long gone", 7200 + 301, true, AgeRange{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := TicketAgeRange(now, now-tc.keyAge, tc.rotated, KeyLifetime)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzParse: any input either parses into a ticket whose parts
// reassemble it, or fails with ErrMalformed; never a panic.
func FuzzParse(f *testing.F) {
	f.Add("PVE:root@pam:60000000::YWJj")
	f.Add("PVE:60000000::YWJj")
	f.Add("PVE:a:b:FFFFFFFF::YWJj==")
	f.Add("PVE:root@pam:ZZZZZZZZ::YWJj")
	f.Add("PVE:root@pam:1FFFFFFFF::YWJj")
	f.Add(":::::")
	f.Add("PVE:root@pam:60000000::" + strings.Repeat("A", 5000))
	pub := &keys(f)[0].PublicKey
	r := AgeRange{Min: -300, Max: 7200}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(Prefix, s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if !strings.HasPrefix(s, p.Plain+"::") || p.Prefix != Prefix || p.Time < 0 || p.Time > 0xFFFFFFFF {
			t.Fatalf("inconsistent parse of %q: %+v", s, p)
		}
		// Whatever parsed, verification fails closed (no forged signature
		// is expected from the fuzzer) and never panics.
		if err := VerifyWith(p, pub, DefaultDigest, r, p.Time); err == nil {
			t.Fatalf("fuzzed ticket %q verified", s)
		}
	})
}
