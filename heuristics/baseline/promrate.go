package baseline

import (
	"hash/fnv"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// promSample is one scraped sample; stale marks Prometheus' staleness marker (a failed scrape or
// a target that left), which ends an instant vector's lookback and is skipped by rate().
type promSample struct {
	t     time.Time
	v     float64
	stale bool
}

// promSeries is one pod's series of one metric.
type promSeries struct {
	offset  time.Duration // the pod's scrape phase within the interval
	samples []promSample  // time-ordered
	gone    bool          // the pod left the target set
}

// prometheus emulates one Prometheus scraping one metric of every pod of the target every
// interval, from the pods' exported figures (heuristics.PodSample.Exposed: the raw cumulative
// counters and gauges, never the store's rates).
//
// Scrape instants: Prometheus spreads its targets over the interval by a hash of the target
// (scrape.Target.offset): a target is scraped at the instants t with t mod interval equal to
// hash mod interval. Here the hash is FNV-1a of the pod name, rounded to whole seconds, on the
// Unix epoch; a scrape is taken at the first call at or after its instant, and the sample is
// stamped with that call's time and holds the pod's figures of that call (bench calls every
// second, so samples are exact). The emulation runs from the first call on (warm from t=0): there
// is no blind start beyond Prometheus' own need for two samples in the range.
//
// A pod whose figures are missing or older than maxAge at its scrape instant is a failed scrape;
// a pod that left the snapshot a target that left: both write a staleness marker. Series are
// kept for retention after their last sample (rate() over a range still sees a departed pod's
// samples, as in Prometheus, so an unfiltered sum(rate()) includes it for up to the range).
type prometheus struct {
	interval, retention, maxAge time.Duration
	value                       func(heuristics.Exposition) (float64, bool)
	last                        time.Time // previous call (zero before the first)
	series                      map[string]*promSeries
}

func newPrometheus(interval, retention, maxAge time.Duration, value func(heuristics.Exposition) (float64, bool)) *prometheus {
	return &prometheus{interval: interval, retention: retention, maxAge: maxAge, value: value,
		series: map[string]*promSeries{}}
}

// scrapeOffset is a pod's scrape phase: FNV-1a of its name modulo the interval, in whole seconds.
func scrapeOffset(name string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	secs := max(1, int64(interval/time.Second))
	return time.Duration(h.Sum64()%uint64(secs)) * time.Second
}

// due reports whether a scrape instant of phase offset falls in (from, to].
func (p *prometheus) due(offset time.Duration, from, to time.Time) bool {
	if from.IsZero() {
		from = to.Add(-time.Nanosecond) // first call: only an instant exactly now
	}
	iv := int64(p.interval)
	// The latest instant <= to: to - ((to - offset) mod interval).
	r := (to.UnixNano() - int64(offset)) % iv
	if r < 0 {
		r += iv
	}
	latest := to.Add(-time.Duration(r))
	return latest.After(from)
}

// scrape takes every scrape due since the previous call, with the figures of snap at now.
func (p *prometheus) scrape(snap heuristics.Snapshot, now time.Time) {
	from := p.last
	if !from.IsZero() && !now.After(from) {
		return
	}
	p.last = now
	present := make(map[string]bool, len(snap.Pods))
	for i := range snap.Pods {
		pod := &snap.Pods[i]
		present[pod.Name] = true
		s := p.series[pod.Name]
		if s == nil {
			s = &promSeries{offset: scrapeOffset(pod.Name, p.interval)}
			p.series[pod.Name] = s
		}
		s.gone = false
		if !p.due(s.offset, from, now) {
			continue
		}
		e := pod.Exposed
		v, ok := p.value(e)
		if e.Time.IsZero() || now.Sub(e.Time) > p.maxAge || !ok {
			s.add(promSample{t: now, stale: true})
			continue
		}
		s.add(promSample{t: now, v: v})
	}
	cut := now.Add(-p.retention)
	for name, s := range p.series {
		if !present[name] && !s.gone {
			s.gone = true
			s.add(promSample{t: now, stale: true})
		}
		i := 0
		for i < len(s.samples) && !s.samples[i].t.After(cut) {
			i++
		}
		s.samples = append(s.samples[:0], s.samples[i:]...)
		if s.gone && len(s.samples) <= 1 {
			delete(p.series, name)
		}
	}
}

func (s *promSeries) add(x promSample) {
	if n := len(s.samples); n > 0 && s.samples[n-1].stale && x.stale {
		return // one marker is enough
	}
	s.samples = append(s.samples, x)
}

// latest is a PromQL instant-vector selector for one pod's gauge at now: its newest sample no
// older than lookback (Prometheus' default lookback delta is 5m), none when that is a staleness
// marker.
func (p *prometheus) latest(name string, now time.Time, lookback time.Duration) (float64, bool) {
	s := p.series[name]
	if s == nil {
		return 0, false
	}
	for i := len(s.samples) - 1; i >= 0; i-- {
		x := s.samples[i]
		if x.t.After(now) {
			continue
		}
		if x.stale || now.Sub(x.t) > lookback {
			return 0, false
		}
		return x.v, true
	}
	return 0, false
}

// rate is PromQL rate(counter[window]) evaluated at now for one series; ok is false with fewer
// than two samples in the range (then the series has no rate: the pod has no metric).
func (p *prometheus) rate(name string, now time.Time, window time.Duration) (float64, bool) {
	s := p.series[name]
	if s == nil {
		return 0, false
	}
	return rangeRate(s.samples, now, window)
}

// sumRate is PromQL sum(rate(counter[window])) at now over every series, those of pods that left
// included; ok is false when no series has a rate (an empty result).
func (p *prometheus) sumRate(now time.Time, window time.Duration) (float64, bool) {
	sum, any := 0.0, false
	for _, s := range p.series {
		if r, ok := rangeRate(s.samples, now, window); ok {
			sum += r
			any = true
		}
	}
	return sum, any
}

// rangeRate selects the samples of the left-open range (now-window, now] (Prometheus 3),
// staleness markers dropped, and returns their extrapolatedRate.
func rangeRate(samples []promSample, now time.Time, window time.Duration) (float64, bool) {
	start := now.Add(-window)
	in := make([]promSample, 0, len(samples))
	for _, x := range samples {
		if x.t.After(start) && !x.t.After(now) && !x.stale && !math.IsNaN(x.v) {
			in = append(in, x)
		}
	}
	return extrapolatedRate(in, start, now, window)
}

// extrapolatedRate transcribes Prometheus 3 promql/functions.go extrapolatedRate for a counter
// with isRate: the increase between the first and last sample (a decrease is a counter reset:
// the value before it is added back), extrapolated to each range boundary when the samples reach
// within 1.1 average intervals of it (else by half an average interval), towards the start never
// further than the counter's zero point, divided by the range. Fewer than two samples: no value.
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
