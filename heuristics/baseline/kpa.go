package baseline

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/window"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Decision codes of the KPA baseline (Decision.Reason).
const (
	CodeKPAStable = "kpa-stable"
	CodeKPAPanic  = "kpa-panic"
)

// KPAConfig is the "kpa" baseline: Knative's Pod Autoscaler (knative/serving
// pkg/autoscaler/scaling/autoscaler.go, config defaults from config-autoscaler) with the SN's
// in-flight count as the concurrency metric. Every default is Knative's.
type KPAConfig struct {
	// MinReplicas and MaxReplicas: min-scale / max-scale, applied after the decision.
	MinReplicas int32 `json:"minReplicas"`
	MaxReplicas int32 `json:"maxReplicas"`
	// ContainerConcurrency (100, container-concurrency-target-default) times TargetUtilization
	// (0.7, container-concurrency-target-percentage 70) is the per-pod target: 70 in flight.
	ContainerConcurrency float64 `json:"containerConcurrency"`
	TargetUtilization    float64 `json:"targetUtilization"`
	// StableWindow: stable-window, 60s. PanicWindowPercentage: panic-window-percentage, 10
	// (a 6 s panic window). PanicThresholdPercentage: panic-threshold-percentage, 200.
	StableWindow             heuristics.Duration `json:"stableWindow"`
	PanicWindowPercentage    float64             `json:"panicWindowPercentage"`
	PanicThresholdPercentage float64             `json:"panicThresholdPercentage"`
	// MaxScaleUpRate (1000) and MaxScaleDownRate (2): max-scale-up-rate, max-scale-down-rate.
	MaxScaleUpRate   float64 `json:"maxScaleUpRate"`
	MaxScaleDownRate float64 `json:"maxScaleDownRate"`
	// ScaleDownDelay: scale-down-delay, 0s (no delay window).
	ScaleDownDelay heuristics.Duration `json:"scaleDownDelay"`
	// TickInterval: tick-interval, 2s (how often the decider runs).
	TickInterval heuristics.Duration `json:"tickInterval"`
	// BucketSize: the collector scrapes every second into 1 s buckets (metrics.BucketSize).
	BucketSize heuristics.Duration `json:"bucketSize"`
	// MaxSampleAge: pods whose exposed figures (PodSample.Exposed) are older are not sampled.
	MaxSampleAge heuristics.Duration `json:"maxSampleAge"`
}

// DefaultKPAConfig returns Knative's defaults with bounds [1, 10].
func DefaultKPAConfig() KPAConfig {
	return KPAConfig{
		MinReplicas: 1, MaxReplicas: 10,
		ContainerConcurrency: 100, TargetUtilization: 0.7,
		StableWindow: heuristics.D(60 * time.Second), PanicWindowPercentage: 10, PanicThresholdPercentage: 200,
		MaxScaleUpRate: 1000, MaxScaleDownRate: 2,
		TickInterval: heuristics.D(2 * time.Second), BucketSize: heuristics.D(time.Second), MaxSampleAge: heuristics.D(60 * time.Second),
	}
}

// Validate reports every problem, each naming its field.
func (c KPAConfig) Validate() error {
	errs := validateBounds(c.MinReplicas, c.MaxReplicas, 0)
	errs = append(errs, validatePositive("containerConcurrency", c.ContainerConcurrency, "targetUtilization", c.TargetUtilization,
		"stableWindow", c.StableWindow, "panicWindowPercentage", c.PanicWindowPercentage,
		"panicThresholdPercentage", c.PanicThresholdPercentage, "tickInterval", c.TickInterval,
		"bucketSize", c.BucketSize, "maxSampleAge", c.MaxSampleAge)...)
	if c.TargetUtilization > 1 {
		errs = append(errs, fmt.Errorf("targetUtilization: must be <= 1, got %g", c.TargetUtilization))
	}
	if c.PanicWindowPercentage > 100 {
		errs = append(errs, fmt.Errorf("panicWindowPercentage: must be <= 100, got %g", c.PanicWindowPercentage))
	}
	if !(c.MaxScaleUpRate > 1) {
		errs = append(errs, fmt.Errorf("maxScaleUpRate: must be > 1, got %g", c.MaxScaleUpRate))
	}
	if !(c.MaxScaleDownRate > 1) {
		errs = append(errs, fmt.Errorf("maxScaleDownRate: must be > 1, got %g", c.MaxScaleDownRate))
	}
	if c.ScaleDownDelay.Duration < 0 {
		errs = append(errs, fmt.Errorf("scaleDownDelay: must be >= 0, got %s", c.ScaleDownDelay.Duration))
	}
	return errors.Join(errs...)
}

// KPA is the "kpa" baseline.
type KPA struct {
	cfg          KPAConfig
	stable       *window.Buckets
	panic        *window.Buckets
	delay        *window.Extremum // max over ScaleDownDelay, nil when 0
	tick         ticker
	lastRecord   time.Time
	lastValue    float64
	panicTime    time.Time
	maxPanicPods int32
}

var _ heuristics.Recommender = (*KPA)(nil)

// NewKPA validates cfg and returns the baseline with empty history.
func NewKPA(cfg KPAConfig) (*KPA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kpa config: %w", err)
	}
	panicWindow := time.Duration(float64(cfg.StableWindow.Duration) * cfg.PanicWindowPercentage / 100)
	k := &KPA{
		cfg:    cfg,
		stable: window.NewBuckets(cfg.StableWindow.Duration, cfg.BucketSize.Duration),
		panic:  window.NewBuckets(panicWindow, cfg.BucketSize.Duration),
		tick:   ticker{period: cfg.TickInterval.Duration},
	}
	if cfg.ScaleDownDelay.Duration > 0 {
		k.delay = window.NewMax(cfg.ScaleDownDelay.Duration)
	}
	return k, nil
}

// Name implements heuristics.Recommender.
func (k *KPA) Name() string { return "kpa" }

// concurrency is what Knative's scraper reports: the mean in-flight count of the sampled (fresh,
// Ready, Running) pods times the ready pod count. ok is false with no sampled pod. The in-flight
// count is the pod's exposed gauge at the call (PodSample.Exposed: live in bench, which calls
// every second as Knative's scraper does), not the store's reading of up to 5 s before;
// Knative's queue-proxy reports the mean concurrency over each second, this its value at the
// second's end.
func (k *KPA) concurrency(snap heuristics.Snapshot, now time.Time) (total float64, ready int, ok bool) {
	var sum float64
	sampled := 0
	for _, p := range snap.Pods {
		if p.Phase != heuristics.PodRunning || !p.Ready {
			continue
		}
		ready++
		if e := p.Exposed; !e.Time.IsZero() && now.Sub(e.Time) <= k.cfg.MaxSampleAge.Duration {
			sum += e.InFlight // 0 when the pod has no current figure (HasInFlight false)
			sampled++
		}
	}
	if sampled == 0 {
		return 0, ready, false
	}
	return sum / float64(sampled) * float64(ready), ready, true
}

// record emulates the 1 s scraper between snapshots: every bucket since the last record holds
// the last value seen (sample and hold), then this snapshot's value.
func (k *KPA) record(now time.Time, v float64, ok bool) {
	g := k.cfg.BucketSize.Duration
	if !k.lastRecord.IsZero() {
		for t := k.lastRecord.Add(g); t.Before(now) && now.Sub(t) < k.cfg.StableWindow.Duration; t = t.Add(g) {
			k.stable.Record(t, k.lastValue)
			k.panic.Record(t, k.lastValue)
		}
	}
	if !ok {
		k.lastRecord = time.Time{}
		return
	}
	if !k.lastRecord.IsZero() && now.Truncate(g).Equal(k.lastRecord.Truncate(g)) {
		k.lastValue = v // one scrape per bucket: Knative's BucketSize equals its scrape interval
		return
	}
	k.stable.Record(now, v)
	k.panic.Record(now, v)
	k.lastRecord, k.lastValue = now, v
}

// Recommend implements heuristics.Recommender.
func (k *KPA) Recommend(snap heuristics.Snapshot) heuristics.Decision {
	now := snap.Time
	if now.IsZero() {
		return noTime(snap)
	}
	total, readyCount, ok := k.concurrency(snap, now)
	k.record(now, total, ok)
	cur := snap.SpecReplicas
	if !k.tick.due(now) {
		// Between decider ticks the scale stays, within the bounds (a spec outside them, with no
		// tick yet able to decide, is brought inside as Knative's min/max-scale annotations do).
		to := min(max(cur, k.cfg.MinReplicas), k.cfg.MaxReplicas)
		return heuristics.Decision{Valid: true, Current: cur, Replicas: to, Reason: CodeBetweenSyncs}
	}
	stable, okS := k.stable.WindowAverage(now)
	panicV, _ := k.panic.WindowAverage(now)
	if !okS {
		return heuristics.Decision{Current: cur, Replicas: cur, Reason: CodeNoMetrics, Message: "no data to scale on yet"}
	}
	desired, inPanic := k.scale(now, stable, panicV, readyCount)
	to := min(max(desired, k.cfg.MinReplicas), k.cfg.MaxReplicas)
	reason := CodeKPAStable
	if inPanic {
		reason = CodeKPAPanic
	}
	return heuristics.Decision{Valid: true, Current: cur, Replicas: to, Reason: reason,
		Message: fmt.Sprintf("stable concurrency %.2f, panic %.2f, %d ready pods, target %.1f per pod, desired %d",
			stable, panicV, readyCount, k.cfg.ContainerConcurrency*k.cfg.TargetUtilization, desired)}
}

// scale transcribes autoscaler.Scale (Reachable, no activation scale).
func (k *KPA) scale(now time.Time, stable, panicV float64, originalReady int) (int32, bool) {
	readyPods := math.Max(1, float64(originalReady))
	target := k.cfg.ContainerConcurrency * k.cfg.TargetUtilization
	maxScaleUp := math.Ceil(k.cfg.MaxScaleUpRate * readyPods)
	maxScaleDown := math.Floor(readyPods / k.cfg.MaxScaleDownRate)
	dspc := math.Ceil(stable / target)
	dppc := math.Ceil(panicV / target)
	desiredStable := int32(math.Min(math.Max(dspc, maxScaleDown), maxScaleUp))
	desiredPanic := int32(math.Min(math.Max(dppc, maxScaleDown), maxScaleUp))
	overPanic := dppc/readyPods >= k.cfg.PanicThresholdPercentage/100
	switch {
	case overPanic:
		k.panicTime = now // start or extend panic
	case !k.panicTime.IsZero() && k.panicTime.Add(k.cfg.StableWindow.Duration).Before(now):
		k.panicTime, k.maxPanicPods = time.Time{}, 0 // the surge is in the stable metric now
	}
	desired := desiredStable
	if !k.panicTime.IsZero() {
		desired = max(desired, desiredPanic)
		if desired > k.maxPanicPods {
			k.maxPanicPods = desired
		}
		desired = k.maxPanicPods // no scale-down while panicking
	}
	if k.delay != nil {
		k.delay.Record(now, float64(desired))
		if v, ok := k.delay.Value(now); ok {
			desired = int32(v)
		}
	}
	return desired, !k.panicTime.IsZero()
}
