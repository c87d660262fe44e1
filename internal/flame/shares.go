package flame

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/google/pprof/profile"
)

// OtherBucket names the bucket of samples no classifier bucket claims.
const OtherBucket = "other"

// Bucket is a named hot-path category. A sample belongs to it when any of
// Patterns matches the function name of any frame of the sample's stack
// (inlined frames included).
type Bucket struct {
	Name     string
	Patterns []*regexp.Regexp
}

// Classifier is an ordered list of buckets; a sample is assigned to the
// first bucket that claims it, so earlier buckets take priority (crypt work
// called from the shadow reader counts as crypt, for example).
type Classifier []Bucket

// DefaultClassifier returns authbench's hot-path buckets in priority order:
// crypt (hash verification), shadow_read (reading and decoding token.shadow)
// and stat (the freshness checks of caching verifiers). Everything else is
// OtherBucket. Patterns are unanchored regexps on full function names such
// as "os.(*File).Stat". The result is a fresh value the caller may modify.
func DefaultClassifier() Classifier {
	return Classifier{
		{Name: "crypt", Patterns: mustCompile(
			`authbench/impl/cryptpw\.`,
			`GehirnInc/crypt`,
			`go-crypt/x/yescrypt`,
		)},
		{Name: "shadow_read", Patterns: mustCompile(
			`authbench/impl\.(readShadow|ReadShadow|parseShadow|ParseShadow)`,
			`encoding/json\.`,
			`os\.ReadFile`,
		)},
		{Name: "stat", Patterns: mustCompile(
			`os\.Stat`,
			`os\.\(\*File\)\.Stat`, // fstat; os.ReadFile's own call is claimed by shadow_read first
			`syscall\.Stat`,
			`syscall\.fstatat`,
			`golang.org/x/sys/unix\.(Stat|Fstat)`,
		)},
	}
}

func mustCompile(exprs ...string) []*regexp.Regexp {
	res := make([]*regexp.Regexp, len(exprs))
	for i, e := range exprs {
		res[i] = regexp.MustCompile(e)
	}
	return res
}

// Share is the part of the profile attributed to one bucket.
type Share struct {
	Name     string
	Value    int64   // summed sample value, e.g. CPU nanoseconds
	Fraction float64 // Value / Breakdown.Total, 0 when Total is 0
}

// Breakdown is the result of Shares.
type Breakdown struct {
	SampleType string // sample type analysed, e.g. "cpu"
	Unit       string // its unit, e.g. "nanoseconds"
	Total      int64  // summed value of all samples
	// Buckets lists every classifier bucket in priority order, followed by
	// OtherBucket; fractions sum to 1 when Total > 0.
	Buckets []Share
}

// Fraction returns the fraction of the named bucket, 0 if there is none.
func (b Breakdown) Fraction(name string) float64 {
	for _, s := range b.Buckets {
		if s.Name == name {
			return s.Fraction
		}
	}
	return 0
}

// Shares attributes each sample's value (the "cpu" sample type if present,
// see DefaultSampleIndex) to the first bucket of c that claims it, or to
// OtherBucket, and returns per-bucket fractions of the total.
func Shares(p *profile.Profile, c Classifier) (Breakdown, error) {
	idx := DefaultSampleIndex(p)
	if idx < 0 {
		return Breakdown{}, errors.New("shares: profile has no sample types")
	}
	for _, b := range c {
		if b.Name == OtherBucket {
			return Breakdown{}, fmt.Errorf("shares: bucket name %q is reserved", OtherBucket)
		}
	}
	res := Breakdown{
		SampleType: p.SampleType[idx].Type,
		Unit:       p.SampleType[idx].Unit,
		Buckets:    make([]Share, len(c)+1),
	}
	for i, b := range c {
		res.Buckets[i].Name = b.Name
	}
	res.Buckets[len(c)].Name = OtherBucket

	// The first bucket claiming a sample is the minimum over its frames of
	// the first bucket matching each frame, so classifying each function
	// name once suffices.
	memo := make(map[string]int)
	bucketOf := func(name string) int {
		if i, ok := memo[name]; ok {
			return i
		}
		i := c.match(name)
		memo[name] = i
		return i
	}
	var frames []string
	for _, s := range p.Sample {
		if idx >= len(s.Value) {
			continue
		}
		best := len(c)
		frames = sampleFrames(s, frames[:0])
		for _, f := range frames {
			best = min(best, bucketOf(f))
		}
		res.Buckets[best].Value += s.Value[idx]
		res.Total += s.Value[idx]
	}
	if res.Total != 0 {
		for i := range res.Buckets {
			res.Buckets[i].Fraction = float64(res.Buckets[i].Value) / float64(res.Total)
		}
	}
	return res, nil
}

// match returns the index of the first bucket matching name, or len(c).
func (c Classifier) match(name string) int {
	for i, b := range c {
		for _, re := range b.Patterns {
			if re.MatchString(name) {
				return i
			}
		}
	}
	return len(c)
}
