package bench

import (
	"fmt"
	"slices"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/report"
)

// buildReport turns the job results into a report: one row per (trace, listed policy), every
// row carrying the oracle's pod-seconds of its trace, and the goals checked per trace.
func buildReport(cfg Config, replays []replay, results []result) Report {
	rep := Report{Seed: cfg.Seed, Scenario: cfg.Scenario}
	oraclePS := map[int]float64{}
	for _, res := range results {
		if res.job.policy.Name == PolicyOracle {
			oraclePS[res.job.replay] = res.stats.PodSeconds
		}
	}
	for _, r := range replays {
		rep.Traces = append(rep.Traces, r.info)
	}
	for _, res := range results {
		name := res.job.policy.Name
		if name == PolicyOracle && !slices.Contains(cfg.Policies, PolicyOracle) {
			continue
		}
		info := res.job.r.info
		rep.Rows = append(rep.Rows, row(info, name, res, oraclePS[res.job.replay]))
		rep.Timelines = append(rep.Timelines, report.Timeline{Trace: info.Trace, Policy: name, Points: res.stats.Timeline})
	}
	for _, t := range rep.Traces {
		rep.Goals = append(rep.Goals, goals(t.Trace, rep.Rows)...)
	}
	return rep
}

func row(info report.TraceInfo, policy string, res result, oraclePS float64) report.Row {
	st := res.stats
	act := "direct"
	if res.job.policy.Guarded {
		act = "scaler.Controller"
	}
	vs := 0.0
	if oraclePS > 0 {
		vs = st.PodSeconds / oraclePS
	}
	return report.Row{
		Trace: info.Trace, Policy: policy, Actuation: act,
		FailedFraction: st.FailedFraction(), RejectedFraction: st.RejectedFraction(),
		PodSeconds: st.PodSeconds, OraclePodSeconds: oraclePS, PodSecondsVsOracle: vs,
		ReplicaChanges: st.ReplicaChanges, P99LatencyS: st.Latency.Quantile(0.99),
		ScaleFactor: info.ScaleFactor, TimeCompression: info.TimeCompression, SimulatedSeconds: st.Duration,
		Requests: st.Requests, Failed: st.Failed, Unfinished: st.Unfinished(), Attempts: st.Attempts,
		RejectedOverload: st.Rejected.Overload, RejectedNotReady: st.Rejected.NotReady, NoEndpoint: st.NoEndpoint,
		NodeSeconds: st.NodeSeconds,
	}
}

// goals checks the project's goals for one trace (docs/bench.md, "Goals"), when the rows they
// compare are present:
//   - hsds failed_fraction <= 1/5 of the better upstream recipe's (lower failed_fraction of
//     hpa-prometheus-adapter and keda), at <= that recipe's pod_seconds;
//   - hsds pod_seconds <= 1.25 x the oracle's;
//   - hsds replica_changes <= 1/3 of hpa-prometheus-adapter's.
func goals(trace string, rows []report.Row) []report.Goal {
	get := func(p string) (report.Row, bool) {
		i := slices.IndexFunc(rows, func(r report.Row) bool { return r.Trace == trace && r.Policy == p })
		if i < 0 {
			return report.Row{}, false
		}
		return rows[i], true
	}
	ours, ok := get(PolicyHSDS)
	if !ok {
		return nil
	}
	var out []report.Goal
	hpa, okHPA := get(PolicyHPA)
	keda, okKEDA := get(PolicyKEDA)
	if okHPA || okKEDA {
		best := hpa
		if !okHPA || (okKEDA && keda.FailedFraction < hpa.FailedFraction) {
			best = keda
		}
		out = append(out, report.Goal{
			Trace: trace, Goal: "failed <= 1/5 of the better upstream recipe, at <= its pod-seconds",
			Met: ours.FailedFraction <= best.FailedFraction/5 && ours.PodSeconds <= best.PodSeconds,
			Detail: fmt.Sprintf("hsds %.4g%% / %.0f pod-s; %s %.4g%% / %.0f pod-s",
				100*ours.FailedFraction, ours.PodSeconds, best.Policy, 100*best.FailedFraction, best.PodSeconds),
		})
	}
	if ours.OraclePodSeconds > 0 {
		out = append(out, report.Goal{
			Trace: trace, Goal: "pod-seconds <= 1.25 x oracle",
			Met:    ours.PodSeconds <= 1.25*ours.OraclePodSeconds,
			Detail: fmt.Sprintf("%.2fx (%.0f / %.0f)", ours.PodSecondsVsOracle, ours.PodSeconds, ours.OraclePodSeconds),
		})
	}
	if okHPA {
		out = append(out, report.Goal{
			Trace: trace, Goal: "replica changes <= 1/3 of HPA recipe",
			Met:    3*ours.ReplicaChanges <= hpa.ReplicaChanges,
			Detail: fmt.Sprintf("hsds %d, %s %d", ours.ReplicaChanges, PolicyHPA, hpa.ReplicaChanges),
		})
	}
	return out
}
