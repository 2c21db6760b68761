package baseline

import (
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// promSample is one scraped sample of a cumulative counter.
type promSample struct {
	t time.Time
	v float64
}

// counterScraper emulates Prometheus scraping a per-pod 503 counter every interval.
//
// heuristics.Snapshot carries rates, not counters, so the counter is reconstructed by integration: at each
// scrape the pod's counter grows by (its 503 rate in the snapshot) x (time since its previous
// scrape). The snapshot's rate is itself an average over its Window ending at SampleTime, so this
// is the count a real scrape would see, to within the rate window's smoothing. A pod's counter
// starts at 0 at its first successful scrape (a new series); a pod without fresh data (Known false
// or older than maxAge) is a failed scrape: no sample. Series of pods that left are dropped.
type counterScraper struct {
	interval, retention, maxAge time.Duration
	value                       func(heuristics.PodSample) float64
	gauge                       bool // store value(p) as is instead of integrating it
	next                        time.Time
	series                      map[string][]promSample
}

func newCounterScraper(interval, retention, maxAge time.Duration, value func(heuristics.PodSample) float64) *counterScraper {
	return &counterScraper{interval: interval, retention: retention, maxAge: maxAge, value: value,
		series: map[string][]promSample{}}
}

// scrape takes a scrape at now if one is due (the first call scrapes at once; later ones every
// interval on the grid started by the first).
func (c *counterScraper) scrape(snap heuristics.Snapshot, now time.Time) {
	if !c.next.IsZero() && now.Before(c.next) {
		return
	}
	if c.next.IsZero() {
		c.next = now
	}
	for !c.next.After(now) {
		c.next = c.next.Add(c.interval)
	}
	present := make(map[string]bool, len(snap.Pods))
	for _, p := range snap.Pods {
		present[p.Name] = true
		if !p.Known || p.Age(now) > c.maxAge {
			continue
		}
		s := c.series[p.Name]
		v := 0.0
		if c.gauge {
			v = c.value(p)
		} else if n := len(s); n > 0 {
			v = s[n-1].v + c.value(p)*now.Sub(s[n-1].t).Seconds()
		}
		s = append(s, promSample{t: now, v: v})
		cut := 0
		for cut < len(s) && !s[cut].t.After(now.Add(-c.retention)) {
			cut++
		}
		c.series[p.Name] = append(s[:0], s[cut:]...)
	}
	for name := range c.series {
		if !present[name] {
			delete(c.series, name)
		}
	}
}

// latest is a PromQL instant-vector selector for one pod's gauge: its newest sample no older
// than lookback (Prometheus' default lookback delta is 5m).
func (c *counterScraper) latest(name string, now time.Time, lookback time.Duration) (float64, bool) {
	s := c.series[name]
	for i := len(s) - 1; i >= 0; i-- {
		if !s[i].t.After(now) {
			if now.Sub(s[i].t) > lookback {
				return 0, false
			}
			return s[i].v, true
		}
	}
	return 0, false
}

// rate is PromQL rate(counter[window]) evaluated at now for one pod; ok is false with fewer than
// two samples in the range (then the series has no rate and the pod has no metric).
func (c *counterScraper) rate(name string, now time.Time, window time.Duration) (float64, bool) {
	start := now.Add(-window)
	s := c.series[name] // time-ordered: the range is a sub-slice
	lo, hi := 0, len(s)
	for lo < hi && !s[lo].t.After(start) { // left-open range, as Prometheus 3
		lo++
	}
	for hi > lo && s[hi-1].t.After(now) {
		hi--
	}
	return extrapolatedRate(s[lo:hi], start, now, window)
}

// extrapolatedRate transcribes Prometheus promql/functions.go extrapolatedRate for a counter
// with isRate: the increase between the first and last sample (with counter-reset correction),
// extrapolated to the range boundaries when the samples reach within 1.1 average intervals of
// them (else by half an interval), not below the counter's zero point, divided by the range.
func extrapolatedRate(s []promSample, rangeStart, rangeEnd time.Time, window time.Duration) (float64, bool) {
	if len(s) < 2 {
		return 0, false
	}
	result := s[len(s)-1].v - s[0].v
	prev := s[0].v
	for _, x := range s[1:] {
		if x.v < prev {
			result += prev // counter reset
		}
		prev = x.v
	}
	durationToStart := s[0].t.Sub(rangeStart).Seconds()
	durationToEnd := rangeEnd.Sub(s[len(s)-1].t).Seconds()
	sampled := s[len(s)-1].t.Sub(s[0].t).Seconds()
	avg := sampled / float64(len(s)-1)
	threshold := avg * 1.1
	if durationToStart >= threshold {
		durationToStart = avg / 2
	}
	if result > 0 && s[0].v >= 0 {
		if toZero := sampled * (s[0].v / result); toZero < durationToStart {
			durationToStart = toZero
		}
	}
	if durationToEnd >= threshold {
		durationToEnd = avg / 2
	}
	factor := (sampled + durationToStart + durationToEnd) / sampled / window.Seconds()
	return result * factor, true
}
