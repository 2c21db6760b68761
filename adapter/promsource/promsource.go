package promsource

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Read-failure labels specific to this source (the failure the store keeps for a pod; scrape
// errors of an agent read through Prometheus keep collector's ScrapeError* labels).
const (
	ReadFailureQuery   = "query"   // the Prometheus query failed: every pod is unknown this round
	ReadFailureMissing = "missing" // Prometheus has no current series for the pod
)

// ScrapeTimeLabel is the label, with value ScrapeTimeValue, that Query adds to
// timestamp(hsds_agent_up) (when Prometheus last scraped each pod's agent): `or` matches label
// sets without the metric name, so without it the times would match the agent's own series and
// be dropped.
const (
	ScrapeTimeLabel = "hsds_promsource"
	ScrapeTimeValue = "scrape_time"
)

// Query returns the one instant query of a round: the agent series the store needs, and per pod
// the time of its last scrape (timestamp(hsds_agent_up), labelled ScrapeTimeLabel). One query,
// not two, so that both parts see the same scrapes: a scrape committed between two queries would
// pair the values of one scrape with the time of the next. Of the node gauges only what the
// reading uses is selected (the SN's data-node count and its state whose value is 1): 15 series
// per pod instead of 21 (agentmetrics.FromFamilies reads the same Reading from either; only an
// invalid value, NaN or negative, in a series not selected goes unseen, where the direct scrape
// would refuse the reading). With
// namespaces, only series whose nsLabel is one of them are selected; empty namespaces select all.
func Query(nsLabel string, namespaces []string) string {
	matcher := ""
	if len(namespaces) > 0 {
		quoted := make([]string, len(namespaces))
		for i, ns := range namespaces {
			quoted[i] = regexp.QuoteMeta(ns)
		}
		matcher = fmt.Sprintf(",%s=~%s", nsLabel, strconv.Quote(strings.Join(quoted, "|")))
	}
	sn := fmt.Sprintf("{%s=%q%s}", schema.LabelNode, schema.NodeSN, matcher)
	up := schema.Up
	if matcher != "" {
		up += "{" + matcher[1:] + "}"
	}
	return fmt.Sprintf(`{__name__=~"%s|%s|%s|%s|%s"%s} or %s%s or %s%s == 1 or label_replace(timestamp(%s), %q, %q, "", "")`,
		schema.Responses, schema.InFlight, schema.InFlightLimit, schema.Up, schema.Info, matcher,
		schema.NodeCount, sn, schema.NodeState, sn, up, ScrapeTimeLabel, ScrapeTimeValue)
}

// Source is a collector.Rounder reading from the Prometheus HTTP API.
type Source struct {
	API     promv1.API
	Sink    collector.Sink
	Clock   clock.PassiveClock
	Timeout time.Duration
	// PodLabel and NamespaceLabel name the target labels Prometheus attaches ("pod", "namespace").
	PodLabel, NamespaceLabel string
	// Namespaces restricts both queries to these values of NamespaceLabel (the namespaces the
	// service watches, --hsds-namespaces); empty reads every namespace.
	Namespaces []string
	Metrics    *collector.Metrics
}

// Round queries Prometheus once and records a reading or a failure for every target.
func (s *Source) Round(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	start := s.Clock.Now()
	vec, err := s.query(ctx, Query(s.NamespaceLabel, s.Namespaces), start)
	if s.Metrics != nil {
		s.Metrics.ScrapeDuration.Observe(s.Clock.Since(start).Seconds())
	}
	targets := s.Sink.Targets()
	if err != nil {
		klog.ErrorS(err, "Prometheus query failed", "targets", len(targets))
		s.fail(targets, ReadFailureQuery, len(targets))
		return
	}
	byPod, at := group(vec, s.NamespaceLabel, s.PodLabel)
	for _, t := range targets {
		s.recordOne(t, byPod[t.Key], at[t.Key])
	}
}

func (s *Source) recordOne(t store.Target, fams map[string]*dto.MetricFamily, at time.Time) {
	if fams == nil || at.IsZero() {
		s.fail([]store.Target{t}, ReadFailureMissing, 1)
		return
	}
	rd, err := agentmetrics.FromFamilies(fams)
	switch {
	case err != nil:
		s.fail([]store.Target{t}, collector.ScrapeErrorLabel(err), 1)
	case !rd.Up:
		s.fail([]store.Target{t}, collector.ScrapeErrorAgentDown, 1)
	default:
		s.Sink.Record(t.Key, t.UID, at, rd)
	}
}

func (s *Source) fail(targets []store.Target, reason string, n int) {
	if s.Metrics != nil {
		s.Metrics.ScrapeErrors.WithLabelValues(reason).Add(float64(n))
	}
	now := s.Clock.Now()
	for _, t := range targets {
		s.Sink.RecordFailure(t.Key, t.UID, now, reason)
	}
}

func (s *Source) query(ctx context.Context, q string, at time.Time) (model.Vector, error) {
	v, warnings, err := s.API.Query(ctx, q, at)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	if len(warnings) > 0 {
		klog.V(2).InfoS("Prometheus query warnings", "query", q, "warnings", warnings)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %s: got %s, want a vector", q, v.Type())
	}
	return vec, nil
}

// group turns the round's vector into per-pod metric families, as if parsed from the agent, and
// per-pod scrape times (the samples labelled ScrapeTimeLabel).
func group(vec model.Vector, nsLabel, podLabel string) (map[store.Key]map[string]*dto.MetricFamily, map[store.Key]time.Time) {
	out := map[store.Key]map[string]*dto.MetricFamily{}
	at := map[store.Key]time.Time{}
	for _, smp := range vec {
		k := store.Key{Namespace: string(smp.Metric[model.LabelName(nsLabel)]), Name: string(smp.Metric[model.LabelName(podLabel)])}
		name := string(smp.Metric[model.MetricNameLabel])
		switch {
		case k.Name == "":
			continue
		case smp.Metric[ScrapeTimeLabel] == ScrapeTimeValue:
			if sec := float64(smp.Value); sec > 0 && !math.IsNaN(sec) && !math.IsInf(sec, 0) {
				at[k] = time.UnixMilli(int64(math.Round(sec * 1000))).UTC()
			}
			continue
		case name == "":
			continue
		}
		fams := out[k]
		if fams == nil {
			fams = map[string]*dto.MetricFamily{}
			out[k] = fams
		}
		mf := fams[name]
		if mf == nil {
			mf = &dto.MetricFamily{Name: &name, Type: dto.MetricType_UNTYPED.Enum()}
			fams[name] = mf
		}
		mf.Metric = append(mf.Metric, toMetric(smp))
	}
	return out, at
}

func toMetric(smp *model.Sample) *dto.Metric {
	m := &dto.Metric{Untyped: &dto.Untyped{Value: ptr(float64(smp.Value))}}
	for ln, lv := range smp.Metric {
		if ln == model.MetricNameLabel {
			continue
		}
		m.Label = append(m.Label, &dto.LabelPair{Name: ptr(string(ln)), Value: ptr(string(lv))})
	}
	return m
}

func ptr[T any](v T) *T { return &v }
