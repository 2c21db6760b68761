package scaler

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the controller's Prometheus metrics (prefix hsds_scaler_), shared by every target's
// controller (label `target` is "namespace/name"). Every name is listed in docs/operations.md.
type Metrics struct {
	desired, current, ready, pending *prometheus.GaugeVec
	decisions                        *prometheus.CounterVec
	guard                            *prometheus.GaugeVec
	lastDecision                     *prometheus.GaugeVec
	actuationErrors                  *prometheus.CounterVec
	dryRun                           *prometheus.CounterVec
	stuck                            *prometheus.GaugeVec
	stuckDeleted                     *prometheus.CounterVec
	stuckReleases                    *prometheus.CounterVec
	leader                           prometheus.Gauge
}

// Metric names.
const (
	MetricDesiredReplicas   = "hsds_scaler_desired_replicas"
	MetricCurrentReplicas   = "hsds_scaler_current_replicas"
	MetricReadyReplicas     = "hsds_scaler_ready_replicas"
	MetricPendingReplicas   = "hsds_scaler_pending_replicas"
	MetricDecisions         = "hsds_scaler_decisions_total"
	MetricGuardActive       = "hsds_scaler_guard_active"
	MetricLastDecision      = "hsds_scaler_last_decision_timestamp_seconds"
	MetricActuationErrors   = "hsds_scaler_actuation_errors_total"
	MetricDryRunActions     = "hsds_scaler_dry_run_actions_total"
	MetricStuckPods         = "hsds_scaler_stuck_pods"
	MetricStuckPodsDeleted  = "hsds_scaler_stuck_pods_deleted_total"
	MetricStuckReleases     = "hsds_scaler_stuck_releases_total"
	MetricLeader            = "hsds_scaler_leader"
	labelTarget, labelGuard = "target", "guard"
)

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		desired:         gauge(MetricDesiredReplicas, "Replica count the controller wants after guards.", labelTarget),
		current:         gauge(MetricCurrentReplicas, "spec.replicas of the target's scale subresource.", labelTarget),
		ready:           gauge(MetricReadyReplicas, "Pods Running, Ready and with their HSDS node READY (capacity).", labelTarget),
		pending:         gauge(MetricPendingReplicas, "Pods in phase Pending (scheduled or not).", labelTarget),
		decisions:       counter(MetricDecisions, "Decisions by final reason and direction (up, down, none).", labelTarget, "reason", "direction"),
		guard:           gauge(MetricGuardActive, "1 while a guard holds or changed the last decision, else 0.", labelTarget, labelGuard),
		lastDecision:    gauge(MetricLastDecision, "Unix time of the last decision (every tick that reached one).", labelTarget),
		actuationErrors: counter(MetricActuationErrors, "Failed reads or writes of the scale subresource or pod deletions.", labelTarget, "op"),
		dryRun:          counter(MetricDryRunActions, "Changes the controller would have written in dry-run.", labelTarget, "direction"),
		stuck:           gauge(MetricStuckPods, "Pods Running but not READY for longer than guards.stuckNotReady.", labelTarget),
		stuckDeleted:    counter(MetricStuckPodsDeleted, "Stuck pods deleted by the opt-in remedy.", labelTarget),
		stuckReleases:   counter(MetricStuckReleases, "Replica changes made by the remedy guards.releaseStuck to release stuck pods.", labelTarget),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricLeader, Help: "1 while this replica holds the leader lease (or runs without leader election).",
		}),
	}
	for _, c := range []prometheus.Collector{m.desired, m.current, m.ready, m.pending, m.decisions, m.guard,
		m.lastDecision, m.actuationErrors, m.dryRun, m.stuck, m.stuckDeleted, m.stuckReleases, m.leader} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register scaler metrics: %w", err)
		}
	}
	return m, nil
}

// SetLeader sets hsds_scaler_leader.
func (m *Metrics) SetLeader(leader bool) {
	if m == nil {
		return
	}
	m.leader.Set(b2f(leader))
}

func (m *Metrics) observe(target string, o Outcome) {
	if m == nil {
		return
	}
	m.current.WithLabelValues(target).Set(float64(o.Current))
	m.desired.WithLabelValues(target).Set(float64(o.Desired))
	m.ready.WithLabelValues(target).Set(float64(o.Ready))
	m.pending.WithLabelValues(target).Set(float64(o.Pending))
	m.stuck.WithLabelValues(target).Set(float64(len(o.Stuck)))
	active := make(map[string]bool, len(o.Guards))
	for _, g := range o.Guards {
		active[g] = true
	}
	for _, g := range AllGuards {
		m.guard.WithLabelValues(target, g).Set(b2f(active[g]))
	}
	m.decisions.WithLabelValues(target, o.Reason, o.Direction).Inc()
	m.lastDecision.WithLabelValues(target).Set(float64(o.Time.UnixNano()) / float64(time.Second))
	if o.DryRun && o.Direction != "none" {
		m.dryRun.WithLabelValues(target, o.Direction).Inc()
	}
	if o.DeletedPod != "" {
		m.stuckDeleted.WithLabelValues(target).Inc()
	}
	if o.Released {
		m.stuckReleases.WithLabelValues(target).Inc()
	}
}

func (m *Metrics) actuationError(target, op string) {
	if m == nil {
		return
	}
	m.actuationErrors.WithLabelValues(target, op).Inc()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
