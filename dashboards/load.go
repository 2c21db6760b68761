package dashboards

// UIDs of the generated dashboards.
const (
	UIDLoad       = "hsds-load"
	UIDAutoscaler = "hsds-autoscaler"
)

func rate(metric, matchers string) string { return "rate(" + metric + matchers + "[$__rate_interval])" }

// LoadSpec is the "HSDS load" dashboard: what the HSDS pods see, from hsds-agent's metrics.
func LoadSpec() Spec {
	s := func(extra ...string) string { return sel([]string{"namespace", "pod"}, extra...) }
	return Spec{
		UID:   UIDLoad,
		Title: "HSDS load",
		Description: "What every HSDS pod sees, from hsds-agent: 503s by cause, in-flight tasks against " +
			"max_task_count, request rate, offered load, node states and the agent's own scrape health.",
		Tags: []string{"hsds", "hsds-autoscaler"},
		Variables: []Variable{datasourceVariable(),
			queryVariable("namespace", "Namespace", AgentUp, "namespace"),
			queryVariable("pod", "Pod", AgentUp+`{namespace=~"$namespace"}`, "pod")},
		Rows: []RowSpec{
			{Title: "Overview", Panels: loadOverview(s)},
			{Title: "503s", Panels: load503(s)},
			{Title: "Load", Panels: loadLoad(s)},
			{Title: "Nodes", Panels: loadNodes(s)},
			{Title: "Agent scrape health", Panels: loadAgent(s)},
		},
	}
}

func loadOverview(s func(...string) string) []PanelSpec {
	return []PanelSpec{
		{Title: "Pods reporting", Kind: KindStat, Width: 4,
			Description: "HSDS pods whose agent Prometheus scrapes. Compare with the Deployment's replicas.",
			Queries:     []Query{{Expr: "count(" + AgentUp + s() + ")", Legend: "pods"}}},
		{Title: "503/s (all causes)", Kind: KindStat, Width: 4, Unit: "reqps",
			Description: "Client-facing 503s per second at the service nodes. Anything above 0 is a user-visible failure (POSTs are never retried).",
			Queries:     []Query{{Expr: "sum(" + rate(AgentResponses, s(`code="503"`)) + ")", Legend: "503/s"}}},
		{Title: "Overload 503/s", Kind: KindStat, Width: 4, Unit: "reqps",
			Description: "503s from the SN task gate (more than max_task_count tasks): the only 503s more replicas fix.",
			Queries:     []Query{{Expr: "sum(" + rate(AgentResponses, s(`code="503"`, `cause="overload"`)) + ")", Legend: "overload"}}},
		{Title: "Max utilization", Kind: KindStat, Width: 4, Unit: "percentunit",
			Description: "Highest in-flight / max_task_count over the pods. Near 100% the gate rejects.",
			Queries:     []Query{{Expr: "max(" + AgentInFlight + s() + " / " + AgentInFlightLimit + s() + ")", Legend: "max"}}},
		{Title: "Pods not READY", Kind: KindStat, Width: 4,
			Description: "Pods whose SN or DN is not READY (WAITING or TERMINATING). Those pods answer 503 to everything.",
			Queries: []Query{{Expr: "count(max by (namespace, pod) (" + AgentNodeState + s(`state="READY"`) + " == 0)) or vector(0)",
				Legend: "not READY"}}},
		{Title: "Agents failing to read HSDS", Kind: KindStat, Width: 4,
			Description: "Pods whose agent's last read of HSDS failed (hsds_agent_up == 0): their figures are missing.",
			Queries:     []Query{{Expr: "count(" + AgentUp + s() + " == 0) or vector(0)", Legend: "down"}}},
	}
}

func load503(s func(...string) string) []PanelSpec {
	return []PanelSpec{
		{Title: "503/s by cause", Stack: true, Unit: "reqps",
			Description: "overload: the SN task gate (scale up helps). not_ready: the SN or roster not READY " +
				"(a rescale gives ~10 s of these; longer means a stuck pod). upstream: DN 503s or SN->DN timeouts " +
				"passed through. The split is exact only where hsds_agent_info{exact=\"true\"}.",
			Queries: []Query{{Expr: "sum by (cause) (" + rate(AgentResponses, s(`code="503"`)) + ")", Legend: "{{cause}}"}}},
		{Title: "503/s by pod and cause", Unit: "reqps",
			Description: "Which pods reject. Overload on a few pods only points at uneven load (sticky clients) rather than too few pods.",
			Queries: []Query{{Expr: "sum by (pod, cause) (" + rate(AgentResponses, s(`code="503"`)) + ")",
				Legend: "{{pod}} {{cause}}"}}},
	}
}

func loadLoad(s func(...string) string) []PanelSpec {
	return []PanelSpec{
		{Title: "Offered load (served + rejected)", Stack: true, Unit: "reqps",
			Description: "Served (non-503) and rejected (503) responses per second, stacked: the top is the offered load. " +
				"Clients back off on 503 (h5pyd: 2, 4, 8 ... s), so rejected understates demand after the first seconds.",
			Queries: []Query{
				{Expr: "sum(" + rate(AgentResponses, s(`code!="503"`)) + ")", Legend: "served"},
				{Expr: "sum(" + rate(AgentResponses, s(`code="503"`)) + ")", Legend: "rejected"},
			}},
		{Title: "Request rate by pod", Unit: "reqps",
			Description: "Responses per second per pod, every status. Uneven lines mean uneven client spread.",
			Queries:     []Query{{Expr: "sum by (pod) (" + rate(AgentResponses, s()) + ")", Legend: "{{pod}}"}}},
		{Title: "In flight against the limit, per pod",
			Description: "What the SN task gate counts (tasks, not requests: idle keep-alive connections and " +
				"16 x dn_count chunk workers per request count) against max_task_count (dashed). Touching the limit means 503s.",
			Queries: []Query{
				{Expr: AgentInFlight + s(), Legend: "{{pod}} in flight"},
				{Expr: AgentInFlightLimit + s(), Legend: "{{pod}} limit"},
			},
			Overrides: []Override{dashedOverride(".* limit")}},
		{Title: "Utilization per pod (in flight / limit)", Unit: "percentunit", Min: ptr(0.0),
			Description: "In flight / max_task_count. The per-request capacity shrinks as dn_count grows, so utilization rises with the cluster size at equal demand.",
			Queries:     []Query{{Expr: AgentInFlight + s() + " / " + AgentInFlightLimit + s(), Legend: "{{pod}}"}}},
		{Title: "Responses/s by code", Stack: true, Unit: "reqps", Width: 24,
			Description: "Every response by status code (\"other\": HSDS 0.9.x cannot tell the status).",
			Queries:     []Query{{Expr: "sum by (code) (" + rate(AgentResponses, s()) + ")", Legend: "{{code}}"}}},
	}
}

func loadNodes(s func(...string) string) []PanelSpec {
	return []PanelSpec{
		{Title: "Node states",
			Description: "Pods per node type (sn, dn) and state. HSDS 1.x sources export READY only; \"not READY\" " +
				"counts pods whose node is WAITING or TERMINATING. Not READY for more than a rescale (~10 s) " +
				"while the pod runs is HSDS issue 423: restart the container.",
			Queries: []Query{
				{Expr: "sum by (node, state) (" + AgentNodeState + s() + ")", Legend: "{{node}} {{state}}"},
				{Expr: "count by (node) (" + AgentNodeState + s(`state="READY"`) + " == 0)", Legend: "{{node}} not READY"},
			}},
		{Title: "Node count (as each node sees it)",
			Description: "HSDS node_count per pod against the pods reporting (dashed). Disagreement means the roster has not converged (503s not_ready).",
			Queries: []Query{
				{Expr: AgentNodeCount + s(), Legend: "{{pod}}"},
				{Expr: "count(" + AgentUp + s() + ")", Legend: "pods reporting"},
			},
			Overrides: []Override{dashedOverride("pods reporting")}},
	}
}

func loadAgent(s func(...string) string) []PanelSpec {
	return []PanelSpec{
		{Title: "Agent up", Width: 8, Min: ptr(0.0), Max: ptr(1.0),
			Description: "1 when the agent's last read of HSDS succeeded. 0: the pod's figures are missing, the autoscaler treats it as stale.",
			Queries:     []Query{{Expr: AgentUp + s(), Legend: "{{pod}}"}}},
		{Title: "Agent read duration", Width: 8, Unit: "s",
			Description: "How long the agent's last read of HSDS took. Near the agent's --timeout (1 s) reads start failing with reason timeout.",
			Queries:     []Query{{Expr: AgentScrapeDuration + s(), Legend: "{{pod}}"}}},
		{Title: "Agent read errors/s by reason", Width: 8, Unit: "ops",
			Description: "Failed reads of HSDS: timeout, connect, status, parse, invalid, too_large.",
			Queries: []Query{{Expr: "sum by (pod, reason) (" + rate(AgentScrapeErrors, s()) + ") > 0",
				Legend: "{{pod}} {{reason}}"}}},
		{Title: "Agent source and HSDS version", Kind: KindTable, Width: 24,
			Description: "Per pod: the agent's source (metrics, info, proxy), whether its 503 split is exact, and HSDS's version.",
			Queries:     []Query{{Expr: AgentInfo + s(), Legend: ""}}},
	}
}
