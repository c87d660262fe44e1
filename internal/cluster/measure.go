package cluster

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// timeline buckets results by send time relative to m.t0 and counts the
// two windows: BeforeCheck, requests sent in [m.event, m.t0), and
// AfterCheck, those sent from m.t0 on. Every ticket the load sends was
// issued by a node with the key it holds as current, so any answer but
// 200 is a valid ticket rejected; the node's HeaderReject says whether the
// age range refused it (RejectedAge) or no key verified it.
func timeline(rs []*vegeta.Result, m marks, bucketMs int64, codes map[string]int) (pts []Point, before, after Window) {
	buckets := map[int64]*Point{}
	for _, r := range rs {
		codes[strconv.Itoa(int(r.Code))]++
		off := r.Timestamp.Sub(m.t0).Milliseconds()
		b := off / bucketMs
		if off < 0 && off%bucketMs != 0 {
			b-- // floor, so bucket -1 is [-bucket, 0)
		}
		pt := buckets[b]
		if pt == nil {
			pt = &Point{TMs: b * bucketMs}
			buckets[b] = pt
		}
		rejected := r.Code != http.StatusOK
		age := rejected && r.Headers.Get(HeaderReject) == RejectAge
		pt.add(rejected, age)
		switch {
		case !r.Timestamp.Before(m.t0):
			after.add(rejected, age)
		case !r.Timestamp.Before(m.event):
			before.add(rejected, age)
		}
	}
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	pts = make([]Point, 0, len(keys))
	for _, k := range keys {
		pts = append(pts, *buckets[k])
	}
	return pts, before, after
}

func (p *Point) add(rejected, age bool) {
	p.Total++
	if rejected {
		p.RejectedValid++
	}
	if age {
		p.RejectedAge++
	}
}

func (w *Window) add(rejected, age bool) {
	w.Total++
	if rejected {
		w.RejectedValid++
	}
	if age {
		w.RejectedAge++
	}
}

// settle waits until every cache has had its attr_timeout and TTL to catch
// up, so what remains is lasting disagreement, then reads every node's
// view of the keys.
func (t *trial) settle(ctx context.Context) []NodeState {
	waitOrDone(ctx, max(t.attr, time.Duration(t.cfg.TTLMs)*time.Millisecond)+1100*time.Millisecond)
	var states []NodeState
	for _, c := range t.nodes {
		st, err := state(ctx, t.hc, c.ready.URL)
		if err != nil {
			st.Error = err.Error()
		}
		states = append(states, st)
	}
	return states
}
