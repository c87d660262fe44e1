package impl

import (
	"slices"
	"strings"
	"testing"
)

func testSpec(name string, f Family) Spec {
	return Spec{Name: name, New: newUncached, Bound: uncachedBound, Family: f}
}

func specNames(specs []Spec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Name)
	}
	return out
}

// TestRegisterOrder: registered verifiers follow the built-in ones, by
// family and then name, whatever order their packages registered in.
func TestRegisterOrder(t *testing.T) {
	adds := []Spec{testSpec("zpeer", FamilyPeer), testSpec("apeer", FamilyPeer), testSpec("xours", FamilyOurs)}
	want := append(specNames(builtin), "xours", "apeer", "zpeer")
	for _, perm := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		r := newSpecRegistry()
		for _, i := range perm {
			r.register(adds[i])
		}
		if got := specNames(r.all()); !slices.Equal(got, want) {
			t.Errorf("registration order %v: report order %v, want %v", perm, got, want)
		}
	}
}

func TestRegisterRefuses(t *testing.T) {
	cases := []struct {
		name string
		spec Spec
		want string
	}{
		{"duplicate of a built-in", testSpec("ttl", FamilyPeer), "twice"},
		{"duplicate of a registered one", testSpec("peer", FamilyPeer), "twice"},
		{"no name", testSpec("", FamilyPeer), "without a name"},
		{"no constructor", Spec{Name: "x", Bound: uncachedBound, Family: FamilyPeer}, "without New"},
		{"no bound", Spec{Name: "x", New: newUncached, Family: FamilyPeer}, "without New or Bound"},
		{"unknown family", testSpec("x", "mine"), "unknown family"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newSpecRegistry()
			r.register(testSpec("peer", FamilyPeer))
			before := r.all()
			defer func() {
				p := recover()
				if s, _ := p.(string); !strings.Contains(s, c.want) {
					t.Errorf("panic %v, want one containing %q", p, c.want)
				}
				if got := r.all(); !slices.EqualFunc(got, before, func(a, b Spec) bool { return a.Name == b.Name }) {
					t.Errorf("registry changed by a refused Register: %v", specNames(got))
				}
			}()
			r.register(c.spec)
		})
	}
}

// TestPeersRegistered: this test binary imports the peers
// (peers_import_test.go), so every suite here covers them; a peer lost
// from that import would silently shrink every suite.
func TestPeersRegistered(t *testing.T) {
	specs := Specs()
	if !slices.Equal(specNames(specs[:len(builtin)]), specNames(builtin)) {
		t.Errorf("built-in verifiers are not first: %v", specNames(specs))
	}
	s, ok := Lookup("k8s")
	if !ok || s.Family != FamilyPeer || !s.WallClock {
		t.Fatalf("k8s peer not registered as a wall-clock peer: %+v, %v", s, ok)
	}
	if !slices.Contains(Names(), "k8s") {
		t.Error("Names() misses the registered peer")
	}
}
