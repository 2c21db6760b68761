package window

import "time"

// Buckets is a time-bucketed average over a sliding window, with the semantics of Knative's
// TimedFloat64Buckets (knative/serving pkg/autoscaler/aggregation/bucketing.go): values recorded
// within one granularity interval are summed into one bucket (a ring buffer of
// window/granularity slots), and WindowAverage averages the buckets of the window.
//
// Partial windows, as in Knative: if the first write was less than a window ago, the average is
// over the buckets since that write; if data stopped arriving, it is over the buckets up to the
// last write; gaps inside the window count as zero. A window with no write at all resets the
// first-write time.
type Buckets struct {
	granularity time.Duration
	window      time.Duration
	slots       []float64
	first, last time.Time // bucket keys (truncated); last.IsZero() means empty
}

// NewBuckets returns an empty bucketed window. granularity must be > 0 and window >= granularity;
// window is rounded up to a whole number of buckets.
func NewBuckets(window, granularity time.Duration) *Buckets {
	if granularity <= 0 {
		granularity = time.Second
	}
	n := int((window + granularity - 1) / granularity)
	if n < 1 {
		n = 1
	}
	return &Buckets{granularity: granularity, window: time.Duration(n) * granularity, slots: make([]float64, n)}
}

func (b *Buckets) index(key time.Time) int {
	i := int((key.UnixNano() / int64(b.granularity)) % int64(len(b.slots)))
	if i < 0 {
		i += len(b.slots)
	}
	return i
}

// Record adds v to the bucket holding t. Values older than the window behind the latest write
// are dropped.
func (b *Buckets) Record(t time.Time, v float64) {
	key := t.Truncate(b.granularity)
	switch {
	case b.last.IsZero() || key.Sub(b.last) >= b.window:
		clear(b.slots)
		b.first, b.last = key, key
	case key.After(b.last):
		for k := b.last.Add(b.granularity); !k.After(key); k = k.Add(b.granularity) {
			b.slots[b.index(k)] = 0
		}
		b.last = key
	case b.last.Sub(key) >= b.window:
		return
	}
	if key.Before(b.first) {
		b.first = key
	}
	b.slots[b.index(key)] += v
}

// WindowAverage is the average bucket value over the window ending at now; ok is false when the
// window holds no write.
func (b *Buckets) WindowAverage(now time.Time) (avg float64, ok bool) {
	n := now.Truncate(b.granularity)
	if b.last.IsZero() || n.Sub(b.last) >= b.window || n.Before(b.first) {
		return 0, false
	}
	start := n.Add(-b.window + b.granularity)
	if start.Before(b.first) {
		start = b.first
	}
	end := b.last
	if end.After(n) {
		end = n
	}
	var sum float64
	count := 0
	for k := start; !k.After(end); k = k.Add(b.granularity) {
		sum += b.slots[b.index(k)]
		count++
	}
	return sum / float64(count), true
}
