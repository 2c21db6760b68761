package bench

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/frontier"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/report"
)

// buildReport turns the job results into the report: a row per policy job, a frontier entry per
// schedule job, each row's distance to the frontier of its trace and seed, and the goals per
// trace and seed.
func buildReport(cfg Config, traces []replayTrace, measured []report.Measured, results []result) Report {
	rep := Report{Seeds: cfg.Seeds, Scenario: cfg.Scenario, Measured: measured}
	for _, t := range traces {
		rep.Traces = append(rep.Traces, t.info)
	}
	for _, res := range results {
		j := res.job
		info := j.plan.trace.info
		if j.schedule >= 0 {
			rep.Frontier = append(rep.Frontier, frontierEntry(info.Trace, j, res))
			continue
		}
		rep.Rows = append(rep.Rows, row(info, j.plan.seed, j.policy, res))
		if j.keepTimeline {
			rep.Timelines = append(rep.Timelines, report.Timeline{Trace: info.Trace, Policy: j.policy.Name, Points: res.stats.Timeline})
		}
	}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		withDistance(r, frontierPoints(rep.Frontier, r.Trace, r.Seed))
	}
	for _, t := range rep.Traces {
		for _, seed := range rep.Seeds {
			rep.Goals = append(rep.Goals, goals(t.Trace, seed, rep.Rows)...)
		}
	}
	return rep
}

func row(info report.TraceInfo, seed uint64, pol Policy, res result) report.Row {
	st := res.stats
	act := "direct"
	if pol.Guarded {
		act = "scaler.Controller"
	}
	return report.Row{
		Trace: info.Trace, Seed: seed, Policy: pol.Name, Actuation: act,
		FailedFraction: st.FailedFraction(), RejectedFraction: st.RejectedFraction(), ErrorFraction: st.ErrorFraction(),
		PodSeconds: st.PodSeconds, ReplicaChanges: st.ReplicaChanges, P99LatencyS: st.Latency.Quantile(0.99),
		FrontierFailedFraction: -1,
		ScaleFactor:            info.ScaleFactor, TimeCompression: info.TimeCompression, SimulatedSeconds: st.Duration,
		Requests: st.Requests, Failed: st.Failed, Unfinished: st.Unfinished(), Attempts: st.Attempts,
		RejectedOverload: st.Rejected.Overload, RejectedNotReady: st.Rejected.NotReady, RejectedUpstream: st.Rejected.Upstream,
		Errors500: st.Errors500, NoEndpoint: st.NoEndpoint,
		NodeSeconds: st.NodeSeconds,
	}
}

func frontierEntry(trace string, j job, res result) report.FrontierEntry {
	s, st := j.plan.frontier[j.schedule], res.stats
	return report.FrontierEntry{
		Trace: trace, Seed: j.plan.seed, Label: s.Label, Lambda: s.Lambda,
		FailedFraction: st.FailedFraction(), RejectedFraction: st.RejectedFraction(), PodSeconds: st.PodSeconds,
		ReplicaChanges: st.ReplicaChanges, P99LatencyS: st.Latency.Quantile(0.99),
		ModelPodSeconds: s.Model.PodSeconds, ModelFailed: s.Model.Failures, Requests: st.Requests, Failed: st.Failed,
	}
}

func frontierPoints(entries []report.FrontierEntry, trace string, seed uint64) []frontier.Point {
	var out []frontier.Point
	for _, f := range entries {
		if f.Trace == trace && f.Seed == seed {
			out = append(out, frontier.Point{Label: f.Label, Failed: f.FailedFraction, PodSeconds: f.PodSeconds})
		}
	}
	return out
}

// withDistance fills r's distance to the frontier: the cheapest schedule failing no more, the
// best one costing no more.
func withDistance(r *report.Row, front []frontier.Point) {
	if p, ok := frontier.CheapestNoWorse(front, r.FailedFraction); ok {
		r.FrontierLabel, r.FrontierPodSeconds = p.Label, p.PodSeconds
		if p.PodSeconds > 0 {
			r.PodSecondsVsFrontier = r.PodSeconds / p.PodSeconds
		}
	}
	if p, ok := frontier.BestNoCostlier(front, r.PodSeconds); ok {
		r.FrontierCheapLabel, r.FrontierFailedFraction = p.Label, p.Failed
	}
}

// Goal factors (docs/bench.md, "Goals").
const (
	goalFailedVsRecipe    = 0.2
	goalCostVsFrontier    = 1.5
	goalCostVsFrontierStr = 1.25
	goalChangesVsHPA      = 1.0 / 3
)

// goals checks the project's goals on one trace and seed, each when the rows it compares are
// present (report.GoalIDs):
//   - a: hsds failed_fraction <= 0.2 x the better (lower failed_fraction) of
//     hpa-prometheus-adapter and keda;
//   - b: no baseline (hpa-prometheus-adapter, keda, kpa) fails no more at no more pod-seconds;
//   - c, c-stretch: hsds pod_seconds <= 1.5 (1.25) x the cheapest frontier schedule failing no
//     more (met when no schedule fails as little);
//   - d: hsds replica_changes <= 1/3 of hpa-prometheus-adapter's.
func goals(trace string, seed uint64, rows []report.Row) []report.Goal {
	get := func(p string) (report.Row, bool) {
		i := slices.IndexFunc(rows, func(r report.Row) bool { return r.Trace == trace && r.Seed == seed && r.Policy == p })
		if i < 0 {
			return report.Row{}, false
		}
		return rows[i], true
	}
	ours, ok := get(PolicyHSDS)
	if !ok {
		return nil
	}
	g := func(id, text string, met bool, detail string, args ...any) report.Goal {
		return report.Goal{Trace: trace, Seed: seed, ID: id, Goal: text, Met: met, Detail: fmt.Sprintf(detail, args...)}
	}
	var out []report.Goal
	var recipes []report.Row
	for _, p := range []string{PolicyHPA, PolicyKEDA} {
		if r, ok := get(p); ok {
			recipes = append(recipes, r)
		}
	}
	if len(recipes) > 0 {
		best := slices.MinFunc(recipes, func(a, b report.Row) int { return cmp.Compare(a.FailedFraction, b.FailedFraction) })
		out = append(out, g("a", "failed <= 0.2 x the better 503 recipe", ours.FailedFraction <= goalFailedVsRecipe*best.FailedFraction,
			"%.4f%% vs %s %.4f%%", 100*ours.FailedFraction, best.Policy, 100*best.FailedFraction))
	}
	var baselines []report.Row
	for _, p := range []string{PolicyHPA, PolicyKEDA, PolicyKPA} {
		if r, ok := get(p); ok {
			baselines = append(baselines, r)
		}
	}
	if len(baselines) > 0 {
		var as []string
		for _, b := range baselines {
			if b.FailedFraction <= ours.FailedFraction && b.PodSeconds <= ours.PodSeconds {
				as = append(as, fmt.Sprintf("%s %.4f%% / %.0f pod-s", b.Policy, 100*b.FailedFraction, b.PodSeconds))
			}
		}
		detail := "none"
		if len(as) > 0 {
			detail = fmt.Sprint(as)
		}
		out = append(out, g("b", "no baseline as good on both failures and pod-seconds", len(as) == 0, "as good: %s", detail))
	}
	if ours.FrontierLabel == "" {
		out = append(out, g("c", "pod-seconds <= 1.5 x the cheapest frontier schedule failing no more", true, "no schedule fails as little"),
			g("c-stretch", "pod-seconds <= 1.25 x the cheapest frontier schedule failing no more", true, "no schedule fails as little"))
	} else {
		d := fmt.Sprintf("%.2fx (%.0f / %s %.0f)", ours.PodSecondsVsFrontier, ours.PodSeconds, ours.FrontierLabel, ours.FrontierPodSeconds)
		out = append(out, g("c", "pod-seconds <= 1.5 x the cheapest frontier schedule failing no more", ours.PodSecondsVsFrontier <= goalCostVsFrontier, "%s", d),
			g("c-stretch", "pod-seconds <= 1.25 x the cheapest frontier schedule failing no more", ours.PodSecondsVsFrontier <= goalCostVsFrontierStr, "%s", d))
	}
	if hpa, ok := get(PolicyHPA); ok {
		out = append(out, g("d", "replica changes <= 1/3 of HPA's", float64(ours.ReplicaChanges) <= goalChangesVsHPA*float64(hpa.ReplicaChanges),
			"%d vs %d", ours.ReplicaChanges, hpa.ReplicaChanges))
	}
	return out
}
