package scenarios

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// index must exist in all of them.
func (k *checker) minTokens() int {
	if len(k.s.Matrix.Tokens) > 0 {
		return slices.Min(k.s.Matrix.Tokens)
	}
	return k.s.Tokens
}

func (k *checker) events() {
	s := k.s
	if len(s.Events) == 0 {
		return
	}
	if len(s.Events) > MaxEvents {
		k.errf("events", "at most %d events, got %d", MaxEvents, len(s.Events))
		return
	}
	l := s.Load
	timed := l.Shape == ShapeConstant || l.Shape == ShapeStages
	if !timed {
		k.errf("events", "events need a constant or stages load (shape is %s)", quote(string(l.Shape)))
	}
	// Resolve tokens in time order so that an api-add makes its id exist
	// for later events and an api-revoke removes it.
	order := make([]int, len(s.Events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return s.Events[order[a]].At < s.Events[order[b]].At })
	tokens := k.minTokens()
	added := map[string]bool{}
	revoked := map[string]int{} // id -> event index that revoked it
	for _, i := range order {
		e := &s.Events[i]
		p := "events[" + strconv.Itoa(i) + "]"
		k.event(e, p, timed)
		k.eventToken(e, p, tokens, added, revoked, i)
	}
	sort.SliceStable(s.Events, func(a, b int) bool { return s.Events[a].At < s.Events[b].At })
}

func (k *checker) event(e *Event, p string, timed bool) {
	l := k.s.Load
	if !k.has(p + ".at") {
		k.errf(p+".at", "required (time from the start of the measured window)")
	} else if e.At <= 0 {
		k.errf(p+".at", "must be > 0 so the probe sees the token before the event, got %s", e.At)
	} else if timed && l.Duration > 0 && e.At >= l.Duration {
		k.errf(p+".at", "%s is beyond the measured window (%s)", e.At, l.Duration)
	}

	known := slices.Contains(EventKinds(), e.Kind)
	if !k.has(p + ".kind") {
		k.errf(p+".kind", "required")
	} else if !known {
		names := make([]string, 0, len(EventKinds()))
		for _, kind := range EventKinds() {
			names = append(names, string(kind))
		}
		k.errf(p+".kind", "unknown event kind %s (known: %s)", quote(string(e.Kind)), strings.Join(names, ", "))
	}

	if e.Kind.IsAPI() {
		if !k.has(p + ".from") {
			e.From = FromSelf
		} else if e.From != FromSelf && e.From != FromOther {
			k.errf(p+".from", "must be self or other, got %s", quote(string(e.From)))
		}
	} else if k.has(p+".from") && known {
		k.errf(p+".from", "only for api-* events, not %s", e.Kind)
	}

	if e.Kind == EventCoarseMtime {
		if !k.has(p + ".granularity") {
			k.errf(p+".granularity", "required for coarse-mtime (1s or 2s)")
		} else if e.Granularity != time.Second && e.Granularity != 2*time.Second {
			k.errf(p+".granularity", "must be 1s or 2s, got %s", e.Granularity)
		}
	} else if k.has(p+".granularity") && known {
		k.errf(p+".granularity", "only for coarse-mtime, not %s", e.Kind)
	}

	if e.Kind == EventStaleStat {
		if !k.has(p + ".ttl") {
			k.errf(p+".ttl", "required for stale-stat (how long stat answers are cached)")
		} else {
			k.duration(p+".ttl", e.TTL, false)
		}
	} else if k.has(p+".ttl") && known {
		k.errf(p+".ttl", "only for stale-stat, not %s", e.Kind)
	}

	if !k.has(p + ".probe_rate") {
		e.ProbeRate = DefaultProbeRate
	} else {
		k.rate(p+".probe_rate", e.ProbeRate, MaxProbeRate)
	}
}

// eventToken resolves e.Token into TokenIndex/TokenID and checks that it
// exists when the event happens (or, for api-add, that it is new).
func (k *checker) eventToken(e *Event, p string, tokens int, added map[string]bool, revoked map[string]int, i int) {
	p += ".token"
	e.TokenIndex = -1
	if !k.has(p) {
		k.errf(p, "required (an index into the generated tokens such as 0, or a token id)")
		return
	}
	ref := strings.TrimSpace(e.Token)
	idx, generated := -1, false
	if ref != "" && strings.Trim(ref, "0123456789") == "" {
		if e.Kind == EventAPIAdd {
			k.errf(p, "api-add must name a new token id such as \"new@pbs!added\", not an index")
			return
		}
		n, err := strconv.Atoi(ref)
		if err != nil {
			n = MaxTokens
		}
		idx, generated = n, true
	} else if n, ok := tokenIndex(ref); ok {
		if e.Kind == EventAPIAdd {
			k.errf(p, "api-add must name a new token id; ids of the form %s are reserved for generated tokens", quote(TokenID(n)))
			return
		}
		idx, generated = n, true
	} else if msg := checkIDForm(ref); msg != "" {
		k.errf(p, "%s is neither a token index nor a token id: %s", quote(ref), msg)
		return
	}
	id := ref
	if generated {
		if idx >= tokens {
			k.errf(p, "token %s does not exist: the scenario has %d tokens (indices 0..%d)", quote(ref), tokens, tokens-1)
			return
		}
		id = TokenID(idx)
	}
	j, gone := revoked[id]
	switch {
	case e.Kind == EventAPIAdd && added[id] && !gone:
		k.errf(p, "api-add of %s, which an earlier api-add already added", quote(ref))
		return
	case !generated && e.Kind != EventAPIAdd && !added[id]:
		k.errf(p, "token %s does not exist (not generated and not added by an earlier api-add)", quote(ref))
		return
	case gone && e.Kind != EventAPIAdd:
		k.errf(p, "token %s was revoked by events[%d]", quote(ref), j)
		return
	}
	e.TokenIndex = idx
	e.TokenID = id
	switch e.Kind {
	case EventAPIAdd:
		added[id] = true
		delete(revoked, id)
	case EventAPIRevoke:
		revoked[id] = i
	}
}

// checkIDForm is a light version of the API-token id rules (user@realm!name,
// no ':' or whitespace); the server validates fully. It returns "" when
// the form is acceptable.
func checkIDForm(id string) string {
	if len(id) > 256 {
		return "longer than 256 bytes"
	}
	if strings.ContainsAny(id, ": \t\r\n") {
		return "contains ':' or whitespace"
	}
	at := strings.IndexByte(id, '@')
	bang := strings.LastIndexByte(id, '!')
	if at <= 0 || bang < at+2 || bang == len(id)-1 || strings.Count(id, "!") != 1 || strings.Count(id, "@") != 1 {
		return "expected the form user@realm!tokenname"
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return "contains a control character"
		}
	}
	return ""
}
