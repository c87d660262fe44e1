// Package attack is `bench attack` as a library: the same
// token-authenticated load the suites use, against any server (a real PBS,
// say), with the same metrics and no profile. As one of n load generators
// (Config.Count > 0, docs/distributed-load.md) it offers rate/n, can wait
// for a common start time, and writes a shard sidecar beside its vegeta
// results for package shards to merge. A knee search finds the highest
// rate the server sustains instead.
package attack
