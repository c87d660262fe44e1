package suite

import (
	"fmt"
	"slices"
	"strings"

	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/scenarios"
)

// SelectVerifiers keeps only the wanted verifiers in each scenario (and,
// for ticket scenarios, the strategies they name); a wanted name that is
// not known is an error, before anything runs.
func SelectVerifiers(scs []*scenarios.Scenario, want, known []string) error {
	for _, w := range want {
		if !slices.Contains(known, w) {
			return fmt.Errorf("unknown verifier %q (known: %v)", w, known)
		}
	}
	for _, s := range scs {
		s.Verifiers = slices.DeleteFunc(slices.Clone(s.Verifiers), func(v string) bool { return !slices.Contains(want, v) })
		if s.IsTicket() {
			s.Strategies = nil
			for _, v := range s.Verifiers {
				st, _ := results.TicketStrategy(v)
				s.Strategies = append(s.Strategies, st)
			}
		}
	}
	return nil
}

// Describe fills the run's description: the environment, the suite's
// files (quick marked), its hash scheme and the load setup.
func Describe(res *results.File, paths []string, scs []*scenarios.Scenario, quick, inProcess bool) {
	res.Env = CollectEnv()
	res.Env.Suite = strings.Join(paths, " ")
	if quick {
		res.Env.Suite += " (quick)"
	}
	res.Env.HashScheme, res.Env.HashCost = hashOf(scs)
	res.Env.LoadSetup = loadSetup(inProcess)
}

// FailedRevocations counts the revocation checks that exceeded their
// declared bound: a run with any exits 1.
func FailedRevocations(res *results.File) int {
	n := 0
	for _, r := range res.Revocations {
		if !r.Pass {
			n++
		}
	}
	return n
}

func hashOf(scs []*scenarios.Scenario) (string, int) {
	if len(scs) == 0 {
		return "", 0
	}
	h := scs[0].Hash
	for _, s := range scs[1:] {
		if s.Hash != h {
			return "mixed (per scenario)", 0
		}
	}
	return string(h.Scheme), h.EffectiveCost()
}

func loadSetup(inProcess bool) string {
	if inProcess {
		return "servers in the load generator's process (tests only: no CPU split)"
	}
	return "each server is a separate `bench serve` process (GOMAXPROCS from the scenario, default: all cores) on loopback; the vegeta load generator runs in the `bench run` process; the no-auth control on the same server shows the generator's ceiling"
}
