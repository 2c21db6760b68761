package scaler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Deps are the controller's collaborators. Scales, Pods and Recommender are required; the others
// may be nil (no HPA check, no Events, no metrics; Deleter is required only when
// Guards.DeleteStuckPods is set). Clock defaults to the real clock.
type Deps struct {
	Scales      ScaleClient
	Pods        PodSource
	HPAs        HPALister
	Events      EventSink
	Deleter     PodDeleter
	Recommender heuristics.Recommender
	Metrics     *Metrics
	Clock       clock.WithTicker
	// Fresh, when set, returns a channel closed when the pod source has new figures (the
	// adapter's next completed scrape round); Run then decides at once instead of waiting for
	// its next tick. Step never uses it.
	Fresh func() <-chan struct{}
	// OnStep, when set, is called by Run after every Step with its outcome and error, on Run's
	// goroutine (the HSDSAutoscaler status is written from it). Step never calls it.
	OnStep func(Outcome, error)
}

// Outcome is what one Step saw and did.
type Outcome struct {
	Time time.Time
	// Decision is the recommender's raw answer (zero when the HPA guard refused the target).
	Decision heuristics.Decision
	// Current is spec.replicas as read; Desired the count after guards (== Current: no change).
	Current, Desired int32
	// Ready counts capacity pods (Running, Ready, HSDS READY); Pending all Pending pods,
	// Unscheduled the Pending ones not yet on a node.
	Ready, Pending, Unscheduled int32
	// Reason is the recommender's reason, or the name of the guard that decided.
	Reason string
	// Direction is "up", "down" or "none" (Desired versus Current).
	Direction string
	// Guards lists the guards that held or changed this decision, or were active (stuck pods).
	Guards []string
	// Stuck lists pods Running but not READY for longer than Guards.StuckNotReady (or
	// StuckAfterReady, for a pod whose node was READY before).
	Stuck []string
	// Acted is true when spec.replicas was written; DryRun when the controller only logged.
	Acted, DryRun bool
	// DeletedPod is the stuck pod deleted this step (or that would be, in dry-run).
	DeletedPod string
	// Released is true when this step's write changed the pod set to release stuck pods
	// (guards.releaseStuck).
	Released bool
	release  bool // the remedy asks the guards to change the pod set by one pod
}

// Controller is the control loop for one target. It holds no goroutine: Run calls Step on a
// ticker of its clock, and bench may call Step itself on a simulated clock.
type Controller struct {
	cfg      ControllerConfig
	deps     Deps
	clock    clock.WithTicker
	selector labels.Selector // from cfg.Selector; nil: use the scale subresource's

	seenSpec       bool
	lastSpec       int32
	lastChange     time.Time // last replica change or pod deletion: the one record (settle, dwell)
	startSettle    time.Time // the start, when !SettledAtStart: settles like a change, is none (dwell)
	hpaCheckedAt   time.Time
	hpaNames       []string
	notReadySince  map[string]time.Time
	wasReady       map[string]bool // pods whose node has been READY (their stuck threshold is StuckAfterReady)
	stuckReported  map[string]bool
	lastDelete     time.Time
	lastRelease    releaseRecord // the last pod added for stuck pods
	waitingEmitted int32         // unscheduled count last reported by a WaitingForCapacity event
}

// NewController checks cfg and deps and returns a controller.
func NewController(cfg ControllerConfig, deps Deps) (*Controller, error) {
	errs := []error{cfg.Validate()}
	if deps.Scales == nil {
		errs = append(errs, errors.New("deps: Scales is required"))
	}
	if deps.Pods == nil {
		errs = append(errs, errors.New("deps: Pods is required"))
	}
	if deps.Recommender == nil {
		errs = append(errs, errors.New("deps: Recommender is required"))
	}
	if cfg.Guards.DeleteStuckPods && !cfg.DryRun && deps.Deleter == nil {
		errs = append(errs, errors.New("deps: Deleter is required when guards.deleteStuckPods is set"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("scaler: %w", err)
	}
	c := &Controller{cfg: cfg, deps: deps, clock: deps.Clock, notReadySince: map[string]time.Time{}, stuckReported: map[string]bool{}}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if cfg.Selector != "" {
		sel, err := labels.Parse(cfg.Selector)
		if err != nil {
			return nil, fmt.Errorf("scaler: selector: %w", err)
		}
		c.selector = sel
	}
	return c, nil
}

// Run calls Step at once and then every Guards.Tick, and also as soon as Deps.Fresh says the pod
// source has new figures, until ctx ends; a failed Step is logged and the loop goes on. It returns
// nil when ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	ticker := c.clock.NewTicker(c.cfg.Guards.Tick.Duration)
	defer ticker.Stop()
	klog.InfoS("Scaler loop started", "target", c.cfg.Target.String(), "dryRun", c.cfg.DryRun, "tick", c.cfg.Guards.Tick.Duration)
	for {
		fresh := c.fresh()
		o, err := c.Step(ctx)
		if err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "Scaler step failed", "target", c.cfg.Target.String())
		}
		if c.deps.OnStep != nil && ctx.Err() == nil {
			c.deps.OnStep(o, err)
		}
		select {
		case <-ctx.Done():
			klog.InfoS("Scaler loop stopped", "target", c.cfg.Target.String())
			return nil
		case <-ticker.C():
		case <-fresh:
		}
	}
}

// fresh is the channel of the pod source's next update, or nil (never ready) without Deps.Fresh.
func (c *Controller) fresh() <-chan struct{} {
	if c.deps.Fresh == nil {
		return nil
	}
	return c.deps.Fresh()
}

// Step runs one decision for the target at the clock's now: read, decide, guard, act.
func (c *Controller) Step(ctx context.Context) (Outcome, error) {
	now := c.clock.Now()
	o := Outcome{Time: now, DryRun: c.cfg.DryRun, Direction: "none"}
	target := c.cfg.Target
	hpas, err := c.checkHPA(ctx, now)
	if err != nil {
		c.deps.Metrics.actuationError(target.Key(), "list-hpa")
		return o, fmt.Errorf("check HPAs of %s: %w", target, err)
	}
	sc, err := c.deps.Scales.GetScale(ctx, target)
	if err != nil {
		c.deps.Metrics.actuationError(target.Key(), "get-scale")
		return o, fmt.Errorf("read scale of %s: %w", target, err)
	}
	o.Current, o.Desired = sc.SpecReplicas, sc.SpecReplicas
	c.noteSpec(sc.SpecReplicas, now)
	if len(hpas) > 0 {
		c.refuseHPA(&o, hpas)
		return o, nil
	}
	sel, err := c.podSelector(sc)
	if err != nil {
		return o, err
	}
	pods := markFresh(c.deps.Pods.PodSamples(target.Namespace, sel, now), now, c.cfg.Guards.MaxSampleAge.Duration)
	counts := countPods(pods)
	o.Ready, o.Pending, o.Unscheduled = counts.Ready, counts.Pending, counts.Unscheduled
	c.handleStuck(ctx, &o, pods, now)

	snap := c.snapshot(sc, pods, now)
	o.Decision = c.deps.Recommender.Recommend(snap)
	g := applyGuards(guardInput{
		Current:     sc.SpecReplicas,
		Recommended: o.Decision,
		Min:         c.cfg.MinReplicas,
		Max:         c.cfg.MaxReplicas,
		Stale:       staleData(pods, sc.SpecReplicas),
		Settling:    snap.Settling,
		PendingHold: pendingHold(counts, now, c.cfg.Guards.PendingTimeout.Duration),
		Release:     o.release,
		Starting:    starting(counts, len(c.notReadySince), len(o.Stuck), now, c.cfg.Guards.PendingTimeout.Duration),
	})
	o.Desired, o.Reason = g.Desired, g.Reason
	o.Guards = append(o.Guards, g.Active...)
	o.Direction = direction(o.Current, o.Desired)
	c.reportWaiting(o, g)
	err = c.actuate(ctx, &o, now)
	c.noteRelease(&o, now)
	c.deps.Metrics.observe(target.Key(), o)
	c.log(o)
	return o, err
}

// snapshot is what the recommender sees at now: the sanitized pods (Fresh already decided) and
// the envelope, from the controller's one configuration and its one record of replica changes.
func (c *Controller) snapshot(sc Scale, pods []heuristics.PodSample, now time.Time) heuristics.Snapshot {
	return heuristics.Snapshot{
		Time: now, SpecReplicas: sc.SpecReplicas, StatusReplicas: sc.StatusReplicas, Pods: sanitizePods(pods),
		MinReplicas: c.cfg.MinReplicas, MaxReplicas: c.cfg.MaxReplicas,
		LastChange: c.lastChange,
		Settling:   settling(latest(c.lastChange, c.startSettle), now, c.cfg.Guards.Settle.Duration),
	}
}

// noteSpec tracks replica changes made by anyone: the one record of replica changes, read by
// the settle guard and passed to the recommender (Snapshot.LastChange) for its dwell times. Before
// the first reading the last change is unknown: unless SettledAtStart, the start settles like a
// change (a replica that just took the lease cannot know when the last rescale was), but it is no
// change: the policy's dwell times do not count from it, so a restarted scaler still answers an
// overload as soon as the settle time is over (the real-pod e2e found a 30 s dwellUp from the
// start delaying the first scale-up by 20 s).
func (c *Controller) noteSpec(spec int32, now time.Time) {
	if !c.seenSpec {
		c.seenSpec, c.lastSpec = true, spec
		if !c.cfg.SettledAtStart {
			c.startSettle = now
		}
		return
	}
	if spec != c.lastSpec {
		c.lastSpec, c.lastChange = spec, now
	}
}

func (c *Controller) podSelector(sc Scale) (labels.Selector, error) {
	if c.selector != nil {
		return c.selector, nil
	}
	if sc.Selector == "" {
		return nil, fmt.Errorf("%s: scale subresource has no status.selector and the policy sets none", c.cfg.Target)
	}
	sel, err := labels.Parse(sc.Selector)
	if err != nil {
		return nil, fmt.Errorf("%s: parse scale selector %q: %w", c.cfg.Target, sc.Selector, err)
	}
	return sel, nil
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
