package scaler

import (
	"slices"
	"sort"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Guard names, used as the `guard` label of hsds_scaler_guard_active and as the final reason of
// an Outcome a guard held. They are applied in this order (docs/operations.md, "Guards"):
//
//  1. GuardHPAConflict: an HPA also controls the target: no recommendation, no write.
//  2. (snapshot) 503s of pods that are not READY count as not_ready (never overload) and such
//     pods are not capacity (sanitizePod); this changes the Snapshot the recommender sees, it
//     holds nothing.
//  3. GuardStuckNotReady: pods Running but not READY for longer than a threshold are reported,
//     and a remedy runs: a change of the pod set by one pod (guards.releaseStuck, the default:
//     when the guarded recommendation changes nothing it becomes current-1 when above the minimum
//     and no figures are stale, else current+1 within the maximum, reason ReasonStuckRelease; the
//     settle and pending guards still hold it, and it waits while another pod is starting; a
//     change the policy wants either way changes the pod set too) or, opt-in, a deletion one at
//     a time.
//  4. GuardBounds: the recommendation is clamped to [min, max].
//  5. GuardStaleData: no scale-down while any running pod's figures are missing or old.
//  6. GuardSettling: no change while the last rescale settles.
//  7. GuardPendingPods: no scale-up while pods wait to be scheduled (until a timeout).
const (
	GuardHPAConflict   = "hpa-conflict"
	GuardStuckNotReady = "stuck-not-ready"
	GuardBounds        = "bounds"
	GuardStaleData     = "stale-data"
	GuardSettling      = "settling"
	GuardPendingPods   = "pending-pods"
)

// ReasonStuckRelease is the Outcome reason of a change by one pod that the stuck-pod remedy asked
// for (guards.releaseStuck).
const ReasonStuckRelease = "stuck-release"

// AllGuards lists every guard name in the order they apply.
var AllGuards = [...]string{GuardHPAConflict, GuardStuckNotReady, GuardBounds, GuardStaleData, GuardSettling, GuardPendingPods}

// hsdsReadyState is the HSDS node state of a node that serves requests (agent/schema.StateReady).
const hsdsReadyState = "READY"

// sanitizePod is what the recommender may see of one pod. A pod whose HSDS node is known not to be
// READY answers 503 to everything, whatever the cause the agent inferred: every 503 it sent is
// counted as not_ready (the total is kept, because clients retry every 503 and the recommender's
// retry discount needs it; the hsds policy never reads not_ready 503s as overload), and the pod is
// marked not Ready (the shipped HSDS manifests have no readiness probe, so Kubernetes calls it
// Ready while HSDS rejects everything). Pods with no usable scrape (Known false) are left as they
// are: the recommender must treat them as possibly hot.
func sanitizePod(p heuristics.PodSample) heuristics.PodSample {
	if !p.Known || p.NodeState == hsdsReadyState {
		return p
	}
	p.Rejected503 = heuristics.ByCause{NotReady: p.Rejected503.Total()}
	p.Ready = false
	return p
}

// sanitizePods applies sanitizePod to a copy of pods.
func sanitizePods(pods []heuristics.PodSample) []heuristics.PodSample {
	out := make([]heuristics.PodSample, len(pods))
	for i, p := range pods {
		out[i] = sanitizePod(p)
	}
	return out
}

// isCapacity reports whether a pod serves load: Running, Ready in Kubernetes, and its HSDS node
// known to be READY.
func isCapacity(p heuristics.PodSample) bool {
	return p.Phase == heuristics.PodRunning && p.Ready && p.Known && p.NodeState == hsdsReadyState
}

// podCounts are the pod figures the controller reports.
type podCounts struct {
	Ready, Pending, Unscheduled int32
	// OldestUnscheduled is the creation time of the oldest unscheduled Pending pod.
	OldestUnscheduled time.Time
	// NewestScheduledPending is the creation time of the newest Pending pod already on a node.
	NewestScheduledPending time.Time
}

func countPods(pods []heuristics.PodSample) podCounts {
	var c podCounts
	for _, p := range pods {
		if isCapacity(p) {
			c.Ready++
		}
		if p.Phase != heuristics.PodPending {
			continue
		}
		c.Pending++
		if !p.Scheduled {
			c.Unscheduled++
			if c.OldestUnscheduled.IsZero() || p.Created.Before(c.OldestUnscheduled) {
				c.OldestUnscheduled = p.Created
			}
		} else if p.Created.After(c.NewestScheduledPending) {
			c.NewestScheduledPending = p.Created
		}
	}
	return c
}

// markFresh returns a copy of pods with every Fresh flag set: figures known and no older than
// maxAge at now. It is the one place the sample-age limit is applied; the stale-data guard and
// the recommender both read the flag.
func markFresh(pods []heuristics.PodSample, now time.Time, maxAge time.Duration) []heuristics.PodSample {
	out := make([]heuristics.PodSample, len(pods))
	for i, p := range pods {
		p.Fresh = p.Age(now) <= maxAge
		out[i] = p
	}
	return out
}

// staleData reports whether the snapshot is too poor to scale down on: no pods at all while the
// target asks for some, or a Running pod that is not Fresh. Pending and terminating pods cannot
// be scraped and do not count.
func staleData(pods []heuristics.PodSample, specReplicas int32) bool {
	if len(pods) == 0 && specReplicas > 0 {
		return true
	}
	for _, p := range pods {
		if p.Phase == heuristics.PodRunning && !p.Fresh {
			return true
		}
	}
	return false
}

// settling reports whether a change at lastChange is still settling at now.
func settling(lastChange, now time.Time, settle time.Duration) bool {
	return !lastChange.IsZero() && now.Sub(lastChange) < settle
}

// pendingHold reports whether unscheduled pods should block a scale-up at now: some exist and the
// oldest has waited less than timeout (the cluster autoscaler is presumably adding a node).
func pendingHold(c podCounts, now time.Time, timeout time.Duration) bool {
	return c.Unscheduled > 0 && now.Sub(c.OldestUnscheduled) < timeout
}

// starting reports whether a pod besides the stuck ones is on its way: Pending (on a node or
// not) and created within the pending timeout, or Running and not READY for less than the stuck
// threshold (notReady counts the pods not READY, stuck those past the threshold). A pod Pending
// for longer (an image that never pulls, no VM) is not coming: it holds nothing.
func starting(c podCounts, notReady, stuck int, now time.Time, pendingTimeout time.Duration) bool {
	scheduledComing := c.Pending > c.Unscheduled && now.Sub(c.NewestScheduledPending) < pendingTimeout
	return scheduledComing || pendingHold(c, now, pendingTimeout) || notReady > stuck
}

// clamp limits n to [lo, hi].
func clamp(n, lo, hi int32) int32 {
	return max(lo, min(n, hi))
}

// guardInput is everything the decision guards look at.
type guardInput struct {
	Current     int32 // spec.replicas
	Recommended heuristics.Decision
	Min, Max    int32
	Stale       bool
	Settling    bool
	PendingHold bool
	// Release asks for a change of the pod set by one pod (the stuck-pod remedy), within the bounds.
	Release bool
	// Starting is true while a pod other than the stuck ones is on its way (Pending and not past
	// the pending timeout, or Running and not yet READY nor stuck): the remedy waits for it. The
	// ReplicaSet would remove that pod first, not a stuck one, and its joining the roster is the
	// change that releases the stuck nodes anyway.
	Starting bool
}

// guardResult is the replica count to write and which guards changed or held it.
type guardResult struct {
	Desired int32
	// Reason is the recommender's reason, or the name of the last guard that changed the count.
	Reason string
	Active []string
}

// applyGuards turns a recommendation into the replica count to write (Desired == Current: none).
// It is the single place where guards 4-7 meet; see the constant block above for the order.
func applyGuards(in guardInput) guardResult {
	desired := in.Current
	reason := in.Recommended.Reason
	if in.Recommended.Valid {
		desired = in.Recommended.Replicas
	}
	var active []string
	hold := func(guard string) {
		active = append(active, guard)
		desired, reason = in.Current, guard
	}
	if c := clamp(desired, in.Min, in.Max); c != desired {
		active = append(active, GuardBounds)
		desired, reason = c, GuardBounds
	}
	if desired < in.Current && in.Stale {
		hold(GuardStaleData)
	}
	// A change either way releases stuck nodes; the remedy's own only when nothing else changes:
	// one pod fewer (the ReplicaSet removes the stuck pod itself when it is not Ready: no start, so
	// no new stuck pod, and no pod to drain later), never on stale data; else one more.
	if in.Release && desired == in.Current && !in.Starting {
		switch {
		case in.Current > in.Min && !in.Stale:
			desired, reason = in.Current-1, ReasonStuckRelease
		case in.Current < in.Max:
			desired, reason = in.Current+1, ReasonStuckRelease
		}
	}
	if desired != in.Current && in.Settling {
		hold(GuardSettling)
	}
	if desired > in.Current && in.PendingHold {
		hold(GuardPendingPods)
	}
	return guardResult{Desired: desired, Reason: reason, Active: active}
}

// trackNotReady returns, for every Running pod whose HSDS node is known not to be READY, the time
// it was first seen so (carried over from prev, or now). Pods that are READY or gone drop out, so
// a pod that recovers starts afresh; one whose figures are unknown keeps the time it had (a failed
// scrape says nothing of its node, and must not restart the clock of a stuck pod) but is not
// added.
func trackNotReady(prev map[string]time.Time, pods []heuristics.PodSample, now time.Time) map[string]time.Time {
	next := make(map[string]time.Time)
	for _, p := range pods {
		if p.Phase != heuristics.PodRunning {
			continue
		}
		if !p.Known {
			if since, ok := prev[p.Name]; ok {
				next[p.Name] = since
			}
			continue
		}
		if p.NodeState == hsdsReadyState {
			continue
		}
		since, ok := prev[p.Name]
		if !ok {
			since = now
		}
		next[p.Name] = since
	}
	return next
}

// stuckPods lists, sorted, the pods not READY since longer than their threshold (HSDS issue
// 423): afterReady for a pod whose node was READY before (wasReady), notReady for the others.
func stuckPods(since map[string]time.Time, wasReady map[string]bool, now time.Time, notReady, afterReady time.Duration) []string {
	var out []string
	for name, t := range since {
		threshold := notReady
		if wasReady[name] {
			threshold = afterReady
		}
		if now.Sub(t) >= threshold {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// trackReady returns the pods among pods whose node is READY now or was READY before (prev);
// pods gone drop out.
func trackReady(prev map[string]bool, pods []heuristics.PodSample) map[string]bool {
	next := make(map[string]bool)
	for _, p := range pods {
		if prev[p.Name] || (p.Known && p.NodeState == hsdsReadyState) {
			next[p.Name] = true
		}
	}
	return next
}

// releaseRecord is the remedy's last change for stuck pods: when, and which pods were stuck then.
type releaseRecord struct {
	at    time.Time
	stuck []string
}

// releaseDue reports whether the remedy may change the pod set for the stuck pods now: when it never
// has, when the interval has passed, or when none of the pods stuck now was stuck at its last
// change (that one released its pods; this is a new occurrence, e.g. left by a pod that started).
func releaseDue(stuck []string, last releaseRecord, now time.Time, interval time.Duration) bool {
	if len(stuck) == 0 {
		return false
	}
	if last.at.IsZero() || now.Sub(last.at) >= interval {
		return true
	}
	for _, name := range stuck {
		if slices.Contains(last.stuck, name) {
			return false
		}
	}
	return true
}

// pickStuckToDelete chooses the stuck pod to delete now, if any: the first in order, and only
// when the previous deletion is at least interval ago (one at a time, rate limited).
func pickStuckToDelete(stuck []string, lastDelete, now time.Time, interval time.Duration) (string, bool) {
	if len(stuck) == 0 || (!lastDelete.IsZero() && now.Sub(lastDelete) < interval) {
		return "", false
	}
	return stuck[0], true
}

// direction names the sign of a change, as the `direction` metric label.
func direction(from, to int32) string {
	switch {
	case to > from:
		return "up"
	case to < from:
		return "down"
	}
	return "none"
}
