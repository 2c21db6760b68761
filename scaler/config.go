package scaler

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// Duration is a time.Duration written as a Go duration string ("50s", "5m") in the policy file.
type Duration time.Duration

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string; a bare number is refused (no implied unit).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"50s\" or \"5m\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. \"50s\", \"5m\"): %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// Guards configures the controller's guards and loop (policy file spec.guards).
type Guards struct {
	// Tick is the loop period.
	Tick Duration `json:"tick"`
	// Settle is how long decisions are held after a replica change (ours or anyone's) or a pod
	// deletion: pod start-up (~30 s) + 2 x HSDS's 10 s health-check interval.
	Settle Duration `json:"settle"`
	// PendingTimeout is how long unscheduled Pending pods block further scale-ups (the time the
	// cluster autoscaler gets to add a node).
	PendingTimeout Duration `json:"pendingTimeout"`
	// StuckNotReady is how long a Running pod may stay not READY before it is reported stuck.
	StuckNotReady Duration `json:"stuckNotReady"`
	// DeleteStuckPods enables the remedy: delete a stuck pod (one at a time).
	DeleteStuckPods bool `json:"deleteStuckPods"`
	// StuckDeleteInterval is the least time between two deletions of stuck pods.
	StuckDeleteInterval Duration `json:"stuckDeleteInterval"`
	// MaxSampleAge is the age beyond which a Running pod's figures count as stale (no scale-down).
	MaxSampleAge Duration `json:"maxSampleAge"`
	// HPACheckInterval is how often the controller re-lists HPAs for a conflict (0: every tick).
	HPACheckInterval Duration `json:"hpaCheckInterval"`
}

// DefaultGuards returns the documented defaults (docs/operations.md).
func DefaultGuards() Guards {
	return Guards{
		Tick:                Duration(time.Second),
		Settle:              Duration(50 * time.Second),
		PendingTimeout:      Duration(5 * time.Minute),
		StuckNotReady:       Duration(10 * time.Minute),
		DeleteStuckPods:     false,
		StuckDeleteInterval: Duration(10 * time.Minute),
		MaxSampleAge:        Duration(15 * time.Second),
		HPACheckInterval:    Duration(15 * time.Second),
	}
}

// validate returns every problem, each prefixed with path (e.g. "spec.guards").
func (g Guards) validate(path string) []error {
	var errs []error
	positive := []struct {
		name string
		d    Duration
	}{{"tick", g.Tick}, {"stuckNotReady", g.StuckNotReady}, {"stuckDeleteInterval", g.StuckDeleteInterval}, {"maxSampleAge", g.MaxSampleAge}}
	for _, f := range positive {
		if f.d <= 0 {
			errs = append(errs, fmt.Errorf("%s.%s: must be > 0, got %s", path, f.name, f.d.D()))
		}
	}
	nonNegative := []struct {
		name string
		d    Duration
	}{{"settle", g.Settle}, {"pendingTimeout", g.PendingTimeout}, {"hpaCheckInterval", g.HPACheckInterval}}
	for _, f := range nonNegative {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("%s.%s: must be >= 0, got %s", path, f.name, f.d.D()))
		}
	}
	return errs
}

// ControllerConfig is one target's loop configuration.
type ControllerConfig struct {
	Target Target
	// Selector, when not empty, overrides the scale subresource's status.selector.
	Selector                 string
	MinReplicas, MaxReplicas int32
	Guards                   Guards
	// DryRun logs and counts what the controller would write, and writes nothing (no scale
	// write, no pod deletion, no Event).
	DryRun bool
	// SettledAtStart: when false (the default, right for serve), the first Guards.Settle after
	// the controller starts counts as settling, because a replica that just took over the lease
	// cannot know when the last rescale happened. bench and a one-shot live dry-run set it.
	SettledAtStart bool
}

// Validate returns every problem of the configuration in one error.
func (c ControllerConfig) Validate() error {
	var errs []error
	errs = append(errs, c.Target.validate("target")...)
	if c.Selector != "" {
		if _, err := labels.Parse(c.Selector); err != nil {
			errs = append(errs, fmt.Errorf("selector: %w", err))
		}
	}
	if c.MinReplicas < 1 {
		errs = append(errs, fmt.Errorf("minReplicas: must be >= 1, got %d", c.MinReplicas))
	}
	if c.MaxReplicas < c.MinReplicas {
		errs = append(errs, fmt.Errorf("maxReplicas: must be >= minReplicas (%d), got %d", c.MinReplicas, c.MaxReplicas))
	}
	errs = append(errs, c.Guards.validate("guards")...)
	return errors.Join(errs...)
}

func (t Target) validate(path string) []error {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"apiVersion", t.APIVersion}, {"kind", t.Kind}, {"namespace", t.Namespace}, {"name", t.Name},
	} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("%s.%s: required", path, f.name))
		}
	}
	return errs
}
