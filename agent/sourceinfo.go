package agent

import (
	"context"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// InfoSource reads HSDS 0.9.x GET /info on the SN (and the DN for its state).
type InfoSource struct {
	fetch *Fetcher
	snURL string
	dnURL string // "" skips the DN
	limit float64
	clk   clock.PassiveClock
	store *Store
	prev  *InfoSample // last good SN sample; nil before the first
}

// NewInfoSource returns the info source and its store. limit is --max-task-count (HSDS 0.9.x does
// not expose max_task_count).
func NewInfoSource(f *Fetcher, snURL, dnURL string, limit float64, clk clock.PassiveClock) (*InfoSource, *Store) {
	st := NewStore(schema.SourceInfo, false, append(initialKeys(schema.CauseOverload), RespKey{Code: schema.CodeOther}))
	return &InfoSource{fetch: f, snURL: snURL, dnURL: dnURL, limit: limit, clk: clk, store: st}, st
}

// Poll reads HSDS once and commits the result.
func (s *InfoSource) Poll(ctx context.Context) {
	start := s.clk.Now()
	var r Result
	sn, err := readInfo(ctx, s.fetch, s.snURL)
	if err != nil {
		r.Errors = append(r.Errors, err)
	} else {
		r.Up = true
		r.Deltas = infoDeltas(s.prev, sn)
		s.prev = &sn
		r.Gauges = Gauges{
			InFlight:  known(sn.NumTasks),
			Limit:     known(s.limit),
			NodeCount: known(sn.NodeCount),
			Nodes:     map[string]NodeState{schema.NodeSN: stateOf(sn.State)},
		}
	}
	addDNState(ctx, s.fetch, s.dnURL, &r)
	r.Duration = s.clk.Since(start)
	logErrors(r.Errors)
	s.store.Commit(s.clk.Now(), r)
}

// readInfo fetches and parses base + "/info".
func readInfo(ctx context.Context, f *Fetcher, base string) (InfoSample, error) {
	body, err := f.Get(ctx, base+"/info", "application/json")
	if err != nil {
		return InfoSample{}, err
	}
	return parseInfo(body)
}

// addDNState reads the DN's /info when dnURL is set: its state joins r's gauges when the SN read
// succeeded (r.Up), its error joins r.Errors.
func addDNState(ctx context.Context, f *Fetcher, dnURL string, r *Result) {
	if dnURL == "" {
		return
	}
	dn, err := readInfo(ctx, f, dnURL)
	switch {
	case err != nil:
		r.Errors = append(r.Errors, err)
	case r.Up:
		r.Gauges.Nodes[schema.NodeDN] = stateOf(dn.State)
	}
}

// stateOf returns the full state of a node whose state string is known.
func stateOf(state string) NodeState {
	return NodeState{State: state, Ready: state == schema.StateReady}
}

// infoDeltas turns two /info samples into response counts. Gated requests (req_count, rejected
// ones included) are split into 503/overload, bounded above by both the WARN delta and the request
// delta, and "other" for the rest, so the series stay disjoint and sum to the gated requests. A
// decrease of any counter means HSDS restarted: the current values are then the counts since the
// restart (the Prometheus rate() convention), never a negative delta. The first sample only
// creates the series.
func infoDeltas(prev *InfoSample, cur InfoSample) map[RespKey]float64 {
	over := RespKey{Code: schema.Code503, Cause: schema.CauseOverload}
	other := RespKey{Code: schema.CodeOther}
	if prev == nil {
		return map[RespKey]float64{over: 0, other: 0}
	}
	dReq := cur.Requests - prev.Requests
	dWarn := cur.Warnings - prev.Warnings
	if dReq < 0 || dWarn < 0 || cur.StartTime != prev.StartTime {
		dReq, dWarn = cur.Requests, cur.Warnings
	}
	rejected := min(dWarn, dReq)
	return map[RespKey]float64{over: rejected, other: dReq - rejected}
}

// logErrors logs every failed read at verbosity 1 (the error counters carry the figures).
func logErrors(errs []error) {
	for _, err := range errs {
		klog.V(1).InfoS("Read of HSDS failed", "reason", ReasonOf(err), "err", err)
	}
}
