package scaler

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Options are the command-line options of `hsds-autoscaler serve` and `dry-run` that concern the
// scaler. Build with NewOptions (defaults), bind with AddFlags, check with Validate.
type Options struct {
	// PolicyFile is the path of the ScalingPolicy file (--policy).
	PolicyFile string
	// DryRun logs and counts decisions without writing anything (--dry-run).
	DryRun bool
	// DeleteStuckPods turns the stuck-pod remedy on (guards.deleteStuckPods) whatever the policy
	// file says (--delete-stuck-pods): the deployment switch that also grants the pod deletion.
	DeleteStuckPods bool
	// LeaderElection configures the Lease that makes only one replica act.
	LeaderElection LeaderElectionOptions
	// LearnedConfigMap names the ConfigMap, in the leader-election namespace, that keeps what the
	// policy file's policy learned across restarts (--learned-configmap; empty: not kept).
	LearnedConfigMap string
}

// LeaderElectionOptions configure Lease-based leader election (scaler/kube.RunWithLeaderElection).
type LeaderElectionOptions struct {
	Enabled   bool
	Namespace string
	Name      string
	// Identity of this candidate; empty: hostname plus a random suffix, chosen at start.
	Identity      string
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

// leaderJitter is client-go's leaderelection.JitterFactor: RenewDeadline must exceed
// RetryPeriod times it.
const leaderJitter = 1.2

// NewOptions returns the defaults (docs/operations.md, "Flags").
func NewOptions() *Options {
	return &Options{
		PolicyFile: "/etc/hsds-autoscaler/policy.yaml",
		LeaderElection: LeaderElectionOptions{
			Enabled:       true,
			Namespace:     "default",
			Name:          "hsds-autoscaler",
			LeaseDuration: 15 * time.Second,
			RenewDeadline: 10 * time.Second,
			RetryPeriod:   2 * time.Second,
		},
	}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.PolicyFile, "policy", o.PolicyFile, "Path of the ScalingPolicy file (apiVersion hsds-autoscaler.io/v1alpha1).")
	fs.BoolVar(&o.DryRun, "dry-run", o.DryRun, "Log and count what the scaler would do; write nothing (no scale, no pod deletion, no Event).")
	fs.BoolVar(&o.DeleteStuckPods, "delete-stuck-pods", o.DeleteStuckPods, "Turn the stuck-pod remedy (guards.deleteStuckPods) on whatever the policy says; needs pods delete in the target's namespace (deploy/components/stuck-pod-remedy, chart value stuckPodRemedy.enabled).")
	fs.StringVar(&o.LearnedConfigMap, "learned-configmap", o.LearnedConfigMap, "ConfigMap in the leader-election namespace (--leader-elect-namespace, POD_NAMESPACE) that keeps what the policy file's policy learned (the pod capacity) across restarts; needs configmaps get, create, update there. Empty: not kept (HSDSAutoscaler objects keep theirs in their status).")
	le := &o.LeaderElection
	fs.BoolVar(&le.Enabled, "leader-elect", le.Enabled, "Hold a Lease so that only one replica acts.")
	fs.StringVar(&le.Namespace, "leader-elect-namespace", le.Namespace, "Namespace of the leader-election Lease.")
	fs.StringVar(&le.Name, "leader-elect-lease-name", le.Name, "Name of the leader-election Lease.")
	fs.StringVar(&le.Identity, "leader-elect-identity", le.Identity, "Identity of this candidate (default: hostname plus a random suffix).")
	fs.DurationVar(&le.LeaseDuration, "leader-elect-lease-duration", le.LeaseDuration, "How long non-leaders wait before taking over an unrenewed Lease.")
	fs.DurationVar(&le.RenewDeadline, "leader-elect-renew-deadline", le.RenewDeadline, "How long the leader retries renewing before it gives up leading.")
	fs.DurationVar(&le.RetryPeriod, "leader-elect-retry-period", le.RetryPeriod, "Interval between attempts to acquire or renew the Lease.")
}

// ControllerConfig is the policy file's controller configuration with these options applied
// (dry-run, the stuck-pod remedy switch).
func (o *Options) ControllerConfig(pf *PolicyFile) ControllerConfig {
	cfg := pf.ControllerConfig(o.DryRun)
	cfg.Guards.DeleteStuckPods = cfg.Guards.DeleteStuckPods || o.DeleteStuckPods
	return cfg
}

// Validate returns every problem in one error.
func (o *Options) Validate() error { return o.ValidateFor(PolicyRequired) }

// PolicyRule says whether --policy is required.
type PolicyRule bool

// Policy rules.
const (
	// PolicyRequired: dry-run, and serve without HSDSAutoscaler objects.
	PolicyRequired PolicyRule = true
	// PolicyOptional: serve reconciling HSDSAutoscaler objects; --policy="" then means none.
	PolicyOptional PolicyRule = false
)

// ValidateFor returns every problem in one error, --policy as rule says.
func (o *Options) ValidateFor(rule PolicyRule) error {
	var errs []error
	if o.PolicyFile == "" && rule == PolicyRequired {
		errs = append(errs, errors.New("--policy: required"))
	}
	errs = append(errs, o.LeaderElection.validate()...)
	return errors.Join(errs...)
}

func (le LeaderElectionOptions) validate() []error {
	if !le.Enabled {
		return nil
	}
	var errs []error
	if le.Namespace == "" {
		errs = append(errs, errors.New("--leader-elect-namespace: required with --leader-elect"))
	}
	if le.Name == "" {
		errs = append(errs, errors.New("--leader-elect-lease-name: required with --leader-elect"))
	}
	if le.RetryPeriod <= 0 {
		errs = append(errs, fmt.Errorf("--leader-elect-retry-period: must be > 0, got %s", le.RetryPeriod))
	}
	if float64(le.RenewDeadline) <= leaderJitter*float64(le.RetryPeriod) {
		errs = append(errs, fmt.Errorf("--leader-elect-renew-deadline: must be > %g x retry period (%s), got %s", leaderJitter, le.RetryPeriod, le.RenewDeadline))
	}
	if le.LeaseDuration <= le.RenewDeadline {
		errs = append(errs, fmt.Errorf("--leader-elect-lease-duration: must be > renew deadline (%s), got %s", le.RenewDeadline, le.LeaseDuration))
	}
	return errs
}
