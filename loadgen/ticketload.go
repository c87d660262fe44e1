package loadgen

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/impl/ticket"
)

// TicketCookie is the cookie PVE clients carry their login ticket in.
const TicketCookie = "PVEAuthCookie"

// TicketKeys are the private halves of an auth key directory, which the
// load generator signs tickets with (PVE's login would, on the server).
type TicketKeys struct {
	Current, Old *rsa.PrivateKey
}

// GenerateTicketKeys makes a current and a previous RSA key pair of bits.
func GenerateTicketKeys(bits int) (TicketKeys, error) {
	var k TicketKeys
	var err error
	if k.Old, err = ticket.GenerateKey(bits); err != nil {
		return k, fmt.Errorf("ticket keys: %w", err)
	}
	if k.Current, err = ticket.GenerateKey(bits); err != nil {
		return k, fmt.Errorf("ticket keys: %w", err)
	}
	return k, nil
}

// WriteTicketKeys generates keys (GenerateTicketKeys) and writes them to
// dir (TicketKeys.Write).
func WriteTicketKeys(dir string, bits int) (TicketKeys, error) {
	k, err := GenerateTicketKeys(bits)
	if err != nil {
		return k, err
	}
	return k, k.Write(dir)
}

// Write stores the keys in dir in PVE's layout and order
// (authkey.pub.old, authkey.pub, priv/authkey.key; mode 0600 for the
// private key), each by temp file and rename. Both public key files are
// dated TicketRotatedAt, as if the rotation had happened then (PVE reads
// the rotation time from authkey.pub.old's mtime), so old-key tickets
// made before it verify.
func (k TicketKeys) Write(dir string) error {
	f := ticket.Files{Dir: dir}
	oldPEM, err := ticket.PublicPEM(&k.Old.PublicKey)
	if err != nil {
		return err
	}
	curPEM, err := ticket.PublicPEM(&k.Current.PublicKey)
	if err != nil {
		return err
	}
	for _, w := range []struct {
		kind ticket.KeyKind
		data []byte
		perm os.FileMode
	}{{ticket.Old, oldPEM, 0o644}, {ticket.Current, curPEM, 0o644}, {ticket.Private, ticket.PrivatePEM(k.Current), 0o600}} {
		if err := writeAtomic(f.Path(w.kind), w.data, w.perm); err != nil {
			return fmt.Errorf("ticket keys: %w", err)
		}
	}
	for _, kind := range []ticket.KeyKind{ticket.Old, ticket.Current} {
		if err := os.Chtimes(f.Path(kind), TicketRotatedAt, TicketRotatedAt); err != nil {
			return fmt.Errorf("ticket keys: %w", err)
		}
	}
	return nil
}

// TicketRotatedAt is when WriteTicketKeys pretends the last rotation
// happened; old-key tickets are signed before it.
var TicketRotatedAt = time.Now().Add(-time.Hour).Truncate(time.Second)

func writeAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// TicketMix weights the tickets a ticket load sends. As request Kinds
// (which decide the expected status): valid and old-key tickets are
// KindValid (200), expired and bad-signature ones KindWrongSecret (a
// well-formed credential that must fail: 401), garbage KindMalformed
// (401).
type TicketMix struct {
	Valid, OldKey, Expired, BadSignature, Garbage float64
}

// ticketVariants is how many distinct tickets of each sort the targeter
// rotates over: enough that no single ticket string dominates caches.
const ticketVariants = 8

// NewTicketTargeter precomputes ticket requests against url: tickets for
// the users ticket@pve-<n> signed now with keys (old-key ones with the
// old key, expired ones dated past the 2 h lifetime, bad-signature ones
// with the last signature byte changed), URL-encoded into the
// PVEAuthCookie cookie as PVE clients send them. The seed fixes the
// sequence. Tickets are credentials: never log the targets.
func NewTicketTargeter(u string, keys TicketKeys, mix TicketMix, seed int64, now time.Time) (*MixTargeter, error) {
	if keys.Current == nil || (mix.OldKey > 0 && keys.Old == nil) {
		return nil, errors.New("ticket targeter: missing private key")
	}
	kmix := Mix{Valid: mix.Valid + mix.OldKey, WrongSecret: mix.Expired + mix.BadSignature, Malformed: mix.Garbage}
	if err := kmix.validate(); err != nil {
		return nil, fmt.Errorf("ticket targeter: %w", err)
	}
	for _, w := range []float64{mix.Valid, mix.OldKey, mix.Expired, mix.BadSignature, mix.Garbage} {
		if w < 0 {
			return nil, errors.New("ticket targeter: negative weight")
		}
	}
	base, err := baseURL(u)
	if err != nil {
		return nil, fmt.Errorf("ticket targeter: %w", err)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7469636b_65747321)) // "tickets!"
	m := &MixTargeter{}
	m.buildSchedule(kmix, rng)
	mk := func(k Kind, t string) vegeta.Target {
		h := http.Header{KindHeader: {k.String()}, "Cookie": {TicketCookie + "=" + url.QueryEscape(t)}}
		return vegeta.Target{Method: http.MethodGet, URL: base + "#" + kindFragment + k.String(), Header: h}
	}
	sign := func(priv *rsa.PrivateKey, user string, at time.Time) (string, error) {
		return ticket.Assemble(priv, ticket.DefaultDigest, ticket.Prefix, user, at)
	}
	// Each sort gets variants in proportion to its weight within its
	// Kind, so the rotation over a Kind's targets keeps the mix.
	add := func(k Kind, w, kindTotal float64, build func(i int) (string, error)) error {
		if w <= 0 {
			return nil
		}
		n := max(1, int(float64(ticketVariants)*w/kindTotal+0.5))
		for i := range n {
			t, err := build(i)
			if err != nil {
				return fmt.Errorf("ticket targeter: %w", err)
			}
			m.targets[k] = append(m.targets[k], mk(k, t))
		}
		return nil
	}
	user := func(i int) string { return fmt.Sprintf("ticket@pve-%d", i) }
	errs := []error{
		add(KindValid, mix.Valid, kmix.Valid, func(i int) (string, error) { return sign(keys.Current, user(i), now) }),
		add(KindValid, mix.OldKey, kmix.Valid, func(i int) (string, error) {
			return sign(keys.Old, user(i), TicketRotatedAt.Add(-30*time.Minute))
		}),
		add(KindWrongSecret, mix.Expired, kmix.WrongSecret, func(i int) (string, error) {
			return sign(keys.Current, user(i), now.Add(-ticket.TicketLifetime-time.Hour))
		}),
		add(KindWrongSecret, mix.BadSignature, kmix.WrongSecret, func(i int) (string, error) {
			t, err := sign(keys.Current, user(i), now)
			if err != nil {
				return "", err
			}
			return corruptSignature(t), nil
		}),
		add(KindMalformed, mix.Garbage, kmix.Malformed, func(i int) (string, error) {
			return garbageTickets[i%len(garbageTickets)], nil
		}),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// corruptSignature changes one base64 character of the signature (the
// ticket's last part) to another valid one, so the ticket still parses
// and only the signature check fails.
func corruptSignature(t string) string {
	b := []byte(t)
	i := len(b) - 3 // before any '=' padding
	for i > 0 && b[i] == '=' {
		i--
	}
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// garbageTickets do not parse: wrong prefix, no signature, bad hex time,
// bad base64, oversized.
var garbageTickets = []string{
	"PMG:ticket@pve:5F5E1000::c2ln",
	"PVE:ticket@pve:5F5E1000",
	"PVE:ticket@pve:XYZ::c2ln",
	"PVE:ticket@pve:5F5E1000::!!!not-base64!!!",
	"PVE:ticket@pve:FFFFFFFFFFFFFFFFFFFF::c2ln",
}

// Tickets returns every distinct ticket m sends (URL-decoded cookie
// values), for the secret-hygiene audit: tickets are credentials and
// must never show up in anything a run writes.
func (m *MixTargeter) Tickets() []string {
	var out []string
	seen := map[string]bool{}
	for _, ts := range m.targets {
		for _, t := range ts {
			for _, c := range t.Header.Values("Cookie") {
				v, ok := strings.CutPrefix(c, TicketCookie+"=")
				if !ok {
					continue
				}
				if d, err := url.QueryUnescape(v); err == nil && !seen[d] {
					seen[d] = true
					out = append(out, d)
				}
			}
		}
	}
	return out
}

// PrivateKeyMarker is a distinctive piece of k's private key PEM (its
// first base64 line), for the secret-hygiene audit.
func PrivateKeyMarker(k *rsa.PrivateKey) string {
	pem := string(ticket.PrivatePEM(k))
	lines := strings.Split(pem, "\n")
	if len(lines) > 1 {
		return lines[1]
	}
	return pem
}
