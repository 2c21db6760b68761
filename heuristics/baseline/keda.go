package baseline

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Decision codes of the KEDA baseline's own scale-to/from-zero loop.
const (
	CodeKEDAActivate = "keda-activate" // 0 -> 1: a trigger became active
	CodeKEDACooldown = "keda-cooldown" // -> 0: no trigger active for cooldownPeriod
)

// KEDAConfig is the "keda" baseline: HSDS's design document's ScaledObject with two Prometheus
// triggers, sum(rate(hsds_http_requests_total{status="503"}[2m])) (threshold 1) and
// max(hsds_tasks_active / hsds_tasks_max) (threshold 0.8). KEDA's prometheus scaler serves each
// as an External metric with metricType AverageValue (its default), so the HPA computes
// ceil(value / threshold) per trigger and takes the max. Defaults are KEDA's (keda.sh
// ScaledObject spec: pollingInterval 30, cooldownPeriod 300) and the recipe's.
type KEDAConfig struct {
	// MinReplicas is minReplicaCount (0 enables KEDA's scale to zero); the HPA KEDA creates gets
	// max(1, MinReplicas). MaxReplicas is maxReplicaCount.
	MinReplicas int32 `json:"minReplicas"`
	MaxReplicas int32 `json:"maxReplicas"`
	// RateThreshold: threshold of the 503-rate trigger (503/s), recipe 1.
	RateThreshold float64 `json:"rateThreshold"`
	// UtilizationThreshold: threshold of the tasks_active/tasks_max trigger, recipe 0.8.
	UtilizationThreshold float64 `json:"utilizationThreshold"`
	// PollingInterval: KEDA's activation check (0 <-> 1), default 30s. With the HPA's default
	// metrics path (no useCachedMetrics) the HPA reads the triggers on its own 15 s sync.
	PollingInterval heuristics.Duration `json:"pollingInterval"`
	// CooldownPeriod: wait after the last active trigger before scaling to 0, default 300s. It
	// applies only to scale to zero (minReplicaCount 0); 1 <-> N is the HPA's.
	CooldownPeriod heuristics.Duration `json:"cooldownPeriod"`
	// ScrapeInterval and RateWindow: Prometheus scrape interval (30s) and the 2m range of rate().
	ScrapeInterval heuristics.Duration `json:"scrapeInterval"`
	RateWindow     heuristics.Duration `json:"rateWindow"`
	// MaxSampleAge: a pod whose exposed figures (PodSample.Exposed) are older than this at its
	// scrape instant counts as a failed scrape.
	MaxSampleAge heuristics.Duration `json:"maxSampleAge"`
	// Tolerance and SyncPeriod of the HPA KEDA creates (upstream 0.1 and 15s).
	Tolerance  float64             `json:"tolerance"`
	SyncPeriod heuristics.Duration `json:"syncPeriod"`
	// Behavior: the recipe sets advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.
	// stabilizationWindowSeconds 300; the API defaults fill the rest.
	Behavior HPABehavior `json:"behavior"`
}

// DefaultKEDAConfig returns the recipe with bounds [1, 10].
func DefaultKEDAConfig() KEDAConfig {
	b := DefaultHPABehavior()
	b.ScaleDown.StabilizationWindowSeconds = 300
	return KEDAConfig{
		MinReplicas: 1, MaxReplicas: 10,
		RateThreshold: 1, UtilizationThreshold: 0.8,
		PollingInterval: heuristics.D(30 * time.Second), CooldownPeriod: heuristics.D(300 * time.Second),
		ScrapeInterval: heuristics.D(30 * time.Second), RateWindow: heuristics.D(2 * time.Minute), MaxSampleAge: heuristics.D(60 * time.Second),
		Tolerance: 0.1, SyncPeriod: heuristics.D(15 * time.Second), Behavior: b,
	}
}

// Validate reports every problem, each naming its field.
func (c KEDAConfig) Validate() error {
	errs := validateBounds(c.MinReplicas, c.MaxReplicas, 0)
	errs = append(errs, validatePositive("rateThreshold", c.RateThreshold, "utilizationThreshold", c.UtilizationThreshold,
		"pollingInterval", c.PollingInterval, "scrapeInterval", c.ScrapeInterval, "rateWindow", c.RateWindow,
		"maxSampleAge", c.MaxSampleAge, "syncPeriod", c.SyncPeriod)...)
	if c.CooldownPeriod.Duration < 0 {
		errs = append(errs, fmt.Errorf("cooldownPeriod: must be >= 0, got %s", c.CooldownPeriod.Duration))
	}
	if c.Tolerance < 0 || c.Tolerance >= 1 {
		errs = append(errs, fmt.Errorf("tolerance: must be in [0, 1), got %g", c.Tolerance))
	}
	errs = append(errs, c.Behavior.ScaleUp.validate("behavior.scaleUp"), c.Behavior.ScaleDown.validate("behavior.scaleDown"))
	return errors.Join(errs...)
}

// KEDA is the "keda" baseline.
type KEDA struct {
	cfg        KEDAConfig
	norm       *hpaNormalizer
	errors503  *prometheus
	tasks      *prometheus
	sync, poll ticker
	lastActive time.Time
}

var _ heuristics.Recommender = (*KEDA)(nil)

// promLookback is Prometheus' default query lookback delta for instant vectors.
const promLookback = 5 * time.Minute

// NewKEDA validates cfg and returns the baseline with empty history.
func NewKEDA(cfg KEDAConfig) (*KEDA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("keda config: %w", err)
	}
	retention := cfg.RateWindow.Duration + cfg.ScrapeInterval.Duration
	return &KEDA{
		cfg:       cfg,
		norm:      &hpaNormalizer{behavior: cfg.Behavior, min: max(1, cfg.MinReplicas), max: cfg.MaxReplicas},
		errors503: newPrometheus(cfg.ScrapeInterval.Duration, retention, cfg.MaxSampleAge.Duration, total503),
		tasks: newPrometheus(cfg.ScrapeInterval.Duration, promLookback, cfg.MaxSampleAge.Duration,
			func(e heuristics.Exposition) (float64, bool) {
				if e.Limit <= 0 {
					return math.NaN(), true // tasks_active / 0: Prometheus yields NaN (or +Inf); max() skips NaN
				}
				return e.InFlight / e.Limit, true
			}),
		sync: ticker{period: cfg.SyncPeriod.Duration},
		poll: ticker{period: cfg.PollingInterval.Duration},
	}, nil
}

// Name implements heuristics.Recommender.
func (k *KEDA) Name() string { return "keda" }

// triggers evaluates both queries at now: the cluster-wide 503 rate (sum over every series of
// rate(), those of pods that left within the range included: the query has no pod filter) and
// the max per-pod task utilization (instant vectors: a departed pod's series is stale).
func (k *KEDA) triggers(snap heuristics.Snapshot, now time.Time) (rate, util float64) {
	util = math.NaN()
	rate, _ = k.errors503.sumRate(now, k.cfg.RateWindow.Duration) // empty result: 0 (ignoreNullValues)
	for _, p := range snap.Pods {
		if u, ok := k.tasks.latest(p.Name, now, promLookback); ok && !math.IsNaN(u) && (math.IsNaN(util) || u > util) {
			util = u
		}
	}
	if math.IsNaN(util) {
		util = 0 // empty result: KEDA's prometheus scaler returns 0 (ignoreNullValues defaults to true)
	}
	return rate, util
}

// Recommend implements heuristics.Recommender.
func (k *KEDA) Recommend(snap heuristics.Snapshot) heuristics.Decision {
	now := snap.Time
	if now.IsZero() {
		return noTime(snap)
	}
	k.errors503.scrape(snap, now)
	k.tasks.scrape(snap, now)
	cur := snap.SpecReplicas
	rate, util := k.triggers(snap, now)
	msg := fmt.Sprintf("503 rate %.3f/s (threshold %g), max utilization %.3f (threshold %g)",
		rate, k.cfg.RateThreshold, util, k.cfg.UtilizationThreshold)
	if k.poll.due(now) {
		if d, ok := k.activation(cur, rate > 0 || util > 0, now, msg); ok {
			return d
		}
	}
	if cur == 0 || !k.sync.due(now) {
		return heuristics.Decision{Valid: true, Current: cur, Replicas: cur, Reason: CodeBetweenSyncs, Message: msg}
	}
	status := snap.StatusReplicas
	p1 := externalPerPodReplicas(status, milli(rate), milli(k.cfg.RateThreshold), k.cfg.Tolerance)
	p2 := externalPerPodReplicas(status, milli(util), milli(k.cfg.UtilizationThreshold), k.cfg.Tolerance)
	to, reason := k.norm.reconcile(now, cur, max(p1, p2))
	return heuristics.Decision{Valid: true, Current: cur, Replicas: to, Reason: reason,
		Message: fmt.Sprintf("%s; proposals %d, %d", msg, p1, p2)}
}

// activation is KEDA's scale executor for minReplicaCount 0 (activationThreshold 0: a trigger is
// active when its value is > 0): 0 -> 1 when active; -> 0 when inactive and the last active
// time is unset or more than cooldownPeriod ago.
func (k *KEDA) activation(cur int32, active bool, now time.Time, msg string) (heuristics.Decision, bool) {
	if active {
		k.lastActive = now
	}
	if k.cfg.MinReplicas != 0 {
		return heuristics.Decision{}, false
	}
	switch {
	case cur == 0 && active:
		return heuristics.Decision{Valid: true, Current: cur, Replicas: 1, Reason: CodeKEDAActivate, Message: msg}, true
	case cur > 0 && !active && (k.lastActive.IsZero() || now.Sub(k.lastActive) > k.cfg.CooldownPeriod.Duration):
		return heuristics.Decision{Valid: true, Current: cur, Replicas: 0, Reason: CodeKEDACooldown, Message: msg}, true
	}
	return heuristics.Decision{}, false
}
