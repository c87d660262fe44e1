package loadgen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Kind classifies a generated request by what the server should answer.
type Kind uint8

const (
	// KindValid carries a known token id with its secret: expect 200.
	KindValid Kind = iota
	// KindWrongSecret carries a known token id with another well-formed
	// secret: expect 401.
	KindWrongSecret
	// KindUnknown carries a well-formed token id that is not in the set:
	// expect 401.
	KindUnknown
	// KindMalformed carries a broken or missing Authorization header:
	// expect 401.
	KindMalformed

	numKinds = 4
)

// KindHeader is the request header naming the Kind of each generated
// request. The server ignores it; it lets a server-side trace be matched to
// the mix.
const KindHeader = "X-Authbench-Kind"

// kindFragment prefixes the URL fragment that records the Kind. Clients never
// send fragments, so the server does not see it, but vegeta copies the
// target URL into every Result, which lets results (and result files) be
// checked against Expect after the fact.
const kindFragment = "kind="

var kindNames = [...]string{
	KindValid:       "valid",
	KindWrongSecret: "wrong-secret",
	KindUnknown:     "unknown",
	KindMalformed:   "malformed",
}

// AllKinds lists every Kind in order.
func AllKinds() [numKinds]Kind {
	return [numKinds]Kind{KindValid, KindWrongSecret, KindUnknown, KindMalformed}
}

// String returns "valid", "wrong-secret", "unknown" or "malformed".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind parses the names String returns.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if s == n {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown request kind %q", s)
}

// Expect returns the HTTP status the server must answer for a request of
// kind k: 200 for valid tokens, 401 for everything else.
func Expect(k Kind) int {
	if k == KindValid {
		return http.StatusOK
	}
	return http.StatusUnauthorized
}

// KindOf recovers the Kind of the request that produced r from the URL
// fragment the targeter recorded; ok is false for results of other
// targeters.
func KindOf(r *vegeta.Result) (k Kind, ok bool) {
	i := strings.LastIndexByte(r.URL, '#')
	if i < 0 || !strings.HasPrefix(r.URL[i+1:], kindFragment) {
		return 0, false
	}
	k, err := ParseKind(r.URL[i+1+len(kindFragment):])
	return k, err == nil
}

// Expected reports whether r has the status its kind calls for. Results
// without a recorded kind are expected when vegeta counts them as a success
// (status 2xx or 3xx).
func Expected(r *vegeta.Result) bool {
	if k, ok := KindOf(r); ok {
		return int(r.Code) == Expect(k)
	}
	return r.Code >= 200 && r.Code < 400
}

// Mix holds the relative weights of the request kinds. Weights need not sum
// to 1; negative weights are invalid and at least one must be positive.
type Mix struct {
	Valid, WrongSecret, Unknown, Malformed float64
}

func (m Mix) weights() [numKinds]float64 {
	return [numKinds]float64{m.Valid, m.WrongSecret, m.Unknown, m.Malformed}
}

// Fraction returns the share of kind k in the mix, 0..1.
func (m Mix) Fraction(k Kind) float64 {
	w := m.weights()
	total := w[0] + w[1] + w[2] + w[3]
	if total <= 0 || int(k) >= numKinds {
		return 0
	}
	return w[k] / total
}

func (m Mix) validate() error {
	total := 0.0
	for i, w := range m.weights() {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("mix weight of %s is %v, want a finite value >= 0", Kind(i), w)
		}
		total += w
	}
	if total <= 0 {
		return errors.New("mix has no positive weight")
	}
	return nil
}

// scheduleLen is the period of the kind sequence. A power of two keeps the
// hot path to a mask and a shift; 1024 slots resolve weights to 0.1 %.
const scheduleLen = 1024

// MixTargeter generates the requests of a Mix. It is safe for concurrent
// use: each call takes one atomic increment and copies a precomputed
// Target, so it allocates nothing. Request n (counting calls from 0) is a
// pure function of n, the tokens, the mix and the seed.
//
// Targets share their Header maps: callers must treat them as read-only
// (vegeta copies them into each request).
type MixTargeter struct {
	_    [64]byte // keep the hot counter off the cache line of neighbours
	next atomic.Uint64
	_    [56]byte

	schedule [scheduleLen]Kind
	rank     [scheduleLen]uint32 // index of slot among same-kind slots
	perCycle [numKinds]uint64    // slots of each kind per schedule period
	targets  [numKinds][]vegeta.Target
}

// NewMixTargeter precomputes the targets of mix against url for tokens,
// using header form f. The seed fixes the kind sequence and the generated
// wrong secrets and unknown ids. At least one token is required.
func NewMixTargeter(url string, tokens []Token, mix Mix, f Form, seed int64) (*MixTargeter, error) {
	if err := mix.validate(); err != nil {
		return nil, fmt.Errorf("mix targeter: %w", err)
	}
	if len(tokens) == 0 {
		return nil, errors.New("mix targeter: no tokens")
	}
	base, err := baseURL(url)
	if err != nil {
		return nil, fmt.Errorf("mix targeter: %w", err)
	}
	known := make(map[string]bool, len(tokens))
	for i, t := range tokens {
		if err := validateToken(t); err != nil {
			return nil, fmt.Errorf("mix targeter: token %d: %w", i, err)
		}
		known[t.ID] = true
	}
	if f == FormPVE {
		for i, t := range tokens {
			if strings.ContainsRune(t.Secret, '=') {
				return nil, fmt.Errorf("mix targeter: token %d: secret contains '=', which the PVE form cannot carry", i)
			}
		}
	}

	rng := rand.New(rand.NewPCG(uint64(seed), 0x61757468_62656e63)) // "authbenc"
	m := &MixTargeter{}
	m.buildSchedule(mix, rng)

	mk := func(k Kind, auth string) vegeta.Target {
		h := http.Header{KindHeader: {k.String()}}
		if auth != "" {
			h["Authorization"] = []string{auth}
		}
		return vegeta.Target{Method: http.MethodGet, URL: base + "#" + kindFragment + k.String(), Header: h}
	}

	for _, t := range tokens {
		m.targets[KindValid] = append(m.targets[KindValid], mk(KindValid, Header(f, t)))
	}
	for _, t := range tokens {
		wrong := randomUUID(rng)
		for wrong == t.Secret {
			wrong = randomUUID(rng)
		}
		m.targets[KindWrongSecret] = append(m.targets[KindWrongSecret],
			mk(KindWrongSecret, Header(f, Token{ID: t.ID, Secret: wrong})))
	}
	// Unknown ids reuse the user@realm of the known tokens with a fresh token
	// name, so they pass any syntax check and fail only the lookup.
	nUnknown := min(len(tokens), 64)
	for i := range nUnknown {
		var id string
		for {
			id = unknownID(tokens[i].ID, rng)
			if !known[id] {
				break
			}
		}
		known[id] = true
		m.targets[KindUnknown] = append(m.targets[KindUnknown],
			mk(KindUnknown, Header(f, Token{ID: id, Secret: randomUUID(rng)})))
	}
	for _, auth := range malformedHeaders(f, tokens[0].ID, randomUUID(rng)) {
		m.targets[KindMalformed] = append(m.targets[KindMalformed], mk(KindMalformed, auth))
	}
	return m, nil
}

// NewTargeter is NewMixTargeter returning a vegeta.Targeter. A construction
// error is returned by every call of the targeter, which makes vegeta stop
// the attack at once; use NewMixTargeter to see it up front.
func NewTargeter(url string, tokens []Token, mix Mix, f Form, seed int64) vegeta.Targeter {
	m, err := NewMixTargeter(url, tokens, mix, f, seed)
	if err != nil {
		return func(*vegeta.Target) error { return err }
	}
	return m.Targeter()
}

// Targeter returns m.Target as a vegeta.Targeter.
func (m *MixTargeter) Targeter() vegeta.Targeter { return m.Target }

// Target fills t with the next request of the mix.
func (m *MixTargeter) Target(t *vegeta.Target) error {
	if t == nil {
		return vegeta.ErrNilTarget
	}
	n := m.next.Add(1) - 1
	slot := n % scheduleLen
	k := m.schedule[slot]
	// The i-th request of kind k overall, so each kind rotates over its
	// own targets without a second shared counter.
	i := (n/scheduleLen)*m.perCycle[k] + uint64(m.rank[slot])
	ts := m.targets[k]
	*t = ts[i%uint64(len(ts))]
	return nil
}

// Count returns how many targets have been generated.
func (m *MixTargeter) Count() uint64 { return m.next.Load() }

// Variants returns how many distinct requests of kind k the targeter
// rotates over.
func (m *MixTargeter) Variants(k Kind) int {
	if int(k) >= numKinds {
		return 0
	}
	return len(m.targets[k])
}

// buildSchedule places each kind in proportion to its weight (largest
// remainder, every positive weight at least once) and shuffles the slots so
// kinds interleave.
func (m *MixTargeter) buildSchedule(mix Mix, rng *rand.Rand) {
	w := mix.weights()
	total := w[0] + w[1] + w[2] + w[3]
	var counts [numKinds]int
	type rem struct {
		k    int
		frac float64
	}
	var rems []rem
	used := 0
	for k := range numKinds {
		exact := w[k] / total * scheduleLen
		counts[k] = int(exact)
		used += counts[k]
		rems = append(rems, rem{k, exact - float64(counts[k])})
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].frac > rems[j].frac })
	for i := 0; used < scheduleLen; i++ {
		counts[rems[i%numKinds].k]++
		used++
	}
	for k := range numKinds {
		if w[k] > 0 && counts[k] == 0 {
			largest := 0
			for j := range numKinds {
				if counts[j] > counts[largest] {
					largest = j
				}
			}
			counts[largest]--
			counts[k]++
		}
	}
	i := 0
	for k := range numKinds {
		for range counts[k] {
			m.schedule[i] = Kind(k)
			i++
		}
	}
	rng.Shuffle(scheduleLen, func(a, b int) { m.schedule[a], m.schedule[b] = m.schedule[b], m.schedule[a] })
	var seen [numKinds]uint32
	for slot, k := range m.schedule {
		m.rank[slot] = seen[k]
		seen[k]++
	}
	for k := range numKinds {
		m.perCycle[k] = uint64(seen[k])
	}
}

// baseURL validates u and strips any fragment, which would collide with the
// kind tag.
func baseURL(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("target url: %w", err)
	}
	if p.Scheme != "http" && p.Scheme != "https" || p.Host == "" {
		return "", fmt.Errorf("target url %q: want http(s)://host/path", u)
	}
	p.Fragment, p.RawFragment = "", ""
	return p.String(), nil
}

// randomUUID returns a lowercase hyphenated version-4 UUID, the format of
// PBS token secrets.
func randomUUID(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

// unknownID derives a token id with the user@realm of known and a random
// token name.
func unknownID(known string, rng *rand.Rand) string {
	userRealm := known
	if i := strings.LastIndexByte(known, '!'); i >= 0 {
		userRealm = known[:i]
	}
	return fmt.Sprintf("%s!unknown-%08x", userRealm, rng.Uint32())
}

// malformedHeaders returns broken Authorization values for form f; "" means
// no header at all. They use a fake secret so that a server logging a
// rejected header can never leak a real one.
func malformedHeaders(f Form, id, fake string) []string {
	p, sep := f.prefix(), string(f.sep())
	return []string{
		p + id + fake,                            // no separator between id and secret
		"XYZAPIToken=" + id + sep + fake,         // unknown scheme
		"Bearer " + fake,                         // foreign scheme
		p + id + sep,                             // empty secret
		p + sep + fake,                           // empty id
		p,                                        // scheme only
		p + "root@pam" + sep + fake,              // user, not a token id
		p + id + sep + strings.Repeat("a", 4096), // overlong secret
		p + "u@pbs!" + strings.Repeat("x", 300) + sep + fake, // overlong id
		p + id + sep + fake[:8] + "%G1%" + fake[9:],          // bad percent-encoding
		"", // no header
	}
}

// MarshalText encodes k by name, so JSON maps keyed by Kind read well.
func (k Kind) MarshalText() ([]byte, error) {
	if int(k) >= numKinds {
		return nil, fmt.Errorf("invalid request kind %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText decodes a name written by MarshalText.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
