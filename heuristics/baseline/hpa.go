package baseline

import (
	"errors"
	"fmt"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Decision codes shared by the baselines (Decision.Reason).
const (
	CodeMetrics      = "metrics"       // the baseline's algorithm ran on fresh metrics
	CodeBetweenSyncs = "between-syncs" // not a sync/tick instant of the baseline: no change
	CodeNoMetrics    = "no-metrics"    // the baseline has no metric to act on (Valid=false)
	CodeBounds       = "bounds"        // the emulated HPA's (or KEDA's, KPA's) own min/max clamp
	// A snapshot without Time gets heuristics.CodeInvalid (Valid=false).
)

// HPAConfig is the "hpa-prometheus-adapter" baseline: an autoscaling/v2 HPA on the Pods metric
// rate(hsds_http_requests_total{status="503"}[2m]) served by prometheus-adapter, target
// averageValue 1, as HSDS's design document recommends. Every default is upstream's.
type HPAConfig struct {
	MinReplicas int32 `json:"minReplicas"`
	MaxReplicas int32 `json:"maxReplicas"`
	// TargetAverageValue is the per-pod target of the 503 rate (503/s); HSDS's doc: 1.
	TargetAverageValue float64 `json:"targetAverageValue"`
	// Tolerance: kube-controller-manager --horizontal-pod-autoscaler-tolerance, default 0.1.
	Tolerance float64 `json:"tolerance"`
	// SyncPeriod: --horizontal-pod-autoscaler-sync-period, default 15s.
	SyncPeriod heuristics.Duration `json:"syncPeriod"`
	// ScrapeInterval: the Prometheus scrape interval of the recipe, 30s.
	ScrapeInterval heuristics.Duration `json:"scrapeInterval"`
	// RateWindow: the range of rate() in the adapter's query, 2m.
	RateWindow heuristics.Duration `json:"rateWindow"`
	// MaxSampleAge: a pod whose exposed figures (PodSample.Exposed) are older than this at its
	// scrape instant counts as a failed scrape.
	MaxSampleAge heuristics.Duration `json:"maxSampleAge"`
	// Behavior: the HPA's spec.behavior; default is the API's defaulting.
	Behavior HPABehavior `json:"behavior"`
}

// DefaultHPAConfig returns the recipe with upstream defaults and bounds [1, 10].
func DefaultHPAConfig() HPAConfig {
	return HPAConfig{
		MinReplicas: 1, MaxReplicas: 10,
		TargetAverageValue: 1, Tolerance: 0.1,
		SyncPeriod: heuristics.D(15 * time.Second), ScrapeInterval: heuristics.D(30 * time.Second), RateWindow: heuristics.D(2 * time.Minute),
		MaxSampleAge: heuristics.D(60 * time.Second),
		Behavior:     DefaultHPABehavior(),
	}
}

func validateBounds(min, max int32, minFloor int32) []error {
	var errs []error
	if min < minFloor {
		errs = append(errs, fmt.Errorf("minReplicas: must be >= %d, got %d", minFloor, min))
	}
	if max < 1 || max < min {
		errs = append(errs, fmt.Errorf("maxReplicas: must be >= 1 and >= minReplicas (%d), got %d", min, max))
	}
	return errs
}

func validatePositive(pairs ...any) []error {
	var errs []error
	for i := 0; i+1 < len(pairs); i += 2 {
		name := pairs[i].(string)
		switch v := pairs[i+1].(type) {
		case heuristics.Duration:
			if v.Duration <= 0 {
				errs = append(errs, fmt.Errorf("%s: must be > 0, got %s", name, v.Duration))
			}
		case float64:
			if !(v > 0) {
				errs = append(errs, fmt.Errorf("%s: must be > 0, got %g", name, v))
			}
		}
	}
	return errs
}

// Validate reports every problem, each naming its field.
func (c HPAConfig) Validate() error {
	errs := validateBounds(c.MinReplicas, c.MaxReplicas, 1)
	errs = append(errs, validatePositive("targetAverageValue", c.TargetAverageValue, "syncPeriod", c.SyncPeriod,
		"scrapeInterval", c.ScrapeInterval, "rateWindow", c.RateWindow, "maxSampleAge", c.MaxSampleAge)...)
	if c.Tolerance < 0 || c.Tolerance >= 1 {
		errs = append(errs, fmt.Errorf("tolerance: must be in [0, 1), got %g", c.Tolerance))
	}
	errs = append(errs, c.Behavior.ScaleUp.validate("behavior.scaleUp"), c.Behavior.ScaleDown.validate("behavior.scaleDown"))
	return errors.Join(errs...)
}

// ticker fires on a fixed grid started by its first call.
type ticker struct {
	period time.Duration
	next   time.Time
}

// due reports whether a tick falls in (previous call, now] and advances the grid past now.
func (t *ticker) due(now time.Time) bool {
	if !t.next.IsZero() && now.Before(t.next) {
		return false
	}
	if t.next.IsZero() {
		t.next = now
	}
	for !t.next.After(now) {
		t.next = t.next.Add(t.period)
	}
	return true
}

// HPA is the "hpa-prometheus-adapter" baseline.
type HPA struct {
	cfg  HPAConfig
	norm *hpaNormalizer
	prom *prometheus
	sync ticker
}

var _ heuristics.Recommender = (*HPA)(nil)

// NewHPA validates cfg and returns the baseline with empty history.
func NewHPA(cfg HPAConfig) (*HPA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hpa config: %w", err)
	}
	return &HPA{
		cfg:  cfg,
		norm: &hpaNormalizer{behavior: cfg.Behavior, min: cfg.MinReplicas, max: cfg.MaxReplicas},
		prom: newPrometheus(cfg.ScrapeInterval.Duration, cfg.RateWindow.Duration+cfg.ScrapeInterval.Duration,
			cfg.MaxSampleAge.Duration, total503),
		sync: ticker{period: cfg.SyncPeriod.Duration},
	}, nil
}

// Name implements heuristics.Recommender.
func (h *HPA) Name() string { return "hpa-prometheus-adapter" }

// total503 is hsds_http_requests_total{status="503"}: every client-facing 503, whatever its cause.
func total503(e heuristics.Exposition) (float64, bool) { return e.Rejected503.Total(), true }

// Recommend implements heuristics.Recommender: Prometheus scrapes each pod's raw 503 counter every
// ScrapeInterval (on the pod's own phase; call Recommend at least every second for exact
// instants); the HPA syncs every SyncPeriod and between syncs recommends no change. At a sync,
// prometheus-adapter answers the HPA's query by evaluating rate()[RateWindow] at that instant:
// its only cache (--metrics-relist-interval, default 10m) lists which metrics exist, not their
// values, so it adds no delay here.
func (h *HPA) Recommend(snap heuristics.Snapshot) heuristics.Decision {
	now := snap.Time
	if now.IsZero() {
		return noTime(snap)
	}
	h.prom.scrape(snap, now)
	cur := snap.SpecReplicas
	if !h.sync.due(now) {
		return heuristics.Decision{Valid: true, Current: cur, Replicas: cur, Reason: CodeBetweenSyncs}
	}
	window := h.cfg.RateWindow.Duration
	g := groupHPAPods(snap.Pods, func(p heuristics.PodSample) (int64, bool) {
		r, ok := h.prom.rate(p.Name, now, window)
		return milli(r), ok
	})
	target := milli(h.cfg.TargetAverageValue)
	proposal, err := calcPlainMetricReplicas(g, cur, target, h.cfg.Tolerance)
	if err != nil && cur >= h.cfg.MinReplicas && cur <= h.cfg.MaxReplicas && cur != 0 {
		return heuristics.Decision{Current: cur, Replicas: cur, Reason: CodeNoMetrics, Message: err.Error()}
	}
	to, reason := h.norm.reconcile(now, cur, proposal)
	return heuristics.Decision{Valid: true, Current: cur, Replicas: to, Reason: reason,
		Message: fmt.Sprintf("503 rate on %d pods with a metric: mean %dm/s, target %dm, %d unready, %d missing, proposal %d",
			len(g.metrics), meanMilli(g.metrics), target, len(g.unready), len(g.missing), proposal)}
}

func meanMilli(m map[string]int64) int64 {
	if len(m) == 0 {
		return 0
	}
	var sum int64
	for _, v := range m {
		sum += v
	}
	return sum / int64(len(m))
}

// noTime is every baseline's answer to a snapshot without Time (its only clock reading): no
// decision, and no history recorded.
func noTime(snap heuristics.Snapshot) heuristics.Decision {
	return heuristics.Decision{Current: snap.SpecReplicas, Replicas: snap.SpecReplicas, Reason: heuristics.CodeInvalid,
		Message: "snapshot has no time"}
}
