package dashboards

// AutoscalerSpec is the "hsds-autoscaler" dashboard: what `hsds-autoscaler serve` decided and why,
// and the health of its adapter. $namespace and $pod select the autoscaler's own pods; $target
// selects the scaled Deployment ("namespace/name").
func AutoscalerSpec() Spec {
	t := func(extra ...string) string { return sel([]string{"namespace", "pod", "target"}, extra...) }
	p := func(extra ...string) string { return sel([]string{"namespace", "pod"}, extra...) }
	return Spec{
		UID:   UIDAutoscaler,
		Title: "hsds-autoscaler",
		Description: "Replicas, every decision with its reason, guards, and the adapter's scrape and " +
			"custom-metrics API health of hsds-autoscaler serve.",
		Tags: []string{"hsds", "hsds-autoscaler"},
		Variables: []Variable{datasourceVariable(),
			queryVariable("namespace", "Namespace", ScalerLeader, "namespace"),
			queryVariable("pod", "Pod", ScalerLeader+`{namespace=~"$namespace"}`, "pod"),
			queryVariable("target", "Target", ScalerCurrent+`{namespace=~"$namespace"}`, "target")},
		Annotations: []Annotation{
			promAnnotation("Replica changes", "changes(max by (target) ("+ScalerCurrent+t()+")[2m:30s]) > 0",
				"{{target}}: replicas changed", "spec.replicas changed", "orange"),
			promAnnotation("Scale decisions", "sum by (target, direction, reason) (increase("+ScalerDecisions+
				t(`direction!="none"`)+"[1m])) > 0", "{{target}}: scale {{direction}}", "reason: {{reason}}", "purple"),
		},
		Rows: []RowSpec{
			{Title: "Replicas", Panels: scalerReplicas(t, p)},
			{Title: "Decisions and guards", Panels: scalerDecisions(t)},
			{Title: "Adapter", Panels: adapterPanels(p)},
		},
	}
}

func scalerReplicas(t, p func(...string) string) []PanelSpec {
	g := func(m string) string { return "max by (target) (" + m + t() + ")" }
	return []PanelSpec{
		{Title: "Replicas: desired, current, ready, pending", Width: 16,
			Description: "desired: what the controller wants after guards; current: spec.replicas; ready: pods " +
				"Running, Ready and HSDS READY; pending: pods Pending (waiting for the cluster autoscaler). " +
				"desired above current for long means actuation fails; pending for long means no node fits.",
			Queries: []Query{
				{Expr: g(ScalerDesired), Legend: "{{target}} desired"},
				{Expr: g(ScalerCurrent), Legend: "{{target}} current"},
				{Expr: g(ScalerReady), Legend: "{{target}} ready"},
				{Expr: g(ScalerPending), Legend: "{{target}} pending"},
			}},
		{Title: "Leader", Kind: KindStat, Width: 4,
			Description: "Replicas holding the leader lease: 1 is right; 0 means nobody scales.",
			Queries:     []Query{{Expr: "sum(" + ScalerLeader + p() + ")", Legend: "leaders"}}},
		{Title: "Seconds since last decision", Kind: KindStat, Width: 4, Unit: "s",
			Description: "Time since the controller last reached a decision. Growing beyond a few periods: the loop is stuck or has no data.",
			Queries:     []Query{{Expr: "time() - max by (target) (" + ScalerLastDecision + t() + ")", Legend: "{{target}}"}}},
		{Title: "Leader by pod", Width: 8, Min: ptr(0.0), Max: ptr(1.0),
			Description: "hsds_scaler_leader per autoscaler pod: hand-overs show as steps.",
			Queries:     []Query{{Expr: ScalerLeader + p(), Legend: "{{pod}}"}}},
		{Title: "Stuck pods", Width: 8,
			Description: "Pods Running but not READY for longer than guards.stuckNotReady (HSDS issue 423).",
			Queries:     []Query{{Expr: g(ScalerStuckPods), Legend: "{{target}}"}}},
		{Title: "Actuation errors/s", Width: 8, Unit: "ops",
			Description: "Failed reads or writes of the scale subresource, or pod deletions, by operation. Any sustained rate means the scaler cannot act.",
			Queries: []Query{{Expr: "sum by (target, op) (" + rate(ScalerActuationErrors, t()) + ")",
				Legend: "{{target}} {{op}}"}}},
	}
}

func scalerDecisions(t func(...string) string) []PanelSpec {
	return []PanelSpec{
		{Title: "Decisions/s by reason", Stack: true, Unit: "ops",
			Description: "Every decision (one per controller tick) by final reason and direction. in-band and " +
				"hold-* are normal; at-max means more replicas were wanted than maxReplicas allows; " +
				"pending-pods means pods of the last scale-up still wait for a node.",
			Queries: []Query{{Expr: "sum by (reason, direction) (" + rate(ScalerDecisions, t()) + ")",
				Legend: "{{reason}} ({{direction}})"}}},
		{Title: "Scale changes by reason",
			Description: "Only the decisions that changed the replica count (up or down), per rate interval: each bump is one change.",
			Queries: []Query{{Expr: "sum by (target, reason, direction) (increase(" + ScalerDecisions +
				t(`direction!="none"`) + "[$__rate_interval])) > 0", Legend: "{{target}} {{direction}} {{reason}}"}}},
		{Title: "Guards active", Width: 24, Min: ptr(0.0), Max: ptr(1.0),
			Description: "1 while a guard held or changed the last decision: hpa-conflict (an HPA targets the same " +
				"Deployment), stuck-not-ready, bounds, stale-data, settling (rescale in progress), pending-pods.",
			Queries: []Query{{Expr: "max by (target, guard) (" + ScalerGuardActive + t() + ")", Legend: "{{target}} {{guard}}"}}},
	}
}

func adapterPanels(p func(...string) string) []PanelSpec {
	q := func(phi, m, by string) string {
		return "histogram_quantile(" + phi + ", sum by (" + by + ") (" + rate(m+"_bucket", p()) + "))"
	}
	return []PanelSpec{
		{Title: "Agent scrape duration", Unit: "s", Width: 8,
			Description: "The adapter's scrape of one pod's agent (p50, p99) and of a whole round (p99). Rounds near the scrape interval make data stale.",
			Queries: []Query{
				{Expr: q("0.5", AdapterScrapeDuration, "le"), Legend: "scrape p50"},
				{Expr: q("0.99", AdapterScrapeDuration, "le"), Legend: "scrape p99"},
				{Expr: q("0.99", AdapterRoundDuration, "le"), Legend: "round p99"},
			}},
		{Title: "Agent scrape errors/s by reason", Unit: "ops", Width: 8,
			Description: "Failed scrapes: timeout, connect, status, too_large, parse, invalid, agent_down (the agent cannot read HSDS), query, missing.",
			Queries:     []Query{{Expr: "sum by (reason) (" + rate(AdapterScrapeErrors, p()) + ")", Legend: "{{reason}}"}}},
		{Title: "Pods in store and scraped", Width: 8,
			Description: "Pods matching the selector (Pending included) and pods scraped in the last round (Running with an IP).",
			Queries: []Query{
				{Expr: "max(" + AdapterPods + p() + ")", Legend: "in store"},
				{Expr: "max(" + AdapterTargets + p() + ")", Legend: "scraped"},
			}},
		{Title: "Seconds since last successful round", Unit: "s", Width: 8,
			Description: "Age of the newest complete scrape round per autoscaler pod. More than a few intervals: the store is stale and the scaler holds.",
			Queries:     []Query{{Expr: "time() - " + AdapterLastRound + p(), Legend: "{{pod}}"}}},
		{Title: "Custom-metrics API latency p99 by metric", Unit: "s", Width: 8,
			Description: "How long the provider took to answer custom.metrics.k8s.io requests (from its in-memory store: should stay well under 10 ms).",
			Queries:     []Query{{Expr: q("0.99", AdapterAPIDuration, "le, metric"), Legend: "{{metric}}"}}},
		{Title: "Custom-metrics API requests/s by result", Unit: "reqps", Width: 8,
			Description: "Requests by result: ok, not_found (unknown metric or pod without data), error.",
			Queries: []Query{{Expr: "sum by (result) (" + rate(AdapterAPIDuration+"_count", p()) + ")",
				Legend: "{{result}}"}}},
	}
}
