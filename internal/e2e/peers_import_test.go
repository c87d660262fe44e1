package e2e

// The in-process runs build verifiers by registry name, the k8s peer
// included (a scenario without a verifier list runs them all), as the
// bench binary does: import the peers for their registration.
import _ "github.com/authbench/authbench/peers/k8s"
