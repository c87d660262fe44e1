// Package impl holds the API-token verifiers authbench measures behind one
// interface (Verifier), the token.shadow store they read (Store: flock,
// temp file + rename, a generation counter shared between processes), and
// the registry that declares each verifier as data (Spec: constructor,
// declared staleness bound, family, one-line summary).
//
// The built-in verifiers are PBS's cache stages (uncached, generation,
// mtime, ttl) and authbench's own (ttl-ctime, snapshot, notify, fresh).
// Peers, caches someone else wrote, live in their own packages and
// register themselves with Register when imported (peers/k8s: Kubernetes'
// token cache), so impl links none of their dependencies: binaries import
// the peers they offer, test packages that need them import them for
// their side effect. Specs lists the built-in verifiers first, then the
// registered ones by family and name, whatever the import order.
//
// impl's tests (conformance, model-based, stress, benchmarks) run against
// every registered verifier, the peers included (peers_import_test.go).
package impl
