package bench

import (
	"context"
	"fmt"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/baseline"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// Policy names.
const (
	PolicyHSDS = "hsds"
	PolicyHPA  = "hpa-prometheus-adapter"
	PolicyKEDA = "keda"
	PolicyKPA  = "kpa"
)

// AllPolicies lists the built-in policies in report order.
func AllPolicies() []string {
	return []string{PolicyHSDS, PolicyHPA, PolicyKEDA, PolicyKPA}
}

// Policy is one policy bench can run.
type Policy struct {
	Name string
	// Guarded policies run through scaler.Controller (guards of the policy file, Guards.Tick
	// period). Others are "direct": every period New returns (1 s for the upstream recipes and
	// KPA: their emulated collectors, Prometheus and Knative's scraper, sample the pods' raw
	// figures at whole seconds; the HPA's 15 s sync and KPA's 2 s tick run inside them) their
	// valid recommendation, clamped to [MinReplicas, MaxReplicas], is written to spec.replicas,
	// as the HPA controller does for the upstream recipes: nothing but the HPA algorithm between
	// the metric and the replica count.
	Guarded bool
	// New builds a fresh recommender for one replay, and its control period (direct only).
	New func(env Env) (heuristics.Recommender, time.Duration, error)
}

// Env is what a policy may use to build its recommender.
type Env struct {
	Scenario sim.Scenario
	// Policy is the hsds policy (policy file, or defaults) with the scenario's replica bounds.
	Policy heuristics.Policy
	// Seed is the replay's seed.
	Seed uint64
}

func builtinPolicies() []Policy {
	return []Policy{
		{Name: PolicyHSDS, Guarded: true, New: func(env Env) (heuristics.Recommender, time.Duration, error) {
			r, err := heuristics.NewHSDS(env.Policy)
			return r, 0, err
		}},
		{Name: PolicyHPA, New: func(env Env) (heuristics.Recommender, time.Duration, error) {
			c := baseline.DefaultHPAConfig()
			c.MinReplicas, c.MaxReplicas = env.Scenario.MinReplicas, env.Scenario.MaxReplicas
			r, err := baseline.NewHPA(c)
			return r, promPeriod, err
		}},
		{Name: PolicyKEDA, New: func(env Env) (heuristics.Recommender, time.Duration, error) {
			c := baseline.DefaultKEDAConfig()
			c.MinReplicas, c.MaxReplicas = env.Scenario.MinReplicas, env.Scenario.MaxReplicas
			r, err := baseline.NewKEDA(c)
			return r, promPeriod, err
		}},
		{Name: PolicyKPA, New: func(env Env) (heuristics.Recommender, time.Duration, error) {
			c := baseline.DefaultKPAConfig()
			c.MinReplicas, c.MaxReplicas = env.Scenario.MinReplicas, env.Scenario.MaxReplicas
			r, err := baseline.NewKPA(c)
			return r, c.BucketSize.Duration, err // Knative's scraper: every second; the decider ticks every 2 s
		}},
	}
}

// promPeriod is how often bench calls the Prometheus-fed recipes (HPA, KEDA): every second, so
// that their emulated Prometheus scrapes each pod at its own whole-second instant; the HPA in
// them syncs on its own 15 s grid and recommends no change in between.
const promPeriod = time.Second

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func policyNames(extra []Policy) []string {
	var names []string
	for _, p := range append(builtinPolicies(), extra...) {
		names = append(names, p.Name)
	}
	return names
}

// resolvePolicies returns the policies to run, in cfg.Policies' order.
func resolvePolicies(cfg Config) ([]Policy, error) {
	all := append(builtinPolicies(), cfg.Extra...)
	byName := map[string]Policy{}
	for _, p := range all {
		byName[p.Name] = p
	}
	var out []Policy
	for _, n := range cfg.Policies {
		out = append(out, byName[n])
	}
	return out, nil
}

// stepFunc runs one control step at the simulator's now.
type stepFunc func(ctx context.Context) error

// directDriver writes the recommender's valid decisions straight to spec.replicas, clamped to
// the scenario's bounds. It is the only writer of the simulated spec.replicas in a direct replay,
// so it keeps the replay's one record of replica changes and hands it over in the snapshot
// (Snapshot.LastChange), with the bounds; it has no settle time (Settling stays false: the
// upstream recipes have none), and the baselines read their own exposed figures, not Fresh.
func directDriver(s *sim.Sim, rec heuristics.Recommender) stepFunc {
	sc := s.Scenario()
	var lastChange time.Time
	return func(context.Context) error {
		snap := s.Snapshot()
		snap.MinReplicas, snap.MaxReplicas, snap.LastChange = sc.MinReplicas, sc.MaxReplicas, lastChange
		d := rec.Recommend(snap)
		if !d.Valid {
			return nil
		}
		to := min(max(d.Replicas, sc.MinReplicas), sc.MaxReplicas)
		if to == snap.SpecReplicas {
			return nil
		}
		s.SetSpec(to)
		lastChange = snap.Time
		return nil
	}
}

// controllerDriver runs the real scaler.Controller on the simulator (its ScaleClient,
// PodSource, HPALister, EventSink and PodDeleter) with a fake clock set to simulated time.
// observe, when not nil, sees every step's Outcome.
func controllerDriver(s *sim.Sim, rec heuristics.Recommender, pf *scaler.PolicyFile, observe func(scaler.Outcome)) (stepFunc, time.Duration, error) {
	sc := s.Scenario()
	cfg := pf.ControllerConfig(false)
	cfg.Target, cfg.Selector = sim.Target(), ""
	cfg.MinReplicas, cfg.MaxReplicas = sc.MinReplicas, sc.MaxReplicas
	cfg.SettledAtStart = true
	clk := clocktesting.NewFakeClock(s.Now())
	c, err := scaler.NewController(cfg, scaler.Deps{
		Scales: s, Pods: s, HPAs: s, Events: s, Deleter: s, Recommender: rec, Clock: clk,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("controller for %s: %w", rec.Name(), err)
	}
	step := func(ctx context.Context) error {
		clk.SetTime(s.Now())
		o, err := c.Step(ctx)
		if err != nil {
			return fmt.Errorf("%s step at %v: %w", rec.Name(), s.Now(), err)
		}
		if observe != nil {
			observe(o)
		}
		return nil
	}
	return step, cfg.Guards.Tick.Duration, nil
}

// loadPolicyFile returns the policy file hsds runs with (defaults when path is empty), with the
// scenario's replica bounds. The simulated cluster is the target: the file need not name one.
func loadPolicyFile(path string, sc sim.Scenario) (*scaler.PolicyFile, error) {
	var pf *scaler.PolicyFile
	var err error
	if path == "" {
		// A file with only its type holds every default.
		minimal := fmt.Sprintf("apiVersion: %s\nkind: %s\n", scaler.PolicyAPIVersion, scaler.PolicyKind)
		pf, err = scaler.DecodePolicyFile([]byte(minimal), scaler.TargetOptional)
	} else {
		pf, err = scaler.LoadPolicyFile(path, scaler.TargetOptional)
	}
	if err != nil {
		return nil, err // a *scaler.PolicyError already says "policy file <path>"
	}
	pf.Spec.Policy.MinReplicas, pf.Spec.Policy.MaxReplicas = sc.MinReplicas, sc.MaxReplicas
	return pf, nil
}
