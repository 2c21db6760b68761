package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// snBackgroundTasks is the number of asyncio tasks a real HSDS 0.9.4 SN runs of its own; they
// count against max_task_count (docs/hsds.md, measured: the SN admits 2 fewer requests).
const snBackgroundTasks = 2

// gateWatch follows an HSDS 0.9.x SN through its /info between polls. /info cannot say which
// response had which status (docs/hsds.md): req_count counts gated requests, the gate's rejections
// included; log_stats.WARN rises by one per gate 503, but also by one or two per 404, per
// SN->DN error (a 500) and per 503 passed on from a DN; req_count.num_tasks is the task count
// sampled at the last gated request, then frozen. What gateWatch can tell:
//   - when the last gated request arrived (req_count moved), so how old the num_tasks sample is;
//   - when a fresh sample last showed more tasks than the limit: the gate rejects exactly then, so
//     WARNs around such a sample are gate 503s, and WARNs without one are 404s, 500s or
//     upstream 503s, never overload.
type gateWatch struct {
	limit float64
	// hold is how long after an over-limit sample the gate counts as rejecting.
	hold time.Duration
	// prev is the last good SN sample, valid when hasPrev (a value, not a pointer: observe runs
	// every poll and must not allocate).
	prev    InfoSample
	hasPrev bool
	// lastArrival is the poll at which req_count last moved (a gated request arrived since the
	// poll before); zero before that.
	lastArrival time.Time
	// lastOverLimit is the poll at which a fresh sample last exceeded the limit.
	lastOverLimit time.Time
}

// infoStep is what one /info poll tells about the interval since the previous one.
type infoStep struct {
	first     bool    // no previous sample: nothing to count yet
	requests  float64 // gated requests (rejected by the gate included)
	warnings  float64 // WARN log lines
	ready     bool    // the SN was READY at both ends of the interval
	gateBusy  bool    // an over-limit sample within hold: the gate was rejecting
	restarted bool    // a counter went down or start_time changed: counts are since the restart
}

// observe records the sample cur taken at now and returns the interval's step.
func (g *gateWatch) observe(now time.Time, cur InfoSample) infoStep {
	prev, had := g.prev, g.hasPrev
	g.prev, g.hasPrev = cur, true
	if !had {
		return infoStep{first: true}
	}
	st := infoStep{
		requests: cur.Requests - prev.Requests,
		warnings: cur.Warnings - prev.Warnings,
		ready:    prev.State == schema.StateReady && cur.State == schema.StateReady,
	}
	if st.requests < 0 || st.warnings < 0 || cur.StartTime != prev.StartTime {
		st.requests, st.warnings, st.restarted = cur.Requests, cur.Warnings, true
		g.lastArrival, g.lastOverLimit = time.Time{}, time.Time{}
	}
	if st.requests > 0 {
		g.lastArrival = now
		if cur.NumTasks > g.limit {
			g.lastOverLimit = now
		}
	}
	st.gateBusy = g.busy(now)
	return st
}

// busy reports whether a fresh sample exceeded the limit within hold of now.
func (g *gateWatch) busy(now time.Time) bool {
	return !g.lastOverLimit.IsZero() && now.Sub(g.lastOverLimit) <= g.hold
}

// inFlight returns the num_tasks sample while it is at most maxAge old (a gated request arrived
// within maxAge), and nothing after: an idle SN keeps reporting the count of its last burst
// (docs/hsds.md), which is no figure of now.
func (g *gateWatch) inFlight(now time.Time, maxAge time.Duration) Gauge {
	if !g.hasPrev || g.lastArrival.IsZero() || now.Sub(g.lastArrival) > maxAge {
		return Gauge{}
	}
	return known(g.prev.NumTasks)
}

// InfoCounts are the responses one /info step counts, by what the agent can tell of them.
type InfoCounts struct {
	Overload, NotReady, Other float64
}

// deltas are the counts as the store's response keys.
func (c InfoCounts) deltas() map[RespKey]float64 {
	return map[RespKey]float64{
		{Code: schema.Code503, Cause: schema.CauseOverload}: c.Overload,
		{Code: schema.Code503, Cause: schema.CauseNotReady}: c.NotReady,
		{Code: schema.CodeOther}:                            c.Other,
	}
}

// infoCounts turns one step into response counts. The series stay disjoint and sum to the gated
// requests plus the not-READY rejections:
//   - SN not READY at either end: every WARN is a not_ready 503 (the SN 503s every gated request
//     and logs one WARN each; those are not in req_count), bounded above, never overload;
//   - READY and the gate busy: min(WARN, requests) are overload 503s (an upper bound: a 404 in
//     the same interval adds WARNs too), the rest "other";
//   - READY and the gate not busy: every request is "other": 404s, 500s and 503s passed on from a
//     DN log WARNs as well, and none of them is the gate's.
func infoCounts(st infoStep) InfoCounts {
	switch {
	case st.first:
		return InfoCounts{}
	case !st.ready:
		return InfoCounts{NotReady: st.warnings, Other: st.requests}
	case st.gateBusy:
		rejected := min(st.warnings, st.requests)
		return InfoCounts{Overload: rejected, Other: st.requests - rejected}
	}
	return InfoCounts{Other: st.requests}
}

// infoDeltas is infoCounts as the store's response keys.
func infoDeltas(st infoStep) map[RespKey]float64 { return infoCounts(st).deltas() }

// versionReader reads hsds_version from the SN's /about once per SN start (0.9.x has no other
// place that says it; /about is never gated).
type versionReader struct {
	fetch     *Fetcher
	snURL     string
	version   string
	startTime float64
}

// read returns the version for an SN that started at startTime, reading /about only when the
// version is unknown or the SN restarted since the last read.
func (v *versionReader) read(ctx context.Context, startTime float64) (string, error) {
	if v.version != "" && v.startTime == startTime {
		return v.version, nil
	}
	body, err := v.fetch.Get(ctx, v.snURL+"/about", "application/json")
	if err != nil {
		return "", err
	}
	ver, err := parseAbout(body)
	if err != nil {
		return "", err
	}
	v.version, v.startTime = ver, startTime
	return ver, nil
}

// parseAbout returns hsds_version from an HSDS /about body.
func parseAbout(body []byte) (string, error) {
	var a struct {
		Version *string `json:"hsds_version"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return "", &ScrapeError{Reason: ReadErrorParse, URL: "/about", Err: fmt.Errorf("decode /about: %w", err)}
	}
	if a.Version == nil || *a.Version == "" {
		return "", &ScrapeError{Reason: ReadErrorInvalid, URL: "/about", Err: fmt.Errorf("missing hsds_version")}
	}
	return *a.Version, nil
}
