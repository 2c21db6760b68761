package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
)

func parse(t *testing.T, args ...string) *Options {
	t.Helper()
	o := NewOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	o.Complete(fs)
	return o
}

func TestOptions_Config(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want fakehsds.Config
	}{
		{"defaults: 1.0.1 with metrics", nil, fakehsds.Config{
			MaxTaskCount: 100, DNCount: 1, ServiceTime: fakehsds.Fixed(5 * time.Millisecond), Version: "1.0.1",
			Metrics: true, InitialState: "READY", NodeID: "fake", RescaleSettle: 10 * time.Second, Seed: 1, GateJamMin: 28 * time.Second, GateJamMax: 32 * time.Second}},
		{"0.9.4 has no metrics by default", []string{"--version=0.9.4", "--state=WAITING", "--sticky-waiting",
			"--service-time=lognormal:2ms,0.5", "--dn-count=3", "--max-task-count=20", "--rescale-settle=0", "--seed=9"},
			fakehsds.Config{MaxTaskCount: 20, DNCount: 3, ServiceTime: fakehsds.LogNormal(2*time.Millisecond, 0.5),
				Version: "0.9.4", InitialState: "WAITING", StickyWaiting: true, NodeID: "fake", Seed: 9,
				GateJamMin: 28 * time.Second, GateJamMax: 32 * time.Second}},
		{"--metrics forces it on 0.9.4", []string{"--version=0.9.4", "--metrics"}, fakehsds.Config{
			MaxTaskCount: 100, DNCount: 1, ServiceTime: fakehsds.Fixed(5 * time.Millisecond), Version: "0.9.4",
			Metrics: true, InitialState: "READY", NodeID: "fake", RescaleSettle: 10 * time.Second, Seed: 1, GateJamMin: 28 * time.Second, GateJamMax: 32 * time.Second}},
		{"--no-metrics on 1.0.1", []string{"--no-metrics", "--service-time=exp:1ms"}, fakehsds.Config{
			MaxTaskCount: 100, DNCount: 1, ServiceTime: fakehsds.Exponential(time.Millisecond), Version: "1.0.1",
			InitialState: "READY", NodeID: "fake", RescaleSettle: 10 * time.Second, Seed: 1, GateJamMin: 28 * time.Second, GateJamMax: 32 * time.Second}},
		{"measured 0.9.4 behaviour", []string{"--version=0.9.4", "--background-tasks=2", "--loop-cost=500us",
			"--roster=head", "--dn-drop-after=30s", "--domain=/home/a.h5", "--domain=/home/b.h5"}, fakehsds.Config{
			MaxTaskCount: 100, DNCount: 1, ServiceTime: fakehsds.Fixed(5 * time.Millisecond), Version: "0.9.4",
			InitialState: "READY", NodeID: "fake", RescaleSettle: 10 * time.Second, Seed: 1,
			BackgroundTasks: 2, LoopCost: 500 * time.Microsecond, Roster: "head", DNDropAfter: 30 * time.Second,
			Domains: []string{"/home/a.h5", "/home/b.h5"}, GateJamMin: 28 * time.Second, GateJamMax: 32 * time.Second}},
		{"the measured Kubernetes-mode scale-down gate jam", []string{"--gate-jam-chance=0.9"}, fakehsds.Config{
			MaxTaskCount: 100, DNCount: 1, ServiceTime: fakehsds.Fixed(5 * time.Millisecond), Version: "1.0.1",
			Metrics: true, InitialState: "READY", NodeID: "fake", RescaleSettle: 10 * time.Second, Seed: 1,
			GateJamChance: 0.9, GateJamMin: 28 * time.Second, GateJamMax: 32 * time.Second}},
		{"a gate jam of another window", []string{"--gate-jam-chance=1", "--gate-jam-min=5s", "--gate-jam-max=5s"}, fakehsds.Config{
			MaxTaskCount: 100, DNCount: 1, ServiceTime: fakehsds.Fixed(5 * time.Millisecond), Version: "1.0.1",
			Metrics: true, InitialState: "READY", NodeID: "fake", RescaleSettle: 10 * time.Second, Seed: 1,
			GateJamChance: 1, GateJamMin: 5 * time.Second, GateJamMax: 5 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := configDiff(tc.want, configOf(t, tc.args...), "Clock"); diff != "" {
				t.Errorf("Config (-want +got):\n%s", diff)
			}
		})
	}
}

// docs/fake-hsds.md, "The scale-down gate jam": the flags it gives give fakehsds.MeasuredKube094().
func TestOptions_MeasuredKube094(t *testing.T) {
	got := configOf(t, "--version=0.9.4", "--background-tasks=2", "--loop-cost=500us", "--service-time=fixed:1.5ms",
		"--rescale-settle=0", "--gate-jam-chance=0.9")
	// Roster "" is kubernetes (New completes it).
	if diff := configDiff(fakehsds.MeasuredKube094(), got, "Clock", "Roster"); diff != "" {
		t.Errorf("Config (-MeasuredKube094 +flags):\n%s", diff)
	}
}

func TestOptions_ValidateReportsAllErrors(t *testing.T) {
	o := parse(t, "--sn-listen=nope", "--dn-count=0", "--max-task-count=-1", "--state=SCALING",
		"--metrics", "--no-metrics")
	err := o.Validate()
	if err == nil {
		t.Fatal("Validate: no error")
	}
	for _, want := range []string{"--sn-listen", "dn count", "max task count", "initial state", "--metrics and --no-metrics"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	jam := parse(t, "--gate-jam-chance=1.5", "--gate-jam-min=40s")
	err = jam.Validate()
	for _, want := range []string{"gate jam chance 1.5", "gate jam window [40s, 32s]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad gate jam flags: error %v lacks %q", err, want)
		}
	}
	bad := parse(t, "--service-time=gamma:1ms", "--dn-count=0")
	err = bad.Validate()
	for _, want := range []string{"--service-time", "dn count"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad --service-time and --dn-count: error %v lacks %q", err, want)
		}
	}
}

// configOf parses args, validates them and returns the pod configuration they give.
func configOf(t *testing.T, args ...string) fakehsds.Config {
	t.Helper()
	o := parse(t, args...)
	if err := o.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	c, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// configDiff compares two pod configurations (distributions by value), ignoring the named fields.
func configDiff(want, got fakehsds.Config, ignore ...string) string {
	opt := cmp.Comparer(func(a, b fakehsds.Distribution) bool { return cmp.Equal(a, b, cmp.AllowUnexported(a, b)) })
	return cmp.Diff(want, got, opt, cmpopts.IgnoreFields(fakehsds.Config{}, ignore...))
}
