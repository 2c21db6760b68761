package agent

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Options are the agent's settings; NewOptions holds every default (docs/metrics.md, "Flags").
type Options struct {
	Source         string
	SNURL          string
	DNURL          string
	Listen         string
	ProxyListen    string
	PollInterval   time.Duration
	Timeout        time.Duration
	MaxBody        int64
	MaxTaskCount   int
	RetryAfter     time.Duration
	InFlightMaxAge time.Duration
	GateHold       time.Duration
	ProxyIdleConns int
	ProxyIdleTime  time.Duration
}

// Defaults.
const (
	DefaultSNURL          = "http://127.0.0.1:5101"
	DefaultDNURL          = "http://127.0.0.1:6101"
	DefaultProxyListen    = ":5190"
	DefaultPollInterval   = 250 * time.Millisecond
	DefaultTimeout        = time.Second
	DefaultMaxBody        = 4 << 20
	DefaultMaxTaskCount   = 100
	DefaultInFlightMaxAge = time.Second
	DefaultGateHold       = time.Second
	DefaultProxyIdleConns = -1 // sized from --max-task-count: IdleConnsFor
	DefaultProxyIdleTime  = time.Second
)

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		Source:         schema.SourceMetrics,
		SNURL:          DefaultSNURL,
		DNURL:          DefaultDNURL,
		Listen:         ":" + strconv.Itoa(schema.DefaultAgentPort),
		ProxyListen:    DefaultProxyListen,
		PollInterval:   DefaultPollInterval,
		Timeout:        DefaultTimeout,
		MaxBody:        DefaultMaxBody,
		MaxTaskCount:   DefaultMaxTaskCount,
		InFlightMaxAge: DefaultInFlightMaxAge,
		GateHold:       DefaultGateHold,
		ProxyIdleConns: DefaultProxyIdleConns,
		ProxyIdleTime:  DefaultProxyIdleTime,
	}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Source, "source", o.Source, "what to read: metrics (HSDS 1.x /metrics), info (HSDS 0.9.x /info) or proxy (count traffic as a reverse proxy in front of the SN)")
	fs.StringVar(&o.SNURL, "sn-url", o.SNURL, "base URL of the HSDS service node")
	fs.StringVar(&o.DNURL, "dn-url", o.DNURL, "base URL of the HSDS data node; empty skips the DN")
	fs.StringVar(&o.Listen, "listen", o.Listen, "address to serve /metrics, /healthz and /readyz on")
	fs.StringVar(&o.ProxyListen, "proxy-listen", o.ProxyListen, "address the proxy listens on (source proxy only); point the hsds Service's targetPort here")
	fs.DurationVar(&o.PollInterval, "poll-interval", o.PollInterval, "how often to read HSDS")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "time limit of each HTTP read of HSDS")
	fs.Int64Var(&o.MaxBody, "max-body", o.MaxBody, "largest body read from HSDS, in bytes; larger ones are errors (too_large)")
	fs.IntVar(&o.MaxTaskCount, "max-task-count", o.MaxTaskCount, "HSDS max_task_count, exported as the limit when HSDS does not expose it (0.9.x)")
	fs.DurationVar(&o.RetryAfter, "retry-after", o.RetryAfter, "source proxy: add Retry-After (whole seconds, rounded up) to 503s; 0 disables")
	fs.DurationVar(&o.InFlightMaxAge, "in-flight-max-age", o.InFlightMaxAge, "source info: export HSDS's task sample (taken at the last gated request) as in-flight only while it is at most this old; an idle 0.9.x SN keeps its last burst's count")
	fs.DurationVar(&o.GateHold, "gate-hold", o.GateHold, "sources info and proxy: how long after an /info task sample above the limit the SN's gate counts as rejecting (503s then count as overload)")
	fs.IntVar(&o.ProxyIdleConns, "proxy-idle-conns", o.ProxyIdleConns, "source proxy: idle keep-alive connections kept to the SN (each is an SN task that counts against max_task_count); -1 sizes the pool from --max-task-count (1 per 20, at least 1), 0 turns keep-alive off")
	fs.DurationVar(&o.ProxyIdleTime, "proxy-idle-timeout", o.ProxyIdleTime, "source proxy: close an idle connection to the SN after this long, giving its task slot back")
}

// Validate returns every error in the options.
func (o *Options) Validate() error {
	var errs []error
	switch o.Source {
	case schema.SourceMetrics, schema.SourceInfo, schema.SourceProxy:
	default:
		errs = append(errs, fmt.Errorf("--source %q: want %s, %s or %s", o.Source, schema.SourceMetrics, schema.SourceInfo, schema.SourceProxy))
	}
	if err := checkURL(o.SNURL); err != nil {
		errs = append(errs, fmt.Errorf("--sn-url: %w", err))
	}
	if o.DNURL != "" {
		if err := checkURL(o.DNURL); err != nil {
			errs = append(errs, fmt.Errorf("--dn-url: %w", err))
		}
	}
	if o.Listen == "" {
		errs = append(errs, errors.New("--listen is empty"))
	}
	sameAddr := o.ProxyListen == o.Listen && !strings.HasSuffix(o.Listen, ":0") // ":0" picks a free port
	if o.Source == schema.SourceProxy && (o.ProxyListen == "" || sameAddr) {
		errs = append(errs, fmt.Errorf("--proxy-listen %q: want an address other than --listen", o.ProxyListen))
	}
	positive := []struct {
		name string
		ok   bool
	}{
		{"--poll-interval", o.PollInterval > 0},
		{"--timeout", o.Timeout > 0},
		{"--max-body", o.MaxBody > 0},
		{"--max-task-count", o.MaxTaskCount > 0},
	}
	for _, p := range positive {
		if !p.ok {
			errs = append(errs, fmt.Errorf("%s must be > 0", p.name))
		}
	}
	if o.RetryAfter < 0 || o.InFlightMaxAge < 0 || o.GateHold < 0 || o.ProxyIdleTime < 0 {
		errs = append(errs, errors.New("--retry-after, --in-flight-max-age, --gate-hold and --proxy-idle-timeout must be >= 0"))
	}
	if o.ProxyIdleConns < -1 {
		errs = append(errs, errors.New("--proxy-idle-conns must be >= -1 (-1: sized from --max-task-count)"))
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute http(s) URL with a host and no query.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("parse %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("%q: want http(s)://host[:port]", s)
	}
	return nil
}
