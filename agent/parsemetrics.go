package agent

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Names HSDS 1.x serves on /metrics (docs/hsds.md, "What HSDS exposes").
const (
	hsdsRequests = "hsds_http_requests_total"
	hsdsTasks    = "hsds_tasks_active"
	hsdsTasksMax = "hsds_tasks_max"
	hsdsReady    = "hsds_node_ready"
	hsdsDNCount  = "hsds_active_dn_count"
	// hsdsDNCountAlt is the DN gauge's name in one revision of HSDS's exporter docs: read either.
	hsdsDNCountAlt = "hsds_active_dns"
	hsdsInfo       = "hsds_info"
	// hsdsInternal counts every SN->DN request by method and status (a code, or "error" for no
	// answer): newest upstream exporter only.
	hsdsInternal = "hsds_internal_requests_total"
)

// MetricsSample is what the agent uses from one HSDS 1.x /metrics answer.
type MetricsSample struct {
	// Responses is hsds_http_requests_total summed over methods, by status code.
	Responses   map[string]float64
	Ready       bool // hsds_node_ready == 1 (required)
	TasksActive Gauge
	TasksMax    Gauge
	DNCount     Gauge
	Version     string // hsds_info{version}
	// Internal is hsds_internal_requests_total summed over methods, by status ("503", "error",
	// ...); nil when HSDS does not export it.
	Internal map[string]float64
}

// metricsAccept asks for the text format, the only one parseMetrics reads.
const metricsAccept = "text/plain;version=0.0.4"

// parseMetrics decodes a Prometheus text exposition from an HSDS node. Syntax errors are
// ReadErrorParse; a missing hsds_node_ready, duplicate series, bad status labels, and negative or
// non-finite values are ReadErrorInvalid. It never returns a partial sample.
func parseMetrics(body []byte) (MetricsSample, error) {
	fams, err := textToFamilies(body)
	if err != nil {
		return MetricsSample{}, &ScrapeError{Reason: ReadErrorParse, URL: "/metrics", Err: fmt.Errorf("decode /metrics: %w", err)}
	}
	s, err := sampleFromFamilies(fams)
	if err != nil {
		return MetricsSample{}, &ScrapeError{Reason: ReadErrorInvalid, URL: "/metrics", Err: err}
	}
	return s, nil
}

// textToFamilies runs the expfmt text parser. expfmt v0.67.5 panics on some malformed input
// (e.g. "{}0": a label set before any metric name, found by FuzzParseMetrics); HSDS must never
// crash the agent, so a panic is returned as an error.
func textToFamilies(body []byte) (fams map[string]*dto.MetricFamily, err error) {
	defer func() {
		if r := recover(); r != nil {
			fams, err = nil, fmt.Errorf("text parser panicked: %v", r)
		}
	}()
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(bytes.NewReader(body))
}

// sampleFromFamilies validates the families the agent reads and returns every error found.
func sampleFromFamilies(fams map[string]*dto.MetricFamily) (MetricsSample, error) {
	var errs []error
	s := MetricsSample{Responses: map[string]float64{}}
	if err := sumRequests(fams[hsdsRequests], s.Responses); err != nil {
		errs = append(errs, err)
	}
	ready, err := singleValue(fams[hsdsReady])
	switch {
	case err != nil:
		errs = append(errs, err)
	case !ready.Valid:
		errs = append(errs, fmt.Errorf("missing %s", hsdsReady))
	case ready.Value != 0 && ready.Value != 1:
		errs = append(errs, fmt.Errorf("%s is %g, want 0 or 1", hsdsReady, ready.Value))
	default:
		s.Ready = ready.Value == 1
	}
	gauges := []struct {
		name string
		dst  *Gauge
	}{{hsdsTasks, &s.TasksActive}, {hsdsTasksMax, &s.TasksMax}, {dnCountName(fams), &s.DNCount}}
	for _, g := range gauges {
		v, err := singleValue(fams[g.name])
		if err != nil {
			errs = append(errs, err)
		}
		*g.dst = v
	}
	if s.TasksMax.Valid && s.TasksMax.Value == 0 {
		errs = append(errs, fmt.Errorf("%s is 0", hsdsTasksMax))
	}
	s.Version = labelValue(fams[hsdsInfo], "version")
	if mf := fams[hsdsInternal]; mf != nil {
		s.Internal = map[string]float64{}
		if err := sumInternal(mf, s.Internal); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return MetricsSample{}, err
	}
	return s, nil
}

// sumRequests adds hsds_http_requests_total per status code into dst.
func sumRequests(mf *dto.MetricFamily, dst map[string]float64) error {
	if mf == nil {
		return nil // no request served yet: labelled counters appear with their first increment
	}
	seen := map[string]bool{}
	for _, m := range mf.GetMetric() {
		v, err := metricValue(mf.GetName(), m)
		if err != nil {
			return err
		}
		sig := labelSignature(m)
		if seen[sig] {
			return fmt.Errorf("duplicate series %s{%s}", mf.GetName(), sig)
		}
		seen[sig] = true
		code := labelOf(m, "status")
		if n, err := strconv.Atoi(code); err != nil || n < 100 || n > 599 || len(code) != 3 {
			return fmt.Errorf("%s has status %q, want a 3-digit HTTP status", mf.GetName(), code)
		}
		dst[code] += v
		if math.IsInf(dst[code], 0) {
			return fmt.Errorf("%s sum for status %s is not finite", mf.GetName(), code)
		}
	}
	return nil
}

// dnCountName is the DN-count gauge HSDS serves: hsds_active_dn_count, or hsds_active_dns.
func dnCountName(fams map[string]*dto.MetricFamily) string {
	if fams[hsdsDNCount] == nil && fams[hsdsDNCountAlt] != nil {
		return hsdsDNCountAlt
	}
	return hsdsDNCount
}

// sumInternal adds hsds_internal_requests_total per status ("error" or a 3-digit code) into dst.
func sumInternal(mf *dto.MetricFamily, dst map[string]float64) error {
	for _, m := range mf.GetMetric() {
		v, err := metricValue(mf.GetName(), m)
		if err != nil {
			return err
		}
		code := labelOf(m, "status")
		if n, err := strconv.Atoi(code); code != "error" && (err != nil || n < 100 || n > 599 || len(code) != 3) {
			return fmt.Errorf("%s has status %q, want a 3-digit HTTP status or \"error\"", mf.GetName(), code)
		}
		dst[code] += v
		if math.IsInf(dst[code], 0) {
			return fmt.Errorf("%s sum for status %s is not finite", mf.GetName(), code)
		}
	}
	return nil
}

// singleValue returns the value of a family that must hold at most one series.
func singleValue(mf *dto.MetricFamily) (Gauge, error) {
	if mf == nil {
		return Gauge{}, nil
	}
	if len(mf.GetMetric()) != 1 {
		return Gauge{}, fmt.Errorf("%s has %d series, want 1", mf.GetName(), len(mf.GetMetric()))
	}
	v, err := metricValue(mf.GetName(), mf.GetMetric()[0])
	if err != nil {
		return Gauge{}, err
	}
	return known(v), nil
}

// metricValue returns the value of a counter, gauge or untyped sample, rejecting NaN, Inf and
// negative values.
func metricValue(name string, m *dto.Metric) (float64, error) {
	var v float64
	switch {
	case m.GetCounter() != nil:
		v = m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		v = m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		v = m.GetUntyped().GetValue()
	default:
		return 0, fmt.Errorf("%s is not a counter, gauge or untyped metric", name)
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%s is not finite", name)
	case v < 0:
		return 0, fmt.Errorf("%s is negative (%g)", name, v)
	}
	return v, nil
}

func labelOf(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// labelSignature is a canonical text of a series' labels.
func labelSignature(m *dto.Metric) string {
	parts := make([]string, 0, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		parts = append(parts, strconv.Quote(lp.GetName())+"="+strconv.Quote(lp.GetValue()))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// labelValue returns the label of the first series of mf, "" when absent.
func labelValue(mf *dto.MetricFamily, name string) string {
	if mf == nil || len(mf.GetMetric()) == 0 {
		return ""
	}
	return labelOf(mf.GetMetric()[0], name)
}
