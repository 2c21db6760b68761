package dashboards

import "fmt"

// Alert names.
const (
	AlertOverload          = "HSDSOverload"
	AlertPodNotReady       = "HSDSPodNotReady"
	AlertAgentDown         = "HSDSAgentDown"
	AlertPendingPods       = "HSDSAutoscalerPendingPods"
	AlertAtMaxReplicas     = "HSDSAutoscalerAtMaxReplicas"
	AlertActuationErrors   = "HSDSAutoscalerActuationErrors"
	AlertAdapterScrapeErrs = "HSDSAdapterScrapeErrors"
	AlertAdapterStale      = "HSDSAdapterStale"
	AlertNoLeader          = "HSDSAutoscalerNoLeader"
)

const overload503 = `{code="503", cause="overload"}`

// Alerts returns every alerting rule, in a fixed order.
func Alerts(o RuleOptions) []Alert {
	return append(hsdsAlerts(o), autoscalerAlerts(o)...)
}

func hsdsAlerts(o RuleOptions) []Alert {
	w := "[" + dur(o.RateWindow) + "]"
	return []Alert{{
		Name: AlertOverload, Severity: SeverityCritical, For: o.OverloadFor,
		Expr:    fmt.Sprintf("sum by (namespace) (rate(%s%s%s)) > %g", AgentResponses, overload503, w, o.OverloadThreshold),
		Summary: "HSDS in {{ $labels.namespace }} rejects requests for overload",
		Description: fmt.Sprintf("The HSDS service nodes in namespace {{ $labels.namespace }} answered more than %g "+
			"overload 503/s (SN task gate above max_task_count) for %s. Clients see failures (POSTs are never "+
			"retried): the autoscaler is not adding capacity fast enough.", o.OverloadThreshold, dur(o.OverloadFor)),
		Response: "Open the hsds-autoscaler dashboard: at-max decisions mean raise maxReplicas; pending replicas " +
			"mean the cluster autoscaler cannot add nodes; guards or no leader mean the scaler is held. " +
			"Scale the Deployment by hand if needed.",
		Test: AlertTest{
			Firing:  []Series{{`hsds_agent_responses_total{namespace="hsds", pod="hsds-0", code="503", cause="overload"}`, "0+300x60"}},
			Healthy: []Series{{`hsds_agent_responses_total{namespace="hsds", pod="hsds-0", code="503", cause="overload"}`, "0+30x60"}},
			Labels:  map[string]string{"namespace": "hsds"},
		},
	}, {
		Name: AlertPodNotReady, Severity: SeverityWarning, For: o.NotReadyFor,
		Expr: "max by (namespace, pod, node) (" + AgentNodeState + `{state="READY"} == 0)` +
			" and on (namespace, pod) (" + AgentUp + " == 1)",
		Summary: "HSDS pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.node }}) stuck not READY",
		Description: "The " + "{{ $labels.node }} node of pod {{ $labels.namespace }}/{{ $labels.pod }} has not been READY " +
			"(WAITING or TERMINATING) for " + dur(o.NotReadyFor) + " while its agent reads it fine: it answers 503 " +
			"to everything. On HSDS 0.9.x this is issue 423 (stuck WAITING after a restart).",
		Response: "Any change of the pod set releases it on 0.9.4 (HSDS issue 423): the scaler's default remedy " +
			"(guards.releaseStuck) changes the replica count by one after guards.stuckNotReady; if it is off or held " +
			"(bounds pinned, settling, Pending pods), delete the pod (kubectl delete pod).",
		Test: AlertTest{
			Firing: []Series{
				{`hsds_agent_node_state{namespace="hsds", pod="hsds-1", node="sn", state="READY"}`, "0x60"},
				{`hsds_agent_node_state{namespace="hsds", pod="hsds-1", node="sn", state="WAITING"}`, "1x60"},
				{`hsds_agent_up{namespace="hsds", pod="hsds-1"}`, "1x60"},
			},
			Healthy: []Series{
				{`hsds_agent_node_state{namespace="hsds", pod="hsds-1", node="sn", state="READY"}`, "1x60"},
				{`hsds_agent_up{namespace="hsds", pod="hsds-1"}`, "1x60"},
			},
			Labels: map[string]string{"namespace": "hsds", "pod": "hsds-1", "node": "sn"},
		},
	}, {
		Name: AlertAgentDown, Severity: SeverityWarning, For: o.AgentDownFor,
		Expr:    "max by (namespace, pod) (" + AgentUp + ") == 0",
		Summary: "hsds-agent in {{ $labels.namespace }}/{{ $labels.pod }} cannot read HSDS",
		Description: "The agent in pod {{ $labels.namespace }}/{{ $labels.pod }} has failed every read of HSDS for " +
			dur(o.AgentDownFor) + ": the pod's figures are missing and the autoscaler treats them as stale.",
		Response: "Check the agent's scrape errors by reason on the HSDS load dashboard and its --sn-url; " +
			"a connect error usually means the sn container is down.",
		Test: AlertTest{
			Firing:  []Series{{`hsds_agent_up{namespace="hsds", pod="hsds-2", instance="a"}`, "0x60"}},
			Healthy: []Series{{`hsds_agent_up{namespace="hsds", pod="hsds-2", instance="a"}`, "1x60"}},
			Labels:  map[string]string{"namespace": "hsds", "pod": "hsds-2"},
		},
	}}
}
