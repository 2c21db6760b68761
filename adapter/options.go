package adapter

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Options configure discovery, collection and the store. NewOptions gives the defaults.
type Options struct {
	Namespaces    []string      // namespaces to watch; empty: all
	LabelSelector string        // pods to watch
	AgentPort     int           // agent port unless the pod has the hsds-autoscaler.io/agent-port annotation
	MetricsPath   string        // agent metrics path
	Interval      time.Duration // mean time between scrape rounds
	Jitter        float64       // relative spread of the interval (0.1 = +-10 %)
	ScrapeTimeout time.Duration // one scrape: connect, request, body
	Workers       int           // concurrent scrapes
	MaxBodyBytes  int64         // largest exposition read
	Window        time.Duration // rate window of the served metrics and PodSamples
	ShortWindow   time.Duration // short rate window (window=short)
	StaleAfter    time.Duration // age past which a pod's last good scrape no longer counts
	// APICacheMaxAge bounds how long a cached custom-metrics answer is served without a store
	// change (answers are recomputed on every store change anyway).
	APICacheMaxAge time.Duration

	PrometheusURL            string        // when set, read agent series from Prometheus instead of scraping
	PrometheusPodLabel       string        // target label holding the pod name
	PrometheusNamespaceLabel string        // target label holding the namespace
	PrometheusInterval       time.Duration // round interval in Prometheus mode
	PrometheusStaleAfter     time.Duration // StaleAfter in Prometheus mode (cover its scrape interval)
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		LabelSelector: "app=hsds",
		AgentPort:     schema.DefaultAgentPort,
		MetricsPath:   "/metrics",
		Interval:      time.Second,
		Jitter:        0.1,
		ScrapeTimeout: 500 * time.Millisecond,
		Workers:       64,
		MaxBodyBytes:  1 << 20,
		Window:        30 * time.Second,
		ShortWindow:   10 * time.Second,
		StaleAfter:    5 * time.Second,

		APICacheMaxAge: provider.DefaultMaxAge,

		PrometheusPodLabel:       "pod",
		PrometheusNamespaceLabel: "namespace",
		PrometheusInterval:       5 * time.Second,
		PrometheusStaleAfter:     45 * time.Second,
	}
}

// AddFlags adds the options' flags to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&o.Namespaces, "hsds-namespaces", o.Namespaces, "Namespaces whose HSDS pods are watched (comma-separated); empty watches all namespaces.")
	fs.StringVar(&o.LabelSelector, "hsds-selector", o.LabelSelector, "Label selector of the HSDS pods.")
	fs.IntVar(&o.AgentPort, "agent-port", o.AgentPort, "hsds-agent port, unless a pod sets the hsds-autoscaler.io/agent-port annotation.")
	fs.StringVar(&o.MetricsPath, "agent-metrics-path", o.MetricsPath, "hsds-agent metrics path.")
	fs.DurationVar(&o.Interval, "scrape-interval", o.Interval, "Mean time between scrape rounds (at most 2s).")
	fs.Float64Var(&o.Jitter, "scrape-jitter", o.Jitter, "Relative jitter of the scrape interval, in [0, 0.5).")
	fs.DurationVar(&o.ScrapeTimeout, "scrape-timeout", o.ScrapeTimeout, "Timeout of one scrape; a pod that times out is unknown (possibly hot).")
	fs.IntVar(&o.Workers, "scrape-workers", o.Workers, "Concurrent scrapes.")
	fs.Int64Var(&o.MaxBodyBytes, "scrape-max-body-bytes", o.MaxBodyBytes, "Largest agent exposition read; larger ones are errors.")
	fs.DurationVar(&o.Window, "rate-window", o.Window, "Window of the served rates and of the scaler's PodSamples.")
	fs.DurationVar(&o.ShortWindow, "short-rate-window", o.ShortWindow, "Short rate window (metric selector window=short).")
	fs.DurationVar(&o.StaleAfter, "stale-after", o.StaleAfter, "Age past which a pod's last good scrape no longer counts.")
	fs.DurationVar(&o.APICacheMaxAge, "api-cache-max-age", o.APICacheMaxAge, "Longest a cached custom-metrics answer is served without a store change.")
	fs.StringVar(&o.PrometheusURL, "prometheus-url", o.PrometheusURL, "Read agent series from this Prometheus instead of scraping agents.")
	fs.StringVar(&o.PrometheusPodLabel, "prometheus-pod-label", o.PrometheusPodLabel, "Prometheus label holding the pod name.")
	fs.StringVar(&o.PrometheusNamespaceLabel, "prometheus-namespace-label", o.PrometheusNamespaceLabel, "Prometheus label holding the namespace.")
	fs.DurationVar(&o.PrometheusInterval, "prometheus-interval", o.PrometheusInterval, "Query interval in Prometheus mode.")
	fs.DurationVar(&o.PrometheusStaleAfter, "prometheus-stale-after", o.PrometheusStaleAfter, "Stale-after in Prometheus mode; cover Prometheus's scrape interval.")
}

// Validate returns every problem at once.
func (o *Options) Validate() error {
	var errs []error
	add := func(bad bool, format string, a ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	_, err := labels.Parse(o.LabelSelector)
	add(err != nil, "--hsds-selector %q: %w", o.LabelSelector, err)
	add(o.AgentPort < 1 || o.AgentPort > 65535, "--agent-port %d: want 1-65535", o.AgentPort)
	add(o.MetricsPath == "" || o.MetricsPath[0] != '/', "--agent-metrics-path %q: want an absolute path", o.MetricsPath)
	add(o.Interval <= 0 || o.Interval > 2*time.Second, "--scrape-interval %s: want (0, 2s]", o.Interval)
	add(o.Jitter < 0 || o.Jitter >= 0.5, "--scrape-jitter %g: want [0, 0.5)", o.Jitter)
	add(o.ScrapeTimeout <= 0 || o.ScrapeTimeout >= o.Interval, "--scrape-timeout %s: want (0, scrape-interval)", o.ScrapeTimeout)
	add(o.Workers < 1, "--scrape-workers %d: want >= 1", o.Workers)
	add(o.MaxBodyBytes < 1024, "--scrape-max-body-bytes %d: want >= 1024", o.MaxBodyBytes)
	add(o.ShortWindow < 2*o.Interval, "--short-rate-window %s: want >= 2 scrape intervals", o.ShortWindow)
	add(o.Window < o.ShortWindow, "--rate-window %s: want >= --short-rate-window", o.Window)
	add(o.StaleAfter < 2*o.Interval, "--stale-after %s: want >= 2 scrape intervals", o.StaleAfter)
	add(o.APICacheMaxAge <= 0 || o.APICacheMaxAge > time.Second, "--api-cache-max-age %s: want (0, 1s]", o.APICacheMaxAge)
	if o.PrometheusURL != "" {
		u, err := url.Parse(o.PrometheusURL)
		add(err != nil || u.Scheme == "" || u.Host == "", "--prometheus-url %q: want an absolute URL", o.PrometheusURL)
		add(o.PrometheusPodLabel == "" || o.PrometheusNamespaceLabel == "", "--prometheus-pod-label and --prometheus-namespace-label must be set")
		add(o.PrometheusInterval <= 0, "--prometheus-interval %s: want > 0", o.PrometheusInterval)
		add(o.PrometheusStaleAfter < o.PrometheusInterval, "--prometheus-stale-after %s: want >= --prometheus-interval", o.PrometheusStaleAfter)
	}
	return errors.Join(errs...)
}
