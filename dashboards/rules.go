package dashboards

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// RuleOptions are the thresholds and durations of the alert rules. Tests shorten the durations to
// make alerts fire against a live Prometheus within seconds.
type RuleOptions struct {
	// RateWindow is the range of every rate() in the rules.
	RateWindow time.Duration
	// OverloadThreshold is the overload 503/s per namespace above which HSDSOverload is pending.
	OverloadThreshold float64
	OverloadFor       time.Duration
	NotReadyFor       time.Duration
	AgentDownFor      time.Duration
	// PendingFor is how long pods may stay Pending: the cluster autoscaler's
	// --max-node-provision-time (default 15m).
	PendingFor   time.Duration
	AtMaxFor     time.Duration
	ActuationFor time.Duration
	// AdapterErrorRatio is the share of failed adapter scrapes above which HSDSAdapterScrapeErrors
	// is pending.
	AdapterErrorRatio float64
	AdapterErrorsFor  time.Duration
	// AdapterStaleAfter is the age of the last complete scrape round above which the store is stale.
	AdapterStaleAfter time.Duration
	AdapterStaleFor   time.Duration
	NoLeaderFor       time.Duration
	// RunbookBase is the URL of docs/operations.md; each alert appends "#<alertname in lower case>".
	RunbookBase string
}

// DefaultRunbookBase is where the runbook of every alert lives.
const DefaultRunbookBase = "https://github.com/hsds-autoscaler/hsds-autoscaler/blob/main/docs/operations.md"

// DefaultRuleOptions returns the defaults written into dashboards/alerts.yaml.
func DefaultRuleOptions() RuleOptions {
	return RuleOptions{
		RateWindow:        2 * time.Minute,
		OverloadThreshold: 1,
		OverloadFor:       5 * time.Minute,
		NotReadyFor:       10 * time.Minute,
		AgentDownFor:      5 * time.Minute,
		PendingFor:        15 * time.Minute,
		AtMaxFor:          10 * time.Minute,
		ActuationFor:      10 * time.Minute,
		AdapterErrorRatio: 0.1,
		AdapterErrorsFor:  10 * time.Minute,
		AdapterStaleAfter: time.Minute,
		AdapterStaleFor:   2 * time.Minute,
		NoLeaderFor:       2 * time.Minute,
		RunbookBase:       DefaultRunbookBase,
	}
}

// Validate returns every error in o.
func (o RuleOptions) Validate() error {
	var errs []error
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"RateWindow", o.RateWindow}, {"OverloadFor", o.OverloadFor}, {"NotReadyFor", o.NotReadyFor},
		{"AgentDownFor", o.AgentDownFor}, {"PendingFor", o.PendingFor}, {"AtMaxFor", o.AtMaxFor},
		{"ActuationFor", o.ActuationFor}, {"AdapterErrorsFor", o.AdapterErrorsFor},
		{"AdapterStaleAfter", o.AdapterStaleAfter}, {"AdapterStaleFor", o.AdapterStaleFor}, {"NoLeaderFor", o.NoLeaderFor},
	}
	for _, d := range durations {
		if d.d <= 0 || d.d%time.Second != 0 {
			errs = append(errs, fmt.Errorf("%s %s: want a positive whole number of seconds", d.name, d.d))
		}
	}
	if o.OverloadThreshold < 0 {
		errs = append(errs, fmt.Errorf("OverloadThreshold %g: want >= 0", o.OverloadThreshold))
	}
	if o.AdapterErrorRatio < 0 || o.AdapterErrorRatio >= 1 {
		errs = append(errs, fmt.Errorf("AdapterErrorRatio %g: want [0, 1)", o.AdapterErrorRatio))
	}
	if o.RunbookBase == "" {
		errs = append(errs, errors.New("RunbookBase is empty"))
	}
	return errors.Join(errs...)
}

// dur formats d as Prometheus does ("5m", "90s").
func dur(d time.Duration) string { return model.Duration(d).String() }

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is one group of rules.
type RuleGroup struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is a recording or an alerting rule.
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Severities.
const (
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Alert is one alerting rule with its documentation and its promtool unit test.
type Alert struct {
	Name     string
	Severity string
	Expr     string
	For      time.Duration
	// Summary and Description may use {{ $labels.NAME }} only (so tests can render them).
	Summary, Description string
	// Response is the first response, for docs/dashboards.md and docs/operations.md.
	Response string
	Test     AlertTest
}

// AlertTest stages series for promtool (interval 1m): with Firing the alert fires with Labels;
// with Healthy it does not.
type AlertTest struct {
	Firing, Healthy []Series
	Labels          map[string]string
}

// Series is one promtool input series: a selector and values in expanding notation ("0+60x60").
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// Runbook returns the runbook URL of alert name.
func (o RuleOptions) Runbook(name string) string { return o.RunbookBase + "#" + strings.ToLower(name) }

// Rules returns the rule file: the recording rules and the alerts.
func Rules(o RuleOptions) RuleFile {
	var alerts []Rule
	for _, a := range Alerts(o) {
		alerts = append(alerts, Rule{Alert: a.Name, Expr: a.Expr, For: dur(a.For),
			Labels: map[string]string{"severity": a.Severity},
			Annotations: map[string]string{"summary": a.Summary, "description": a.Description,
				"runbook_url": o.Runbook(a.Name)}})
	}
	return RuleFile{Groups: []RuleGroup{
		{Name: "hsds-autoscaler.recording", Rules: RecordingRules(o)},
		{Name: "hsds-autoscaler.alerts", Rules: alerts},
	}}
}

// Recording rule names.
const (
	Record503Rate      = "namespace_pod_cause:hsds_agent_503:rate2m"
	RecordRequestRate  = "namespace_pod:hsds_agent_responses:rate2m"
	RecordUtilization  = "namespace_pod:hsds_agent_utilization:ratio"
	RecordOfferedTotal = "namespace:hsds_agent_responses:rate2m"
)

// RecordingRules precompute the per-pod figures the HPA recipes and ad-hoc queries use. The "2m"
// in the names is the default RateWindow; other windows keep the names (documented).
func RecordingRules(o RuleOptions) []Rule {
	w := "[" + dur(o.RateWindow) + "]"
	return []Rule{
		{Record: Record503Rate, Expr: "sum by (namespace, pod, cause) (rate(" + AgentResponses + `{code="503"}` + w + "))"},
		{Record: RecordRequestRate, Expr: "sum by (namespace, pod) (rate(" + AgentResponses + w + "))"},
		{Record: RecordOfferedTotal, Expr: "sum by (namespace) (" + RecordRequestRate + ")"},
		{Record: RecordUtilization, Expr: "max by (namespace, pod) (" + AgentInFlight + " / " + AgentInFlightLimit + ")"},
	}
}
