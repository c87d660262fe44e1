package impl_test

// The peers register themselves with impl from their own packages, which
// impl must not import. An external test file may: its init runs before
// any test of this binary, so the in-package conformance, model and
// benchmark suites, which iterate over Specs(), cover the peers too.
import _ "github.com/authbench/authbench/peers/k8s"
