package cryptpw

import "testing"

const benchSecret = "0d2f9a51-8f5e-4b0c-9a3e-3c2b7d6e1f40"

var benchSchemes = []Scheme{SHA256, SHA512, Yescrypt}

// BenchmarkHash measures Hash at default cost per scheme.
func BenchmarkHash(b *testing.B) {
	for _, s := range benchSchemes {
		b.Run(string(s), func(b *testing.B) {
			for b.Loop() {
				if _, err := Hash(s, 0, benchSecret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify measures a successful Verify at default cost per scheme:
// the uncached cost of one token check.
func BenchmarkVerify(b *testing.B) {
	for _, s := range benchSchemes {
		b.Run(string(s), func(b *testing.B) {
			h, err := Hash(s, 0, benchSecret)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := Verify(benchSecret, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
