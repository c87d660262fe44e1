package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
)

// BenchmarkHandler measures the server's per-request cost without the
// network: routing, labels, auth and the JSON handler. noauth is the floor;
// the difference to the auth routes is what authentication costs.
func BenchmarkHandler(b *testing.B) {
	st, err := impl.OpenStore(filepath.Join(b.TempDir(), "token.shadow"), impl.StoreOptions{Scheme: cryptpw.SHA256, Cost: testCost})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	secret, err := st.Add(context.Background(), testID)
	if err != nil {
		b.Fatal(err)
	}
	good := "PBSAPIToken=" + testID + ":" + secret
	cases := []struct {
		name, verifier, path, header string
	}{
		{"noauth", "ttl", PathNoAuthVersion, ""},
		{"ttl", "ttl", PathVersion, good},
		{"ttl-rejected", "ttl", PathVersion, good + "x"},
		{"ttl-malformed", "ttl", PathVersion, "Basic x"},
		{"uncached", "uncached", PathVersion, good},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			v, err := impl.New(c.verifier, impl.Config{Store: st})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { impl.Close(v) })
			s, err := New(Options{Verifier: v, Store: st})
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, c.path, nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			s.ServeHTTP(httptest.NewRecorder(), req) // fill the cache
			b.ReportAllocs()
			for b.Loop() {
				s.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
