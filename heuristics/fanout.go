package heuristics

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/window"
)

// A scale-up buys throughput only while a request's fan-out does not grow with it. HSDS fans a
// selection out to min(chunks, 16 x dn_count) workers, each a task of the SN's gate that lives
// until the whole selection is done (chunk_crawl.py: the workers are cancelled after the queue's
// join), so while 16 x n < chunks every pod added makes every request hold more of every gate:
// the cluster's throughput stays flat, and once one request's workers pass max_task_count a
// single selection fills its SN's gate. Whether that is the case depends on the workload's
// selections, which the scaler cannot see; what it can see is the cluster's throughput at each
// size it ran at while the gates shed (then the SNs serve all they can, whatever the load).
//
// throughputBySize keeps that figure per size, and sizes on it: a larger size whose throughput
// realized less than fanoutMinGain of the proportional gain over a smaller one is no better
// than the smaller one (see ceiling).
type throughputBySize struct {
	halfLife, memory time.Duration
	sizes            map[int]*sizeThroughput
}

// sizeThroughput is the served rate of one cluster size while its gates shed.
type sizeThroughput struct {
	served      *window.EWMA
	first, last time.Time
	samples     int
}

// fanoutMinGain is the share of the proportional throughput gain (n/m - 1 for m -> n pods) a
// larger size must realize to count as better: below it the pods added bought (almost) nothing.
const fanoutMinGain = 0.1

// fanoutMinSamples and fanoutMinSpan make a size's figure count: that many shedding snapshots
// spread over at least that long (one burst's snapshot is one request mix's draw).
const (
	fanoutMinSamples = 2
	fanoutMinSpan    = 10 * time.Second
)

func newThroughputBySize(halfLife, memory time.Duration) *throughputBySize {
	return &throughputBySize{halfLife: halfLife, memory: memory, sizes: map[int]*sizeThroughput{}}
}

// record adds one shedding snapshot's served rate (req/s, all capacity pods) at size n.
func (t *throughputBySize) record(now time.Time, n int, served float64) {
	s := t.sizes[n]
	if s == nil || now.Sub(s.last) > t.memory {
		s = &sizeThroughput{served: window.NewEWMA(t.halfLife), first: now}
		t.sizes[n] = s
	}
	s.served.Update(now, served)
	s.last = now
	s.samples++
}

// measured reports whether size n has a figure that counts (enough samples over enough time,
// within memory).
func (t *throughputBySize) measured(now time.Time, n int) bool {
	s := t.sizes[n]
	return s != nil && now.Sub(s.last) <= t.memory && s.samples >= fanoutMinSamples && s.last.Sub(s.first) >= fanoutMinSpan
}

// measuredBelow reports whether some size below n has a figure that counts.
func (t *throughputBySize) measuredBelow(now time.Time, n int) bool {
	for m := range t.sizes {
		if m < n && t.measured(now, m) {
			return true
		}
	}
	return false
}

// fanoutCeiling is a learned bound on useful cluster sizes: Size serves about as much as the
// larger Over did (their throughputs under shedding).
type fanoutCeiling struct {
	Size, Over         int
	SizeRate, OverRate float64
}

func (c fanoutCeiling) String() string {
	return fmt.Sprintf("%d pods served %.1f req/s shedding, %d pods %.1f req/s", c.Over, c.OverRate, c.Size, c.SizeRate)
}

// ceiling returns the smallest measured size m for which some larger measured size n served
// less than m's throughput x (1 + fanoutMinGain x (n/m - 1)); ok false when no such pair exists.
// Only sizes measured within memory count, so a workload that changes is measured again.
func (t *throughputBySize) ceiling(now time.Time) (fanoutCeiling, bool) {
	type size struct {
		n    int
		rate float64
	}
	var sizes []size
	for n, s := range t.sizes {
		if !t.measured(now, n) {
			continue
		}
		v, _ := s.served.Value()
		sizes = append(sizes, size{n, v})
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i].n < sizes[j].n })
	for i, m := range sizes {
		for _, n := range sizes[i+1:] {
			want := m.rate * (1 + fanoutMinGain*(float64(n.n)/float64(m.n)-1))
			if n.rate < want {
				return fanoutCeiling{Size: m.n, Over: n.n, SizeRate: m.rate, OverRate: n.rate}, true
			}
		}
	}
	return fanoutCeiling{}, false
}

// export returns the figures for Learned, smallest size first: those recorded within memory of
// the newest (older ones could count for nothing after a restore either).
func (t *throughputBySize) export() []SizeThroughput {
	var newest time.Time
	for _, s := range t.sizes {
		if s.last.After(newest) {
			newest = s.last
		}
	}
	var out []SizeThroughput
	for n, s := range t.sizes {
		if newest.Sub(s.last) > t.memory {
			continue
		}
		v, _ := s.served.Value()
		out = append(out, SizeThroughput{Pods: int32(n), Served: v, Samples: int32(min(s.samples, math.MaxInt32)), First: s.first, Last: s.last})
	}
	if len(out) > MaxLearnedSizes {
		sort.Slice(out, func(i, j int) bool { return out[i].Last.After(out[j].Last) })
		out = out[:MaxLearnedSizes]
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pods < out[j].Pods })
	return out
}

// restore seeds the sizes it has no figure for from saved ones (validated by Learned.Validate).
func (t *throughputBySize) restore(saved []SizeThroughput) {
	for _, st := range saved {
		n := int(st.Pods)
		if _, ok := t.sizes[n]; ok {
			continue
		}
		s := &sizeThroughput{served: window.NewEWMA(t.halfLife), first: st.First, last: st.Last, samples: int(st.Samples)}
		s.served.Update(st.Last, st.Served)
		t.sizes[n] = s
	}
}
