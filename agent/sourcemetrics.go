package agent

import (
	"context"

	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// MetricsSource reads HSDS 1.x GET /metrics on the SN (and the DN for its readiness).
type MetricsSource struct {
	fetch *Fetcher
	snURL string
	dnURL string // "" skips the DN
	clk   clock.PassiveClock
	store *Store
	prev  *nodeView // last good view; nil before the first
	// self200 counts the agent's own SN /metrics reads that HSDS answered 200 since the last good
	// read (that one included): HSDS counts them in hsds_http_requests_total, the agent must not.
	self200 float64
}

// nodeView is what the 503 cause rule looks at, at one end of a scrape interval.
type nodeView struct {
	sn      MetricsSample
	dnReady Gauge // 1 ready, 0 not ready; invalid when the DN was not read
}

// NewMetricsSource returns the metrics source and its store.
func NewMetricsSource(f *Fetcher, snURL, dnURL string, clk clock.PassiveClock) (*MetricsSource, *Store) {
	st := NewStore(schema.SourceMetrics, false, initialKeys(schema.Causes[:]...))
	return &MetricsSource{fetch: f, snURL: snURL, dnURL: dnURL, clk: clk, store: st}, st
}

// Poll reads HSDS once and commits the result.
func (s *MetricsSource) Poll(ctx context.Context) {
	start := s.clk.Now()
	var r Result
	var cur nodeView
	sn, err := s.read(ctx, s.snURL)
	answered200 := err == nil || ReadErrorOf(err) == ReadErrorTooLarge || ReadErrorOf(err) == ReadErrorParse ||
		ReadErrorOf(err) == ReadErrorInvalid
	if err != nil {
		r.Errors = append(r.Errors, err)
	} else {
		r.Up = true
		cur.sn = sn
		r.Version = sn.Version
		r.Gauges = Gauges{
			InFlight:  sn.TasksActive,
			Limit:     sn.TasksMax,
			NodeCount: sn.DNCount,
			Nodes:     map[string]NodeState{schema.NodeSN: {Ready: sn.Ready, ReadyOnly: true}},
		}
	}
	if s.dnURL != "" {
		dn, err := s.read(ctx, s.dnURL)
		switch {
		case err != nil:
			r.Errors = append(r.Errors, err)
		case r.Up:
			cur.dnReady = known(b2f(dn.Ready))
			r.Gauges.Nodes[schema.NodeDN] = NodeState{Ready: dn.Ready, ReadyOnly: true}
		}
	}
	if r.Up {
		r.Deltas = metricsDeltas(s.prev, cur)
		subtractSelf(r.Deltas, s.self200)
		s.prev = &cur
		s.self200 = 0
	}
	if answered200 {
		s.self200++ // shows in HSDS's counters from the next read on
	}
	r.Duration = s.clk.Since(start)
	logErrors(r.Errors)
	s.store.Commit(s.clk.Now(), r)
}

func (s *MetricsSource) read(ctx context.Context, base string) (MetricsSample, error) {
	body, err := s.fetch.Get(ctx, base+"/metrics", metricsAccept)
	if err != nil {
		return MetricsSample{}, err
	}
	return parseMetrics(body)
}

// subtractSelf removes the agent's own reads from the 200 delta (never below 0: after an HSDS
// restart some of them were counted by the old process).
func subtractSelf(d map[RespKey]float64, self float64) {
	k := RespKey{Code: "200"}
	if v, ok := d[k]; ok {
		d[k] = max(0, v-self)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsDeltas turns two scrapes of hsds_http_requests_total into response counts; the 503s of
// the interval all get the cause cause503Metrics gives it. A counter that decreased or vanished
// means HSDS restarted: the current values are then the counts since the restart. The first
// scrape only creates the series it sees.
func metricsDeltas(prev *nodeView, cur nodeView) map[RespKey]float64 {
	out := map[RespKey]float64{}
	key := func(code, cause string) RespKey {
		if code == schema.Code503 {
			return RespKey{Code: code, Cause: cause}
		}
		return RespKey{Code: code}
	}
	if prev == nil {
		for code := range cur.sn.Responses {
			out[key(code, schema.CauseOverload)] = 0
		}
		return out
	}
	restarted := false
	for code, v := range prev.sn.Responses {
		if c, ok := cur.sn.Responses[code]; !ok || c < v {
			restarted = true
		}
	}
	cause := cause503Metrics(*prev, cur)
	for code, v := range cur.sn.Responses {
		d := v
		if !restarted {
			d = v - prev.sn.Responses[code]
		}
		if code == schema.Code503 && cause != schema.CauseNotReady && cause != schema.CauseUpstream {
			if up := min(d, upstreamEvidence(prev.sn.Internal, cur.sn.Internal, restarted)); up > 0 {
				out[key(code, schema.CauseUpstream)] += up
				d -= up
			}
		}
		out[key(code, cause)] += d
	}
	return out
}

// upstreamEvidence is how many of an interval's client 503s the SN's own DN requests explain:
// the rise of hsds_internal_requests_total{status="503"} (DN 503s) and {status="error"} (no
// answer from a DN), which the SN passes on to the client. 0 when HSDS does not export it.
func upstreamEvidence(prev, cur map[string]float64, restarted bool) float64 {
	if cur == nil {
		return 0
	}
	var n float64
	for _, s := range []string{schema.Code503, "error"} {
		d := cur[s]
		if !restarted && prev != nil {
			d -= prev[s]
		}
		n += max(d, 0)
	}
	return n
}

// cause503Metrics classifies the 503s of one scrape interval from the node views at both ends
// (docs/hsds.md, "Where 503 comes from"):
//  1. the SN not READY at either end -> not_ready (a node that is not READY 503s everything; a
//     rescale gives ~10 s of these);
//  2. else the local DN not READY at either end -> upstream (DN 503s pass through the SN);
//  3. else the SN task gauge at or above hsds_tasks_max at either end -> overload (the gate);
//  4. else upstream (DN cache full, SN->DN timeouts), including when the task gauges are absent.
//
// Rule 3 compares point samples: a gate that rejected between scrapes while the sampled task
// count was lower is counted as upstream. Hence exact="false". Where HSDS exports
// hsds_internal_requests_total, metricsDeltas first takes the 503s that the SN's own DN requests
// explain as upstream, and applies these rules to the rest.
func cause503Metrics(a, b nodeView) string {
	switch {
	case !a.sn.Ready || !b.sn.Ready:
		return schema.CauseNotReady
	case notReady(a.dnReady) || notReady(b.dnReady):
		return schema.CauseUpstream
	case atLimit(a.sn) || atLimit(b.sn):
		return schema.CauseOverload
	}
	return schema.CauseUpstream
}

func notReady(g Gauge) bool { return g.Valid && g.Value == 0 }

func atLimit(s MetricsSample) bool {
	return s.TasksActive.Valid && s.TasksMax.Valid && s.TasksActive.Value >= s.TasksMax.Value
}
