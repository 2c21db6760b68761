package dashboards

import "fmt"

func autoscalerAlerts(o RuleOptions) []Alert {
	w := "[" + dur(o.RateWindow) + "]"
	return []Alert{{
		Name: AlertPendingPods, Severity: SeverityWarning, For: o.PendingFor,
		Expr:    "max by (target) (" + ScalerPending + ") > 0",
		Summary: "{{ $labels.target }}: HSDS pods Pending for " + dur(o.PendingFor),
		Description: "Pods of {{ $labels.target }} have stayed Pending longer than the cluster autoscaler's node " +
			"provisioning timeout (" + dur(o.PendingFor) + "): the scale-up cannot be placed and the scaler holds " +
			"further scale-ups (guard pending-pods).",
		Response: "kubectl describe the Pending pods: check node-group limits, quotas and the cluster autoscaler's " +
			"events; lower resource requests or add capacity.",
		Test: AlertTest{
			Firing:  []Series{{`hsds_scaler_pending_replicas{target="hsds/hsds"}`, "2x60"}},
			Healthy: []Series{{`hsds_scaler_pending_replicas{target="hsds/hsds"}`, "0x60"}},
			Labels:  map[string]string{"target": "hsds/hsds"},
		},
	}, {
		Name: AlertAtMaxReplicas, Severity: SeverityWarning, For: o.AtMaxFor,
		Expr: fmt.Sprintf(`label_replace(sum by (target) (rate(%s{reason="at-max"}%s)), "namespace", "$1", "target", "([^/]+)/.*") > 0`+
			" and on (namespace) (sum by (namespace) (rate(%s%s%s)) > 0)", ScalerDecisions, w, AgentResponses, overload503, w),
		Summary: "{{ $labels.target }} is at maxReplicas while overloaded",
		Description: "The scaler wants more replicas for {{ $labels.target }} but maxReplicas is reached " +
			"(decisions at-max) while the HSDS pods reject requests for overload, for " + dur(o.AtMaxFor) + ".",
		Response: "Raise maxReplicas in the policy if the cluster can hold more pods, or raise max_task_count " +
			"if the pods have headroom; otherwise the overload is expected.",
		Test: AlertTest{
			Firing: []Series{
				{`hsds_scaler_decisions_total{namespace="hsds-system", target="hsds/hsds", reason="at-max", direction="none"}`, "0+6x60"},
				{`hsds_agent_responses_total{namespace="hsds", pod="hsds-0", code="503", cause="overload"}`, "0+60x60"},
			},
			Healthy: []Series{
				{`hsds_scaler_decisions_total{namespace="hsds-system", target="hsds/hsds", reason="at-max", direction="none"}`, "0+6x60"},
				{`hsds_agent_responses_total{namespace="hsds", pod="hsds-0", code="503", cause="overload"}`, "0x60"},
			},
			Labels: map[string]string{"target": "hsds/hsds", "namespace": "hsds"},
		},
	}, {
		Name: AlertActuationErrors, Severity: SeverityWarning, For: o.ActuationFor,
		Expr:    "sum by (target, op) (rate(" + ScalerActuationErrors + w + ")) > 0",
		Summary: "{{ $labels.target }}: the scaler cannot {{ $labels.op }}",
		Description: "Reads or writes of the scale subresource (or pod deletions) for {{ $labels.target }} have " +
			"failed for " + dur(o.ActuationFor) + " (operation {{ $labels.op }}): decisions are not applied.",
		Response: "Read the autoscaler's logs and Events; check its RBAC (deployments/scale get and patch) and " +
			"the API server's health.",
		Test: AlertTest{
			Firing:  []Series{{`hsds_scaler_actuation_errors_total{target="hsds/hsds", op="patch"}`, "0+1x60"}},
			Healthy: []Series{{`hsds_scaler_actuation_errors_total{target="hsds/hsds", op="patch"}`, "0x60"}},
			Labels:  map[string]string{"target": "hsds/hsds", "op": "patch"},
		},
	}, {
		Name: AlertAdapterScrapeErrs, Severity: SeverityWarning, For: o.AdapterErrorsFor,
		Expr: fmt.Sprintf(`sum by (namespace, pod) (rate(%s{reason!="agent_down"}%s)) / sum by (namespace, pod) (rate(%s_count%s)) > %g`,
			AdapterScrapeErrors, w, AdapterScrapeDuration, w, o.AdapterErrorRatio),
		Summary: "hsds-autoscaler {{ $labels.namespace }}/{{ $labels.pod }} fails to scrape the agents",
		Description: fmt.Sprintf("More than %g%% of the adapter's scrapes of hsds-agent failed for %s (agent_down "+
			"excluded: HSDSAgentDown covers it). Pods without fresh data hold scale-downs.", 100*o.AdapterErrorRatio, dur(o.AdapterErrorsFor)),
		Response: "See the adapter's scrape errors by reason on the hsds-autoscaler dashboard: connect/timeout " +
			"point at network policy or the agent port, parse/invalid at an agent version mismatch.",
		Test: AlertTest{
			Firing: []Series{
				{`hsds_adapter_scrape_errors_total{namespace="hsds-system", pod="as-0", reason="timeout"}`, "0+30x60"},
				{`hsds_adapter_scrape_duration_seconds_count{namespace="hsds-system", pod="as-0"}`, "0+60x60"},
			},
			Healthy: []Series{
				{`hsds_adapter_scrape_errors_total{namespace="hsds-system", pod="as-0", reason="agent_down"}`, "0+30x60"},
				{`hsds_adapter_scrape_duration_seconds_count{namespace="hsds-system", pod="as-0"}`, "0+60x60"},
			},
			Labels: map[string]string{"namespace": "hsds-system", "pod": "as-0"},
		},
	}, {
		Name: AlertAdapterStale, Severity: SeverityWarning, For: o.AdapterStaleFor,
		Expr: fmt.Sprintf("max by (namespace, pod) (time() - %s) > %d", AdapterLastRound,
			int64(o.AdapterStaleAfter.Seconds())),
		Summary: "hsds-autoscaler {{ $labels.namespace }}/{{ $labels.pod }} has no fresh scrape round",
		Description: "The adapter's last complete scrape round ended more than " + dur(o.AdapterStaleAfter) +
			" ago, for " + dur(o.AdapterStaleFor) + ": the custom metrics and the scaler's data are stale.",
		Response: "Check the autoscaler pod's logs and CPU; a round slower than the scrape interval points at " +
			"too many pods or slow agents (see the scrape duration panel).",
		Test: AlertTest{
			Firing:  []Series{{`hsds_adapter_last_successful_round_timestamp_seconds{namespace="hsds-system", pod="as-0"}`, "0x60"}},
			Healthy: []Series{{`hsds_adapter_last_successful_round_timestamp_seconds{namespace="hsds-system", pod="as-0"}`, "0+60x60"}},
			Labels:  map[string]string{"namespace": "hsds-system", "pod": "as-0"},
		},
	}, {
		Name: AlertNoLeader, Severity: SeverityCritical, For: o.NoLeaderFor,
		Expr:    "(sum(" + ScalerLeader + ") or vector(0)) == 0",
		Summary: "No hsds-autoscaler replica is leader",
		Description: "No hsds-autoscaler replica has held the leader lease for " + dur(o.NoLeaderFor) +
			" (or none is scraped): nobody scales HSDS.",
		Response: "Check that the autoscaler pods run and can get/update their Lease (RBAC on " +
			"coordination.k8s.io leases), and that Prometheus scrapes them.",
		Test: AlertTest{
			Firing: []Series{
				{`hsds_scaler_leader{namespace="hsds-system", pod="as-0"}`, "0x60"},
				{`hsds_scaler_leader{namespace="hsds-system", pod="as-1"}`, "0x60"},
			},
			Healthy: []Series{
				{`hsds_scaler_leader{namespace="hsds-system", pod="as-0"}`, "1x60"},
				{`hsds_scaler_leader{namespace="hsds-system", pod="as-1"}`, "0x60"},
			},
			Labels: map[string]string{},
		},
	}}
}
