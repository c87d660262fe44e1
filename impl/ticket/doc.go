// Package ticket implements Proxmox VE's login tickets and auth-key
// rotation, and the key-cache strategies whose behaviour on a FUSE cluster
// file system seeds 002 and 003 describe.
//
// What it follows (read, not copied):
//
//   - proxmox/pve-common src/PVE/Ticket.pm, assemble_rsa_ticket and
//     verify_rsa_ticket: a ticket is "PREFIX:data:HEXTIME::SIGNATURE";
//     HEXTIME is sprintf("%08X", time()); the signature is RSA PKCS#1 v1.5
//     over "PREFIX:data:HEXTIME" (plus ":secret_data" when given, which the
//     login ticket does not use), base64 without line breaks; the ticket's
//     age (now - HEXTIME) must lie strictly between min and max. Perl's
//     Crypt::OpenSSL::RSA signs with its default digest (SHA-256 in current
//     releases, SHA-1 in old ones); the digest is a parameter here, SHA-256
//     by default, as in PBS's Rust assemble_rsa_ticket.
//   - proxmox/pve-access-control src/PVE/AccessControl.pm: key files
//     authkey.pub, authkey.pub.old and priv/authkey.key; ticket lifetime 2 h,
//     auth grace period 300 s, key lifetime 24 h; $cache_read_key (open,
//     stat the handle, read, parse; later calls stat the path and re-read
//     when the mtime, in whole seconds, differs); get_ticket_age_range;
//     verify_ticket (current key, then the old one); check_authkey
//     (including the key-from-the-future case); rotate_authkey under
//     cfs_lock_authkey, re-checking under the lock, then writing the old
//     public key, the new public key and the new private key, each by
//     file_set_contents (temp file + rename), with the revert/delete paths
//     when a write fails. Key size is a parameter (PVE: 2048 bits) so tests
//     can use small keys.
//   - Seed 003 (the mtime cache) and seed 002 (its double rotation on
//     pmxcfs and the fix: drop the in-process cache and read the key again
//     under the lock before re-checking).
//
// Key caches (Strategies, one KeyCache interface, bounds declared per
// strategy and checked by the conformance suite): uncached reads every
// time; mtime is seed 003's cache; mtime-reopen adds seed 002's fix in
// rotate_authkey (its request path is mtime's, as in PVE); content-ttl is
// ours. Observed on this kernel (Linux 6.x, go-fuse v2 loopback, see
// internal/fusemount's TestStaleStatThroughMount): within attr_timeout,
// stat through the mount returns the old mtime after the backing file was
// replaced; open/close alone does NOT revalidate it, a read does. PVE's fix
// works here because get_pubkey() with an empty cache reads the file, and
// check_authkey() then stats again.
//
// Why content-ttl is better: it never decides anything from a stat
// answer. Keys are re-read at most once per TTL and compared by SHA-256, so
// neither an attribute cache nor whole-second mtimes (two keys written in
// one second, as a double rotation does, stay invisible to the mtime
// caches until the next rotation: TestSameSecondRewrite) can hide a change
// for longer than the TTL; the rotation re-check under the lock compares
// the current key's content with the one the decision was based on, so a
// stale mtime cannot make it rotate twice; and its hit path is a clock
// compare instead of a stat per request.
//
// Two consequences of PVE's rules the cluster experiment shows, both pinned
// by tests: a key past its lifetime accepts only tickets signed before the
// second of its expiry (get_ticket_age_range's min = key age - lifetime,
// strict ">" on whole seconds), so after `touch --date yesterday` the
// tickets of the touch's second are refused until the rotation is seen
// (TestAgedKeyRefusesTicketsOfItsExpirySecond); and a private key
// rewritten within the second of the cached one is invisible to the mtime
// cache, which then keeps signing with the rotated-away key (the cluster
// driver dates its first key set back so no rotation shares its second,
// as real rotations a day apart never do).
//
// The cluster lock cfs_lock_authkey is a pmxcfs lock; here it is a flock
// on a lock file in the shared (backing) directory, which all node
// processes see directly, not through their FUSE mounts.
package ticket
