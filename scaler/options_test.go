package scaler

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

func TestOptionsDefaultsAndFlags(t *testing.T) {
	o := NewOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	o.AddFlags(fs)
	err := fs.Parse([]string{"--policy=/p.yaml", "--dry-run", "--delete-stuck-pods", "--leader-elect-namespace=hsds", "--leader-elect-identity=me",
		"--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s", "--leader-elect-retry-period=4s"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Options{PolicyFile: "/p.yaml", DryRun: true, DeleteStuckPods: true, LeaderElection: LeaderElectionOptions{Enabled: true, Namespace: "hsds",
		Name: "hsds-autoscaler", Identity: "me", LeaseDuration: 30 * time.Second, RenewDeadline: 20 * time.Second, RetryPeriod: 4 * time.Second}}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
}

// --delete-stuck-pods turns the remedy on over a policy that leaves it off; without it the policy
// decides.
func TestOptionsControllerConfigRemedySwitch(t *testing.T) {
	pf := &PolicyFile{Spec: PolicySpec{Guards: DefaultGuards()}}
	for _, tt := range []struct{ flag, policy, want bool }{{false, false, false}, {false, true, true}, {true, false, true}} {
		o := NewOptions()
		o.DeleteStuckPods, pf.Spec.Guards.DeleteStuckPods = tt.flag, tt.policy
		if got := o.ControllerConfig(pf).Guards.DeleteStuckPods; got != tt.want {
			t.Errorf("flag %v, policy %v: deleteStuckPods %v, want %v", tt.flag, tt.policy, got, tt.want)
		}
	}
}

func TestOptionsValidateListsEveryProblem(t *testing.T) {
	o := NewOptions()
	o.PolicyFile = ""
	o.LeaderElection = LeaderElectionOptions{Enabled: true, LeaseDuration: time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 2 * time.Second}
	err := o.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, s := range []string{"--policy", "--leader-elect-namespace", "--leader-elect-lease-name", "--leader-elect-renew-deadline", "--leader-elect-lease-duration"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %s:\n%v", s, err)
		}
	}
	o.LeaderElection.Enabled = false
	o.PolicyFile = "x"
	if err := o.Validate(); err != nil {
		t.Errorf("leader election off: lease settings must not matter, got %v", err)
	}
}
