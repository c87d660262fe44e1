package cryptpw

import (
	"errors"
	"testing"
)

// seeds are real and broken hashes for the fuzz corpora. Real ones use cheap
// parameters so seed runs stay fast under -race.
var seeds = []string{
	"$5$saltstring$MgcL7wXeaW8QxHzFmj9tfnCaFFj9BONOC5Nz3tlsPBD",
	"$5$rounds=5000$abc$YNSMLcSOQrlI0B9hV/JXPdgjm3QGjrJoL0UIXFVJ/h6",
	"$5$rounds=1000$shortsalt$gg.bp/k3WHAl5U6Z0hqp75nXN6F1LjL2ztulgJvNBP9",
	"$6$rounds=1000$abc$" + d86,
	"$y$j75$abcd$" + d43,
	"$y$j75$oddsecretsalt...$" + d43,
	"", "$", "$$", "$5$", "$5$$", "$5$$$", "$6$rounds=", "$6$rounds=$", "$6$rounds=0$a$",
	"$5$rounds=999999999$a$" + d43, "$5$rounds=18446744073709551617$a$" + d43,
	"$y$", "$y$j", "$y$j9T$", "$y$j9T$$", "$y$jFT$abcd$" + d43, "$y$j\xff\xff$abcd$" + d43,
	"$5$0123456789abcdefXYZ$" + d43, "$1$abc$def", "$gy$j9T$abcd$" + d43, "*0", "!", "\x00",
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hash string) {
		info, err := Parse(hash)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Parse error %v wraps neither ErrMalformed nor ErrUnsupported", err)
			}
			return
		}
		switch info.Scheme {
		case SHA256, SHA512:
			if info.Cost < MinRounds || info.Cost > MaxRounds || len(info.Salt) == 0 || len(info.Salt) > 16 {
				t.Fatalf("Parse accepted out-of-bounds %+v", info)
			}
		case Yescrypt:
			if info.Cost < 1 || info.Cost > MaxYescryptCost || info.Salt == "" {
				t.Fatalf("Parse accepted out-of-bounds %+v", info)
			}
		default:
			t.Fatalf("Parse returned unknown scheme %q", info.Scheme)
		}
	})
}

func FuzzVerify(f *testing.F) {
	for _, s := range seeds {
		f.Add("0d2f9a51-8f5e-4b0c-9a3e-3c2b7d6e1f40", s)
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, secret, hash string) {
		_, perr := Parse(hash)
		err := Verify(secret, hash)
		if perr != nil && err == nil {
			t.Fatal("Verify accepted a secret for a hash Parse rejects")
		}
		if err == nil {
			// An accepted pair must be exactly what Hash's engine computes.
			p, _ := parse(hash)
			if got, cerr := compute(p.Scheme, secret, p.setting); cerr != nil || got != hash {
				t.Fatal("Verify accepted a hash that does not recompute")
			}
		}
	})
}
