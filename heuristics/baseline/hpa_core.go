package baseline

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// This file transcribes the HPA v2 algorithm of kubernetes/kubernetes
// pkg/controller/podautoscaler (replica_calculator.go: calcPlainMetricReplicas, groupPods,
// GetExternalPerPodMetricReplicas; horizontal.go: stabilizeRecommendationWithBehaviors,
// convertDesiredReplicasWithBehaviorRate, calculateScale{Up,Down}Limit*, getReplicasChangePerPeriod),
// with time passed in instead of time.Now(). Metric values are milli-units (int64), as the
// controller reads them with Quantity.MilliValue(); integer division is kept where upstream has it.

// HPA scaling policy types and select policies (autoscaling/v2).
const (
	HPAPodsPolicy    = "Pods"
	HPAPercentPolicy = "Percent"
	HPASelectMax     = "Max"
	HPASelectMin     = "Min"
	HPASelectOff     = "Disabled"
)

// HPAScalingPolicy is autoscaling/v2 HPAScalingPolicy.
type HPAScalingPolicy struct {
	Type          string `json:"type"`
	Value         int32  `json:"value"`
	PeriodSeconds int32  `json:"periodSeconds"`
}

// HPAScalingRules is autoscaling/v2 HPAScalingRules.
type HPAScalingRules struct {
	StabilizationWindowSeconds int32              `json:"stabilizationWindowSeconds"`
	SelectPolicy               string             `json:"selectPolicy"`
	Policies                   []HPAScalingPolicy `json:"policies"`
}

// HPABehavior is autoscaling/v2 HorizontalPodAutoscalerBehavior.
type HPABehavior struct {
	ScaleUp   HPAScalingRules `json:"scaleUp"`
	ScaleDown HPAScalingRules `json:"scaleDown"`
}

// DefaultHPABehavior is the API's defaulting (pkg/apis/autoscaling/v2/defaults.go,
// GenerateHPAScaleUpRules / GenerateHPAScaleDownRules): scale up with no stabilization, the max of
// +100 % and +4 pods per 15 s; scale down after a 300 s stabilization window, up to 100 % per 15 s.
func DefaultHPABehavior() HPABehavior {
	return HPABehavior{
		ScaleUp: HPAScalingRules{StabilizationWindowSeconds: 0, SelectPolicy: HPASelectMax, Policies: []HPAScalingPolicy{
			{Type: HPAPercentPolicy, Value: 100, PeriodSeconds: 15},
			{Type: HPAPodsPolicy, Value: 4, PeriodSeconds: 15},
		}},
		ScaleDown: HPAScalingRules{StabilizationWindowSeconds: 300, SelectPolicy: HPASelectMax, Policies: []HPAScalingPolicy{
			{Type: HPAPercentPolicy, Value: 100, PeriodSeconds: 15},
		}},
	}
}

func (r HPAScalingRules) validate(field string) error {
	var errs []error
	if r.StabilizationWindowSeconds < 0 || r.StabilizationWindowSeconds > 3600 {
		errs = append(errs, fmt.Errorf("%s.stabilizationWindowSeconds: must be in [0, 3600], got %d", field, r.StabilizationWindowSeconds))
	}
	switch r.SelectPolicy {
	case HPASelectMax, HPASelectMin, HPASelectOff:
	default:
		errs = append(errs, fmt.Errorf("%s.selectPolicy: must be Max, Min or Disabled, got %q", field, r.SelectPolicy))
	}
	if len(r.Policies) == 0 && r.SelectPolicy != HPASelectOff {
		errs = append(errs, fmt.Errorf("%s.policies: at least one policy is required", field))
	}
	for i, p := range r.Policies {
		f := fmt.Sprintf("%s.policies[%d]", field, i)
		if p.Type != HPAPodsPolicy && p.Type != HPAPercentPolicy {
			errs = append(errs, fmt.Errorf("%s.type: must be Pods or Percent, got %q", f, p.Type))
		}
		if p.Value <= 0 {
			errs = append(errs, fmt.Errorf("%s.value: must be > 0, got %d", f, p.Value))
		}
		if p.PeriodSeconds <= 0 || p.PeriodSeconds > 1800 {
			errs = append(errs, fmt.Errorf("%s.periodSeconds: must be in (0, 1800], got %d", f, p.PeriodSeconds))
		}
	}
	return errors.Join(errs...)
}

// hpaPods is groupPods' result for a plain (non-CPU) metric: pods with a metric count as ready
// whatever their Ready condition (upstream checks readiness only for CPU), Pending pods are
// unready, pods without a metric are missing, deleted/failed pods are ignored.
type hpaPods struct {
	metrics map[string]int64 // milli-value per ready pod
	unready []string
	missing []string
}

func groupHPAPods(pods []heuristics.PodSample, metric func(heuristics.PodSample) (int64, bool)) hpaPods {
	g := hpaPods{metrics: make(map[string]int64, len(pods))}
	for _, p := range pods {
		switch p.Phase {
		case heuristics.PodOther:
			continue
		case heuristics.PodPending:
			g.unready = append(g.unready, p.Name)
			continue
		}
		v, ok := metric(p)
		if !ok {
			g.missing = append(g.missing, p.Name)
			continue
		}
		g.metrics[p.Name] = v
	}
	return g
}

// usageRatio is metricsclient.GetMetricUsageRatio: integer mean of milli-values over target.
func usageRatio(metrics map[string]int64, target int64) float64 {
	var total int64
	for _, v := range metrics {
		total += v
	}
	current := total / int64(len(metrics))
	return float64(current) / float64(target)
}

// errNoMetrics is upstream's "did not receive metrics for targeted pods".
var errNoMetrics = errors.New("did not receive metrics for targeted pods (pods might be unready)")

// calcPlainMetricReplicas transcribes ReplicaCalculator.calcPlainMetricReplicas.
func calcPlainMetricReplicas(g hpaPods, current int32, target int64, tolerance float64) (int32, error) {
	readyPodCount := len(g.metrics)
	if readyPodCount == 0 {
		return 0, errNoMetrics
	}
	ratio := usageRatio(g.metrics, target)
	scaleUpWithUnready := len(g.unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(g.missing) == 0 {
		if math.Abs(1.0-ratio) <= tolerance {
			return current, nil
		}
		return int32(math.Ceil(ratio * float64(readyPodCount))), nil
	}
	m := make(map[string]int64, len(g.metrics)+len(g.missing)+len(g.unready))
	for k, v := range g.metrics {
		m[k] = v
	}
	for _, name := range g.missing {
		if ratio < 1.0 {
			m[name] = target // missing pods assumed at 100 % of target when scaling down
		} else {
			m[name] = 0 // and idle when scaling up
		}
	}
	if scaleUpWithUnready {
		for _, name := range g.unready {
			m[name] = 0
		}
	}
	newRatio := usageRatio(m, target)
	if math.Abs(1.0-newRatio) <= tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return current, nil
	}
	n := int32(math.Ceil(newRatio * float64(len(m))))
	if (newRatio < 1.0 && n > current) || (newRatio > 1.0 && n < current) {
		return current, nil
	}
	return n, nil
}

// externalPerPodReplicas transcribes GetExternalPerPodMetricReplicas (target type AverageValue):
// the metric's total over target, against the scale's status replicas.
func externalPerPodReplicas(statusReplicas int32, usage, targetPerPod int64, tolerance float64) int32 {
	n := statusReplicas
	ratio := float64(usage) / (float64(targetPerPod) * float64(n))
	if math.Abs(1.0-ratio) > tolerance {
		n = int32(math.Ceil(float64(usage) / float64(targetPerPod)))
	}
	return n
}

// milli is Quantity.MilliValue of a float as prometheus-adapter and KEDA build it:
// resource.NewMilliQuantity(int64(v*1000)).
func milli(v float64) int64 {
	if v != v || v <= 0 {
		return 0
	}
	if v > math.MaxInt64/1000 {
		return math.MaxInt64
	}
	return int64(v * 1000)
}

type timedRec struct {
	at  time.Time
	rec int32
}

type scaleEvent struct {
	at     time.Time
	change int32
}

// hpaNormalizer is the per-HPA state of horizontal.go: recommendations and scale events.
type hpaNormalizer struct {
	behavior   HPABehavior
	min, max   int32
	recs       []timedRec
	upEvents   []scaleEvent
	downEvents []scaleEvent
}

// stabilize transcribes stabilizeRecommendationWithBehaviors: the lowest recommendation of the
// up window and the highest of the down window bound the result; this one is stored.
func (n *hpaNormalizer) stabilize(now time.Time, current, desired int32) int32 {
	upCutoff := now.Add(-time.Duration(n.behavior.ScaleUp.StabilizationWindowSeconds) * time.Second)
	downCutoff := now.Add(-time.Duration(n.behavior.ScaleDown.StabilizationWindowSeconds) * time.Second)
	up, down := desired, desired
	kept := n.recs[:0]
	for _, r := range n.recs {
		if r.at.After(upCutoff) {
			up = min(up, r.rec)
		}
		if r.at.After(downCutoff) {
			down = max(down, r.rec)
		}
		if r.at.After(upCutoff) || r.at.After(downCutoff) {
			kept = append(kept, r) // upstream reuses one old slot; dropping all old ones is equivalent
		}
	}
	n.recs = append(kept, timedRec{at: now, rec: desired})
	rec := current
	if rec < up {
		rec = up
	}
	if rec > down {
		rec = down
	}
	return rec
}

func changeInPeriod(now time.Time, periodSeconds int32, events []scaleEvent) int32 {
	cutoff := now.Add(-time.Duration(periodSeconds) * time.Second)
	var sum int32
	for _, e := range events {
		if e.at.After(cutoff) {
			sum += e.change
		}
	}
	return sum
}

// limit transcribes calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors.
func (n *hpaNormalizer) limit(now time.Time, current int32, up bool) int32 {
	rules := n.behavior.ScaleDown
	if up {
		rules = n.behavior.ScaleUp
	}
	if rules.SelectPolicy == HPASelectOff {
		return current
	}
	// Max picks the largest change: the highest limit up, the lowest down.
	pickMax := (rules.SelectPolicy == HPASelectMax) == up
	result := int32(math.MinInt32)
	if !pickMax {
		result = math.MaxInt32
	}
	for _, p := range rules.Policies {
		added := changeInPeriod(now, p.PeriodSeconds, n.upEvents)
		deleted := changeInPeriod(now, p.PeriodSeconds, n.downEvents)
		start := current - added + deleted
		var proposed int32
		switch {
		case p.Type == HPAPodsPolicy && up:
			proposed = start + p.Value
		case p.Type == HPAPodsPolicy:
			proposed = start - p.Value
		case up:
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		default:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		if pickMax {
			result = max(result, proposed)
		} else {
			result = min(result, proposed)
		}
	}
	return result
}

// rate transcribes convertDesiredReplicasWithBehaviorRate (bounds and rate limits).
func (n *hpaNormalizer) rate(now time.Time, current, desired int32) int32 {
	if desired > current {
		limit := max(n.limit(now, current, true), current)
		allowed := min(n.max, limit)
		return min(desired, allowed)
	}
	if desired < current {
		limit := min(n.limit(now, current, false), current)
		allowed := max(n.min, limit)
		return max(desired, allowed)
	}
	return desired
}

// record stores a scale event (storeScaleEvent), keeping only events inside the longest period.
func (n *hpaNormalizer) record(now time.Time, from, to int32) {
	longest := int32(0)
	for _, p := range append(append([]HPAScalingPolicy(nil), n.behavior.ScaleUp.Policies...), n.behavior.ScaleDown.Policies...) {
		longest = max(longest, p.PeriodSeconds)
	}
	cutoff := now.Add(-time.Duration(longest) * time.Second)
	prune := func(ev []scaleEvent) []scaleEvent {
		kept := ev[:0]
		for _, e := range ev {
			if e.at.After(cutoff) {
				kept = append(kept, e)
			}
		}
		return kept
	}
	n.upEvents, n.downEvents = prune(n.upEvents), prune(n.downEvents)
	if to > from {
		n.upEvents = append(n.upEvents, scaleEvent{at: now, change: to - from})
	} else if to < from {
		n.downEvents = append(n.downEvents, scaleEvent{at: now, change: from - to})
	}
}

// reconcile is the replica decision of reconcileAutoscaler for one sync: bounds first, then the
// metric proposal, stabilization and rate limits. It records a scale event when it changes.
func (n *hpaNormalizer) reconcile(now time.Time, current, proposal int32) (int32, string) {
	var desired int32
	reason := CodeMetrics
	switch {
	case current == 0 && n.min != 0:
		return 0, "scaling-disabled"
	case current > n.max:
		desired, reason = n.max, CodeBounds
	case current < n.min:
		desired, reason = n.min, CodeBounds
	default:
		if n.recs == nil {
			// maybeInitScaleDownStabilizationWindow seeds the window with the HPA's
			// status.desiredReplicas; a running HPA's is the current count.
			n.recs = []timedRec{{at: now, rec: current}}
		}
		desired = n.rate(now, current, n.stabilize(now, current, proposal))
	}
	if desired != current {
		n.record(now, current, desired)
	}
	return desired, reason
}
