package scaler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Event reasons the controller emits (docs/operations.md, "Events").
const (
	EventReasonRescaled           = "Rescaled"
	EventReasonScaleFailed        = "ScaleFailed"
	EventReasonWaitingForCapacity = "WaitingForCapacity"
	EventReasonHPAConflict        = "HPAConflict"
	EventReasonPodStuckNotReady   = "PodStuckNotReady"
	EventReasonStuckPodDeleted    = "StuckPodDeleted"
	EventReasonStuckRelease       = "RescaledForStuck"
)

// event records an Event unless in dry-run (an Event is a write too) or there is no sink.
func (c *Controller) event(obj ObjectRef, eventType, reason, message string) {
	if c.cfg.DryRun || c.deps.Events == nil {
		return
	}
	c.deps.Events.Event(obj, eventType, reason, message)
}

// checkHPA returns the HPAs that target the object, re-listing at most every HPACheckInterval.
func (c *Controller) checkHPA(ctx context.Context, now time.Time) ([]string, error) {
	if c.deps.HPAs == nil {
		return nil, nil
	}
	if !c.hpaCheckedAt.IsZero() && now.Sub(c.hpaCheckedAt) < c.cfg.Guards.HPACheckInterval.Duration {
		return c.hpaNames, nil
	}
	names, err := c.deps.HPAs.HPAsTargeting(ctx, c.cfg.Target)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	if !slices.Equal(names, c.hpaNames) && len(names) > 0 {
		msg := fmt.Sprintf("HorizontalPodAutoscaler(s) %s also target this object; hsds-autoscaler will not write its scale until they are removed", strings.Join(names, ", "))
		klog.ErrorS(nil, "Refusing target controlled by an HPA", "target", c.cfg.Target.String(), "hpas", names)
		c.event(c.cfg.Target.Ref(), EventWarning, EventReasonHPAConflict, msg)
	}
	if len(names) == 0 && len(c.hpaNames) > 0 {
		klog.InfoS("HPA conflict cleared", "target", c.cfg.Target.String())
	}
	c.hpaCheckedAt, c.hpaNames = now, names
	return names, nil
}

// refuseHPA completes the outcome of a target an HPA controls: no recommendation, no write.
func (c *Controller) refuseHPA(o *Outcome, hpas []string) {
	o.Reason = GuardHPAConflict
	o.Guards = []string{GuardHPAConflict}
	c.deps.Metrics.observe(c.cfg.Target.Key(), *o)
	klog.V(2).InfoS("Holding: HPA conflict", "target", c.cfg.Target.String(), "hpas", hpas)
}

// handleStuck tracks pods stuck not READY, reports newly stuck ones and runs the remedy: the
// opt-in deletion here, or asks the guards (Outcome.release) to change the pod set by one pod.
func (c *Controller) handleStuck(ctx context.Context, o *Outcome, pods []heuristics.PodSample, now time.Time) {
	g := c.cfg.Guards
	c.notReadySince = trackNotReady(c.notReadySince, pods, now)
	o.Stuck = stuckPods(c.notReadySince, c.wasReady, now, g.StuckNotReady.Duration, g.StuckAfterReady.Duration)
	c.wasReady = trackReady(c.wasReady, pods)
	reported := make(map[string]bool, len(o.Stuck))
	for _, name := range o.Stuck {
		reported[name] = true
		if c.stuckReported[name] {
			continue
		}
		since := now.Sub(c.notReadySince[name]).Round(time.Second)
		threshold, was := g.StuckNotReady.Duration, ""
		if c.wasReady[name] {
			threshold, was = g.StuckAfterReady.Duration, " after being READY"
		}
		msg := fmt.Sprintf("pod %s is Running but its HSDS node has not been READY for %s%s (threshold %s); %s", name, since, was, threshold, remedyText(g))
		klog.InfoS("Pod stuck not READY", "target", c.cfg.Target.String(), "pod", name, "for", since)
		c.event(c.cfg.Target.Ref(), EventWarning, EventReasonPodStuckNotReady, msg)
		c.event(ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: c.cfg.Target.Namespace, Name: name}, EventWarning, EventReasonPodStuckNotReady, msg)
	}
	c.stuckReported = reported
	if len(o.Stuck) == 0 {
		return
	}
	o.Guards = append(o.Guards, GuardStuckNotReady)
	switch {
	case g.DeleteStuckPods:
		c.deleteStuck(ctx, o, now)
	case g.ReleaseStuck:
		o.release = releaseDue(o.Stuck, c.lastRelease, now, g.StuckRemedyInterval.Duration)
	}
}

// remedyText tells the reader of a PodStuckNotReady Event what happens next.
func remedyText(g Guards) string {
	switch {
	case g.DeleteStuckPods:
		return "the remedy deletes it (guards.deleteStuckPods)"
	case g.ReleaseStuck:
		return "the remedy changes the pod set by one pod, which releases a node stuck WAITING on HSDS 0.9.x (guards.releaseStuck)"
	default:
		return "no remedy is on: restarting the pod or any change of the pod set releases it"
	}
}

// deleteStuck deletes the first stuck pod, at most one per StuckRemedyInterval.
func (c *Controller) deleteStuck(ctx context.Context, o *Outcome, now time.Time) {
	name, ok := pickStuckToDelete(o.Stuck, c.lastDelete, now, c.cfg.Guards.StuckRemedyInterval.Duration)
	if !ok {
		return
	}
	c.lastDelete = now
	if c.cfg.DryRun {
		o.DeletedPod = name
		klog.InfoS("Dry run: would delete stuck pod", "target", c.cfg.Target.String(), "pod", name)
		return
	}
	if err := c.deps.Deleter.DeletePod(ctx, c.cfg.Target.Namespace, name); err != nil {
		c.deps.Metrics.actuationError(c.cfg.Target.Key(), "delete-pod")
		klog.ErrorS(err, "Deleting stuck pod failed", "target", c.cfg.Target.String(), "pod", name)
		return
	}
	o.DeletedPod, c.lastChange = name, now // a new pod reshuffles the HSDS roster: settle again
	c.event(c.cfg.Target.Ref(), EventWarning, EventReasonStuckPodDeleted, fmt.Sprintf("deleted pod %s, stuck not READY (guards.deleteStuckPods)", name))
	klog.InfoS("Deleted stuck pod", "target", c.cfg.Target.String(), "pod", name)
}

// noteRelease records a change made to release stuck pods once the write is done.
func (c *Controller) noteRelease(o *Outcome, now time.Time) {
	if o.Reason != ReasonStuckRelease || (!o.Acted && !o.DryRun) {
		return
	}
	o.Released = true
	c.lastRelease = releaseRecord{at: now, stuck: slices.Clone(o.Stuck)}
	if o.DryRun {
		return
	}
	c.event(c.cfg.Target.Ref(), EventWarning, EventReasonStuckRelease,
		fmt.Sprintf("scaled from %d to %d to release stuck pod(s) %s: a change of the pod set releases them (guards.releaseStuck)", o.Current, o.Desired, strings.Join(o.Stuck, ", ")))
}

// reportWaiting emits WaitingForCapacity when the pending guard starts holding a scale-up or the
// number of unscheduled pods changes while it holds.
func (c *Controller) reportWaiting(o Outcome, g guardResult) {
	if !slices.Contains(g.Active, GuardPendingPods) {
		c.waitingEmitted = 0
		return
	}
	if o.Unscheduled == c.waitingEmitted {
		return
	}
	c.waitingEmitted = o.Unscheduled
	wanted := clamp(o.Decision.Replicas, c.cfg.MinReplicas, c.cfg.MaxReplicas)
	msg := fmt.Sprintf("%d pod(s) waiting to be scheduled; holding scale-up %d -> %d until they are scheduled or %s pass (guards.pendingTimeout)",
		o.Unscheduled, o.Current, wanted, c.cfg.Guards.PendingTimeout.Duration)
	klog.InfoS("Waiting for capacity", "target", c.cfg.Target.String(), "unscheduled", o.Unscheduled, "current", o.Current, "recommended", wanted)
	c.event(c.cfg.Target.Ref(), EventNormal, EventReasonWaitingForCapacity, msg)
}

// actuate writes Desired through the scale subresource (or only logs it in dry-run).
func (c *Controller) actuate(ctx context.Context, o *Outcome, now time.Time) error {
	if o.Desired == o.Current {
		return nil
	}
	target := c.cfg.Target
	if c.cfg.DryRun {
		// Hold for the settle time as serve would after a write, so dry-run logs one line per
		// would-be change instead of one per tick.
		c.lastChange = now
		klog.InfoS("Dry run: would scale", "target", target.String(), "from", o.Current, "to", o.Desired, "reason", o.Reason, "message", o.Decision.Message)
		return nil
	}
	if _, err := c.deps.Scales.SetReplicas(ctx, target, o.Current, o.Desired); err != nil {
		c.deps.Metrics.actuationError(target.Key(), "update-scale")
		if !errors.Is(err, ErrScaleChanged) {
			c.event(target.Ref(), EventWarning, EventReasonScaleFailed, fmt.Sprintf("scaling from %d to %d failed: %v", o.Current, o.Desired, err))
		}
		return fmt.Errorf("scale %s from %d to %d: %w", target, o.Current, o.Desired, err)
	}
	o.Acted = true
	c.lastSpec, c.lastChange = o.Desired, now
	c.event(target.Ref(), EventNormal, EventReasonRescaled, fmt.Sprintf("scaled from %d to %d (%d ready, %d pending): %s: %s",
		o.Current, o.Desired, o.Ready, o.Pending, o.Reason, o.Decision.Message))
	return nil
}

// log writes one line per decision: at the default level when something changes, else at V(2).
func (c *Controller) log(o Outcome) {
	kv := []any{"target", c.cfg.Target.String(), "current", o.Current, "desired", o.Desired, "ready", o.Ready,
		"pending", o.Pending, "reason", o.Reason, "guards", o.Guards, "acted", o.Acted, "dryRun", o.DryRun,
		"recommended", o.Decision.Replicas, "message", o.Decision.Message}
	if o.Direction != "none" {
		klog.InfoS("Scaling decision", kv...)
		return
	}
	klog.V(2).InfoS("Scaling decision", kv...)
}
