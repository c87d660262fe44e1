package node

// The k8s peer registers itself with impl when imported (peers/k8s).
import _ "github.com/authbench/authbench/peers/k8s"
