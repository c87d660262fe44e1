// Package cluster runs seed 002's multi-node experiment: N node processes,
// each a `bench ticket node` child with its own real FUSE mount (served by
// its own `bench ticket fuse` child, as each Proxmox VE node runs its own
// pmxcfs) of one shared backing directory of auth keys. Each node serves
// HTTP that verifies PVEAuthCookie tickets with a chosen key-cache
// strategy (impl/ticket) and runs PVE's rotation check. The driver ages the
// key (`touch --date yesterday`) on the backing directory while ticket load
// runs, triggers every node's rotation check at once, and records
// rotations performed, whether the nodes end up disagreeing about the
// current and old keys, and a timeline of valid tickets rejected.
//
// Config and Result are plain JSON structs so the scenario runner and the
// report can map them directly.
package cluster
