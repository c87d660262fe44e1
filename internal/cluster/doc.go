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
// Rejections are counted in two windows with their reason (the node's
// X-Authbench-Reject header): BeforeCheck, from the touch to the rotation
// check, carries tickets signed just before the touch, which PVE's age
// range refuses once a node sees the aged key (a key past its lifetime
// accepts only tickets older than its expiry, in whole seconds, and the
// touch puts the expiry at the touch); AfterCheck, from the check on,
// carries tickets signed after it, where a double rotation shows. A
// trial's first key set is dated InitialKeyAge back so that no rotation
// rewrites a key within the second it was written, which real clusters
// (rotations a day apart) never do and which hid the rotated private key
// from the mtime cache.
//
// A trial runs in phases, one file each: setup.go, load.go, events.go,
// measure.go; driver.go runs them per cell.
//
// Config and Result are plain JSON structs so the scenario runner and the
// report can map them directly.
package cluster
