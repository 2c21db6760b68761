package agentmetrics

import (
	"fmt"
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Parser parses agent expositions. It reuses the expfmt parser's buffers, so one Parser serves
// one goroutine at a time.
type Parser struct {
	text expfmt.TextParser
}

// NewParser returns a parser that accepts legacy (Prometheus 2) metric and label names, which is
// what the agent exports.
func NewParser() *Parser {
	return &Parser{text: expfmt.NewTextParser(model.LegacyValidation)}
}

// Parse reads one text exposition and reduces it to a Reading. A body that does not parse wraps
// ErrParse; a NaN, infinite or negative value, or a missing hsds_agent_up or hsds_agent_in_flight,
// wraps ErrInvalid. Nothing is guessed: a rejected exposition yields no Reading at all.
//
// expfmt v0.67.5's TextParser panics on some malformed input (e.g. a line "{}": a nil metric
// family in startLabelName, found by FuzzParse); that panic is turned into ErrParse here, so a
// broken agent cannot take the adapter down.
func (p *Parser) Parse(r io.Reader) (rd Reading, err error) {
	defer func() {
		if v := recover(); v != nil {
			*p = *NewParser() // the parser's state is unknown after a panic
			rd, err = Reading{}, fmt.Errorf("%w: parser panicked: %v", ErrParse, v)
		}
	}()
	families, err := p.text.TextToMetricFamilies(r)
	if err != nil {
		return Reading{}, fmt.Errorf("%w: %w", ErrParse, err)
	}
	return FromFamilies(families)
}

// FromFamilies reduces parsed metric families to a Reading (see Parse).
func FromFamilies(families map[string]*dto.MetricFamily) (Reading, error) {
	var rd Reading
	if err := addResponses(&rd, families[schema.Responses]); err != nil {
		return Reading{}, err
	}
	up, ok, err := singleGauge(families[schema.Up], nil)
	if err != nil || !ok {
		return Reading{}, missingOr(schema.Up, err)
	}
	rd.Up = up == 1
	// In-flight is absent when the agent has no current figure (the info source's task sample is
	// older than --in-flight-max-age, or HSDS cannot be read): unknown, not an error.
	if rd.InFlight, rd.HasInFlight, err = singleGauge(families[schema.InFlight], nil); err != nil {
		return Reading{}, err
	}
	if rd.Limit, rd.HasLimit, err = singleGauge(families[schema.InFlightLimit], nil); err != nil {
		return Reading{}, err
	}
	isSN := map[string]string{schema.LabelNode: schema.NodeSN}
	count, _, err := singleGauge(families[schema.NodeCount], isSN)
	if err != nil {
		return Reading{}, err
	}
	rd.NodeCount = int(count)
	if rd.NodeState, err = snState(families[schema.NodeState]); err != nil {
		return Reading{}, err
	}
	if err := addInfo(&rd, families[schema.Info]); err != nil {
		return Reading{}, err
	}
	return rd, nil
}

func missingOr(name string, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s is missing", ErrInvalid, name)
}

// value returns the sample value of a counter, gauge or untyped metric.
func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}

func label(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

func matches(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		if label(m, k) != v {
			return false
		}
	}
	return true
}

// addResponses sums the responses counter. A missing family means no response yet: client_golang
// omits a counter vector that has no children, so this is the agent's honest zero.
func addResponses(rd *Reading, mf *dto.MetricFamily) error {
	for _, m := range mf.GetMetric() {
		v := value(m)
		if err := checkValue(schema.Responses, v); err != nil {
			return err
		}
		rd.Responses += v
		if label(m, schema.LabelCode) != schema.Code503 {
			continue
		}
		if i := CauseIndex(label(m, schema.LabelCause)); i >= 0 {
			rd.Rejected[i] += v
		}
	}
	return nil
}

// singleGauge returns the first sample of mf whose labels include want; ok is false when none does.
func singleGauge(mf *dto.MetricFamily, want map[string]string) (v float64, ok bool, err error) {
	for _, m := range mf.GetMetric() {
		if !matches(m, want) {
			continue
		}
		v = value(m)
		if err := checkValue(mf.GetName(), v); err != nil {
			return 0, false, err
		}
		return v, true, nil
	}
	return 0, false, nil
}

// snState returns the SN state that is set to 1.
func snState(mf *dto.MetricFamily) (string, error) {
	state := ""
	for _, m := range mf.GetMetric() {
		v := value(m)
		if err := checkValue(schema.NodeState, v); err != nil {
			return "", err
		}
		if label(m, schema.LabelNode) == schema.NodeSN && v == 1 {
			state = label(m, schema.LabelState)
		}
	}
	return state, nil
}

func addInfo(rd *Reading, mf *dto.MetricFamily) error {
	ms := mf.GetMetric()
	if len(ms) == 0 {
		return nil
	}
	m := ms[0] // one series; a second would be a second agent behind one target
	if err := checkValue(schema.Info, value(m)); err != nil {
		return err
	}
	rd.Exact = label(m, schema.LabelExact) == "true"
	rd.Source = label(m, schema.LabelSource)
	rd.Version = label(m, schema.LabelVersion)
	return nil
}
