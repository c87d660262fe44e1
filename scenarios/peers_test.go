package scenarios

// The k8s peer registers itself with impl when imported (peers/k8s); the
// shipped scenario files name it.
import _ "github.com/authbench/authbench/peers/k8s"
