package scrape

import (
	"bytes"
	"fmt"
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// Scaler is serve's exposition, reduced to what the demo shows. Gauges are NaN until the scaler
// has set them.
type Scaler struct {
	Desired, Current, Ready, Pending float64
	// Decisions are the cumulative decisions keyed "reason/direction".
	Decisions map[string]float64
	// Guards lists the guards active at the last decision, sorted.
	Guards []string
}

// parse decodes a text exposition; expfmt panics on some malformed input, which becomes an error.
func parse(body []byte) (fams map[string]*dto.MetricFamily, err error) {
	defer func() {
		if r := recover(); r != nil {
			fams, err = nil, fmt.Errorf("parse exposition: %v", r)
		}
	}()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err = p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse exposition: %w", err)
	}
	return fams, nil
}

// ParseScaler reads a `hsds-autoscaler serve` /metrics body (one target).
func ParseScaler(body []byte) (Scaler, error) {
	fams, err := parse(body)
	if err != nil {
		return Scaler{}, err
	}
	s := Scaler{Desired: single(fams[scaler.MetricDesiredReplicas]), Current: single(fams[scaler.MetricCurrentReplicas]),
		Ready: single(fams[scaler.MetricReadyReplicas]), Pending: single(fams[scaler.MetricPendingReplicas]),
		Decisions: map[string]float64{}}
	for _, m := range metrics(fams[scaler.MetricDecisions]) {
		v := value(m)
		if !valid(v) {
			return Scaler{}, fmt.Errorf("%s: invalid value %g", scaler.MetricDecisions, v)
		}
		s.Decisions[label(m, "reason")+"/"+label(m, "direction")] += v
	}
	for _, m := range metrics(fams[scaler.MetricGuardActive]) {
		if value(m) == 1 {
			s.Guards = append(s.Guards, label(m, "guard"))
		}
	}
	sort.Strings(s.Guards)
	return s, nil
}

// LastDecision returns the "reason/direction" whose counter grew most between prev and cur,
// preferring a decision that changed something (direction up or down); "" when none grew.
func LastDecision(prev, cur map[string]float64) string {
	best, bestDelta, bestActs := "", 0.0, false
	keys := make([]string, 0, len(cur))
	for k := range cur {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := cur[k] - prev[k]
		if d <= 0 {
			continue
		}
		acts := !hasSuffix(k, "/none")
		if (acts && !bestActs) || (acts == bestActs && d > bestDelta) {
			best, bestDelta, bestActs = k, d, acts
		}
	}
	return best
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

func metrics(mf *dto.MetricFamily) []*dto.Metric {
	if mf == nil {
		return nil
	}
	return mf.GetMetric()
}

// single is the value of a family's only series; NaN when absent, ambiguous or invalid.
func single(mf *dto.MetricFamily) float64 {
	ms := metrics(mf)
	if len(ms) != 1 {
		return math.NaN()
	}
	if v := value(ms[0]); valid(v) {
		return v
	}
	return math.NaN()
}

func valid(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }

func value(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return math.NaN()
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
