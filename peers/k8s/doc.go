// Package k8s is the Kubernetes peer: kube-apiserver's cached token
// authenticator (k8s.io/apiserver/pkg/authentication/token/cache, the
// cache in front of every bearer-token authenticator) wrapped around PBS's
// uncached slow path, so authbench measures a cache nobody here wrote.
//
// It registers the verifier "k8s" with impl.Register when imported, the way
// database/sql drivers register:
//
//	import _ "github.com/authbench/authbench/peers/k8s"
//
// cmd/bench imports it; so do the tests that need the peer. It is the only
// package of authbench that imports k8s.io, which keeps the 35 modules
// apiserver pulls in out of impl and everything that imports impl.
package k8s
