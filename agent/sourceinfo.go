package agent

import (
	"context"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// InfoSource reads HSDS 0.9.x GET /info on the SN (and the DN for its state), and /about for the
// version. Its 503 split is an upper bound (exact="false"): see gateWatch.
type InfoSource struct {
	fetch   *Fetcher
	snURL   string
	dnURL   string // "" skips the DN
	limit   float64
	clk     clock.PassiveClock
	store   *Store
	classes *InfoClassifier
	version versionReader
}

// InfoConfig holds the info source's settings.
type InfoConfig struct {
	// Limit is --max-task-count (HSDS 0.9.x does not expose max_task_count).
	Limit float64
	// InFlightMaxAge is how old the num_tasks sample may be and still be exported.
	InFlightMaxAge time.Duration
	// GateHold is how long after an over-limit sample the gate counts as rejecting.
	GateHold time.Duration
}

// NewInfoSource returns the info source and its store.
func NewInfoSource(f *Fetcher, snURL, dnURL string, cfg InfoConfig, clk clock.PassiveClock) (*InfoSource, *Store) {
	st := NewStore(schema.SourceInfo, false, append(initialKeys(schema.CauseOverload, schema.CauseNotReady), RespKey{Code: schema.CodeOther}))
	return &InfoSource{fetch: f, snURL: snURL, dnURL: dnURL, limit: cfg.Limit,
		clk: clk, store: st, classes: NewInfoClassifier(cfg),
		version: versionReader{fetch: f, snURL: snURL}}, st
}

// InfoClassifier is the info source's reading of consecutive SN /info samples, without the I/O:
// which responses were overload or not-ready 503s (see gateWatch and infoDeltas) and whether the
// task sample is fresh enough to export as in-flight. The bench's simulator feeds it the samples a
// simulated 0.9.x SN would answer, so the policy there sees what this agent exports.
type InfoClassifier struct {
	watch  gateWatch
	maxAge time.Duration
}

// NewInfoClassifier returns a classifier with the info source's settings.
func NewInfoClassifier(cfg InfoConfig) *InfoClassifier {
	return &InfoClassifier{watch: gateWatch{limit: cfg.Limit, hold: cfg.GateHold}, maxAge: cfg.InFlightMaxAge}
}

// Observe takes the SN sample read at now. It returns the responses counted since the previous
// sample (zero at the first: nothing to count yet) and the in-flight figure to export. It does
// not allocate (the bench's simulator calls it for every pod every 250 simulated ms).
func (c *InfoClassifier) Observe(now time.Time, sn InfoSample) (InfoCounts, Gauge) {
	counts := infoCounts(c.watch.observe(now, sn))
	return counts, c.watch.inFlight(now, c.maxAge)
}

// Poll reads HSDS once and commits the result.
func (s *InfoSource) Poll(ctx context.Context) {
	start := s.clk.Now()
	var r Result
	sn, err := readInfo(ctx, s.fetch, s.snURL)
	if err != nil {
		r.Errors = append(r.Errors, err)
	} else {
		now := s.clk.Now()
		r.Up = true
		counts, inFlight := s.classes.Observe(now, sn)
		r.Deltas = counts.deltas()
		r.Gauges = Gauges{
			InFlight:  inFlight,
			Limit:     known(s.limit),
			NodeCount: known(sn.NodeCount),
			Nodes:     map[string]NodeState{schema.NodeSN: stateOf(sn.State)},
		}
		if r.Version, err = s.version.read(ctx, sn.StartTime); err != nil {
			r.Errors = append(r.Errors, err)
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

// logErrors logs every failed read at verbosity 1 (the error counters carry the figures).
func logErrors(errs []error) {
	for _, err := range errs {
		klog.V(1).InfoS("Read of HSDS failed", "reason", ReadErrorOf(err), "err", err)
	}
}
