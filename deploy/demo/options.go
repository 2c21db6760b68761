package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/replay"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// DefaultTrace is the trace replayed by default, relative to the repository root.
const DefaultTrace = "bench/traces/worldcup98_1998-06-22_to_07-13_per_minute.csv"

// HSDS modes (--hsds).
const (
	// HSDSFake runs fake HSDS pods (agent/fakehsds) on loopback addresses: fast, no root.
	HSDSFake = "fake"
	// HSDSReal runs real HSDS 0.9.4 pods (../shared/real-hsds), a network namespace each:
	// root only (deploy/internal/fakekubelet, ModeReal).
	HSDSReal = "real"
)

// Options are the demo's flags. NewOptions gives the defaults (docs/demo.md lists them).
type Options struct {
	HSDS       string // HSDSFake or HSDSReal
	Bin        string // directory holding hsds-autoscaler (make build)
	K8sBin     string // directory holding kube-apiserver, kube-controller-manager, kubectl
	Out        string // output directory
	Duration   time.Duration
	Warmup     time.Duration // the slice's first rate offered this long before the replay
	Trace      string
	Compressed float64 // trace seconds per replay second
	PeakRPS    float64
	SliceStart float64 // trace seconds; < 0: choose the flash crowd
	Policy     string  // ScalingPolicy file; "" = the embedded demo policy
	Prometheus string  // Prometheus binary; "" = none

	InitialReplicas int
	Slots           int           // pods that fit on the fake node before the cluster autoscaler
	ScaleUpDelay    time.Duration // simulated cluster autoscaler: Unschedulable this long -> a slot
	MaxTaskCount    int
	ServiceTime     string // fakehsds distribution
	RescaleSettle   time.Duration
	GateJamChance   float64 // fake pods: chance a scale-down jams an SN's gate (fakehsds.Config)
	Seed            uint64
	Plain           bool // plain appended lines even on a terminal
	Keep            bool // keep the control plane's temporary directory
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		HSDS:            HSDSFake,
		Out:             "demo-out",
		Duration:        3 * time.Minute,
		Warmup:          30 * time.Second,
		Compressed:      60,
		PeakRPS:         50,
		SliceStart:      -1,
		Prometheus:      "/usr/bin/prometheus",
		InitialReplicas: 2,
		Slots:           3,
		ScaleUpDelay:    15 * time.Second,
		MaxTaskCount:    60,
		ServiceTime:     "lognormal:500ms,0.4",
		RescaleSettle:   5 * time.Second,
		Seed:            1,
	}
}

// AddFlags registers the flags on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.HSDS, "hsds", o.HSDS, "HSDS pods: fake (fake HSDS on loopback addresses) or real (real HSDS 0.9.4, a network namespace each; root, ../shared/real-hsds/install.sh). real changes the defaults of other flags (docs/demo.md).")
	fs.StringVar(&o.Bin, "bin", o.Bin, "Directory holding the hsds-autoscaler binary (make build writes bin/). Required.")
	fs.StringVar(&o.K8sBin, "k8s-bin", o.K8sBin, "Directory holding kube-apiserver, kube-controller-manager and kubectl (default: $HSDS_K8S_BIN or .cache/k8s/v1.36.3/bin; built when missing).")
	fs.StringVar(&o.Out, "out", o.Out, "Output directory: summary.txt, demo.png, logs.")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "Length of the replay (wall time).")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "Offer the slice's first rate this long before the replay starts (the scaler gets a history; shown as negative t).")
	fs.StringVar(&o.Trace, "trace", o.Trace, "Trace file (t_seconds,requests_per_second); default "+DefaultTrace+".")
	fs.Float64Var(&o.Compressed, "compression", o.Compressed, "Time compression: trace seconds per replay second (>= 1).")
	fs.Float64Var(&o.PeakRPS, "peak-rps", o.PeakRPS, "Request rate the slice's busiest bin is scaled to.")
	fs.Float64Var(&o.SliceStart, "slice-start", o.SliceStart, "Offset of the slice in the trace, trace seconds; negative: choose the sharpest flash crowd.")
	fs.StringVar(&o.Policy, "policy", o.Policy, "ScalingPolicy file for serve; empty: the demo policy (deploy/demo/policy.yaml).")
	fs.StringVar(&o.Prometheus, "prometheus", o.Prometheus, "Prometheus binary; empty or missing: run without Prometheus.")
	fs.IntVar(&o.InitialReplicas, "initial-replicas", o.InitialReplicas, "spec.replicas of the hsds Deployment at start.")
	fs.IntVar(&o.Slots, "slots", o.Slots, "HSDS pods that fit on the fake node; more stay Pending until the simulated cluster autoscaler adds a slot.")
	fs.DurationVar(&o.ScaleUpDelay, "scale-up-delay", o.ScaleUpDelay, "Simulated cluster autoscaler: a pod Unschedulable this long gets a slot.")
	fs.IntVar(&o.MaxTaskCount, "max-task-count", o.MaxTaskCount, "HSDS SN task limit (max_task_count).")
	fs.StringVar(&o.ServiceTime, "service-time", o.ServiceTime, "Fake HSDS time of one fan-out task: fixed:D, exp:MEAN or lognormal:MEDIAN,SIGMA.")
	fs.DurationVar(&o.RescaleSettle, "rescale-settle", o.RescaleSettle, "Fake HSDS WAITING time after the DN count changes (HSDS 1.0.1 rescale; real HSDS ~10s).")
	fs.Float64Var(&o.GateJamChance, "gate-jam-chance", o.GateJamChance, "Fake HSDS: chance that a scale-down jams each SN's gate for 28-32 s (every gated request an overload 503), as measured on real 0.9.4 pods without a preStop sleep (0.9; with --rescale-settle 0). 0: off.")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "Seed of the load generator and the fake service times.")
	fs.BoolVar(&o.Plain, "plain", o.Plain, "Print one line per second instead of redrawing the screen (automatic when stdout is not a terminal).")
	fs.BoolVar(&o.Keep, "keep", o.Keep, "Keep the control plane's temporary directory (logs, kubeconfig, etcd data).")
}

// realDefaults are the defaults of --hsds real where they differ from the fake pods'. Real HSDS
// 0.9.4 pods on 2 shared cores: one pod serves ~120 requests/s (docs/e2e.md, "Real pods"), the
// slice peaks at 1.5 pods' worth and starts on one pod (on an idle machine one pod served up to
// 252 req/s without a 503, and the scaler, by its signals, kept one pod: docs/demo.md, "Real HSDS
// pods"); max_task_count 30, not the e2e tests' 10, so that a lightly loaded SN's in-flight figure
// (never below 4 tasks) stays under the policy's scaleDownUtilization (policy-real.yaml). The slice starts at realSliceStart and runs 4 minutes.
var realDefaults = map[string]func(o *Options){
	"max-task-count":   func(o *Options) { o.MaxTaskCount = 30 },
	"peak-rps":         func(o *Options) { o.PeakRPS = 180 },
	"initial-replicas": func(o *Options) { o.InitialReplicas = 1 },
	"warmup":           func(o *Options) { o.Warmup = 20 * time.Second },
	"duration":         func(o *Options) { o.Duration = 4 * time.Minute },
	"slice-start":      func(o *Options) { o.SliceStart = realSliceStart },
}

// realSliceStart is the fake demo's flash crowd (d3+14:51, the 16:00 match), in trace seconds; the
// real demo replays it with one more hour after it: in 3 minutes the real pods' scale-down came at
// t=164 s of 180, too close to the end to show what it costs.
const realSliceStart = 3*86400 + 14*3600 + 51*60

// ApplyModeDefaults gives the flags that changed(name) reports unset the defaults of the HSDS
// mode (realDefaults for --hsds real).
func (o *Options) ApplyModeDefaults(changed func(name string) bool) {
	if o.HSDS != HSDSReal {
		return
	}
	for name, set := range realDefaults {
		if !changed(name) {
			set(o)
		}
	}
}

// Validate returns every problem at once.
func (o *Options) Validate() error {
	var errs []error
	add := func(bad bool, format string, a ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	add(o.HSDS != HSDSFake && o.HSDS != HSDSReal, "--hsds %q: want %s or %s", o.HSDS, HSDSFake, HSDSReal)
	add(o.Bin == "", "--bin: required (the directory make build writes)")
	if o.Bin != "" {
		add(!isExecutable(filepath.Join(o.Bin, "hsds-autoscaler")), "--bin %q: no executable hsds-autoscaler in it (run make build)", o.Bin)
		add(o.HSDS == HSDSReal && !isExecutable(filepath.Join(o.Bin, "hsds-agent")), "--bin %q: no executable hsds-agent in it (run make build)", o.Bin)
	}
	if o.HSDS == HSDSReal {
		if err := fakekubelet.CheckReal(""); err != nil {
			errs = append(errs, fmt.Errorf("--hsds real: %w", err))
		}
	}
	add(o.Out == "", "--out: required")
	add(o.Warmup < 0 || o.Warmup > 5*time.Minute, "--warmup %s: want [0, 5m]", o.Warmup)
	add(o.InitialReplicas < 1, "--initial-replicas %d: want >= 1", o.InitialReplicas)
	add(o.Slots < 1, "--slots %d: want >= 1", o.Slots)
	add(o.ScaleUpDelay < 0, "--scale-up-delay %s: want >= 0", o.ScaleUpDelay)
	add(o.MaxTaskCount < 1, "--max-task-count %d: want >= 1", o.MaxTaskCount)
	add(o.RescaleSettle < 0, "--rescale-settle %s: want >= 0", o.RescaleSettle)
	add(!(o.GateJamChance >= 0 && o.GateJamChance <= 1), "--gate-jam-chance %g: want [0, 1]", o.GateJamChance)
	if _, err := fakehsds.ParseDistribution(o.ServiceTime); err != nil {
		errs = append(errs, fmt.Errorf("--service-time %q: %w", o.ServiceTime, err))
	}
	p := o.replayParams()
	if err := p.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("replay: %w", err))
	}
	add(o.Duration > 30*time.Minute, "--duration %s: at most 30m", o.Duration)
	if o.Policy != "" {
		_, err := os.Stat(o.Policy)
		add(err != nil, "--policy %q: %v", o.Policy, err)
	}
	return errors.Join(errs...)
}

func (o *Options) replayParams() replay.Params {
	return replay.Params{Duration: o.Duration, Compression: o.Compressed, PeakRPS: o.PeakRPS, Start: o.SliceStart}
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
