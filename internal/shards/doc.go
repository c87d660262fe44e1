// Package shards merges the load of N `bench attack --shard i/n` load
// generators into one: each shard writes its vegeta results and a Sidecar
// beside them (WriteSidecar); Load reads the sidecars of one load and
// refuses duplicate or mismatched shards; Merge merges the shards' raw
// results into one file and computes the Summary of all requests together
// (the offered rates summed, the latency distribution from the merged
// results, never averaged percentiles), which it writes as attack.json and
// attack.md.
//
// cmd/bench keeps the flags, the exit codes and the wiring (`bench attack`
// and `bench report --attack`).
package shards
