package autoscalers

import (
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// Condition reasons (CamelCase, as Kubernetes wants them).
const (
	ReasonValidDecision    = "ValidDecision"
	ReasonNoValidDecision  = "NoValidDecision"
	ReasonInvalidSpec      = "InvalidSpec"
	ReasonReadyForNewScale = "ReadyForNewScale"
	ReasonSettling         = "Settling"
	ReasonFailedGetScale   = "FailedGetScale"
	ReasonFailedScale      = "FailedScale"
	ReasonTooFewOrTooMany  = "OutsideBounds"
	ReasonWithinBounds     = "DesiredWithinRange"
	ReasonPendingPods      = "PendingPods"
	ReasonNoPendingPods    = "NoPendingPods"
	ReasonHPAConflict      = "HPAConflict"
	ReasonNoConflict       = "NoConflict"
)

// nextStatus is the status after one Step: prev with the outcome's figures, decision and
// conditions (bounds: min and max replicas). A Step that could not read the scale keeps the last figures and says so in
// AbleToScale.
func nextStatus(prev v1alpha1.HSDSAutoscalerStatus, gen int64, bounds [2]int32, o scaler.Outcome, stepErr error) v1alpha1.HSDSAutoscalerStatus {
	st := *prev.DeepCopy()
	st.ObservedGeneration = gen
	now := metav1.NewTime(o.Time)
	set := func(typ string, ok bool, reason, msg string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg,
			ObservedGeneration: gen, LastTransitionTime: now})
	}
	if stepErr != nil && o.Reason == "" { // the scale (or the HPAs) could not be read: nothing decided
		set(v1alpha1.ConditionAbleToScale, false, ReasonFailedGetScale, stepErr.Error())
		return st
	}
	st.ObservedReplicas, st.DesiredReplicas = o.Current, o.Desired
	if o.Acted && !o.DryRun {
		st.LastScaleTime = &now
	}
	st.LastDecision = &v1alpha1.LastDecision{Time: now, Reason: o.Reason, Message: o.Decision.Message, Figures: v1alpha1.DecisionFigures{
		Valid: o.Decision.Valid, CurrentReplicas: o.Current, RecommendedReplicas: o.Decision.Replicas, DesiredReplicas: o.Desired,
		ReadyPods: o.Ready, PendingPods: o.Pending, UnscheduledPods: o.Unscheduled, Guards: slices.Clone(o.Guards),
	}}
	has := func(g string) bool { return slices.Contains(o.Guards, g) }
	conflict := has(scaler.GuardHPAConflict)
	switch {
	case conflict:
		set(v1alpha1.ConditionActive, false, ReasonHPAConflict, "a HorizontalPodAutoscaler targets the same workload")
	case o.Decision.Valid:
		set(v1alpha1.ConditionActive, true, ReasonValidDecision, "the policy had the figures to decide")
	default:
		set(v1alpha1.ConditionActive, false, ReasonNoValidDecision, fmt.Sprintf("%s: %s", o.Decision.Reason, o.Decision.Message))
	}
	switch {
	case stepErr != nil:
		set(v1alpha1.ConditionAbleToScale, false, ReasonFailedScale, stepErr.Error())
	case has(scaler.GuardSettling):
		set(v1alpha1.ConditionAbleToScale, false, ReasonSettling, "holding while the last replica change settles")
	default:
		set(v1alpha1.ConditionAbleToScale, true, ReasonReadyForNewScale, "the target's scale can be read and written")
	}
	if has(scaler.GuardBounds) {
		set(v1alpha1.ConditionScalingLimited, true, ReasonTooFewOrTooMany,
			fmt.Sprintf("the policy recommended %d, the bounds [%d, %d] allow %d", o.Decision.Replicas, bounds[0], bounds[1], o.Desired))
	} else {
		set(v1alpha1.ConditionScalingLimited, false, ReasonWithinBounds, "the recommendation is within the bounds")
	}
	if has(scaler.GuardPendingPods) || o.Unscheduled > 0 {
		set(v1alpha1.ConditionWaitingForCapacity, true, ReasonPendingPods, fmt.Sprintf("%d pod(s) Pending, %d not scheduled", o.Pending, o.Unscheduled))
	} else {
		set(v1alpha1.ConditionWaitingForCapacity, false, ReasonNoPendingPods, "no pod waits for a node")
	}
	if conflict {
		set(v1alpha1.ConditionConflict, true, ReasonHPAConflict, "a HorizontalPodAutoscaler targets the same workload; nothing is written until it is removed")
	} else {
		set(v1alpha1.ConditionConflict, false, ReasonNoConflict, "no HorizontalPodAutoscaler targets the workload")
	}
	return st
}

// invalidStatus is the status of an object whose spec the scaler refuses.
func invalidStatus(prev v1alpha1.HSDSAutoscalerStatus, gen int64, now time.Time, err error) v1alpha1.HSDSAutoscalerStatus {
	st := *prev.DeepCopy()
	st.ObservedGeneration = gen
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionActive, Status: metav1.ConditionFalse,
		Reason: ReasonInvalidSpec, Message: err.Error(), ObservedGeneration: gen, LastTransitionTime: metav1.NewTime(now)})
	return st
}

// sameButTimes says whether a and b differ only in the decision's time and the learned state
// (which changes with every learning step): such a status is not worth a write every tick.
func sameButTimes(a, b v1alpha1.HSDSAutoscalerStatus) bool {
	a, b = *a.DeepCopy(), *b.DeepCopy()
	for _, s := range []*v1alpha1.HSDSAutoscalerStatus{&a, &b} {
		if s.LastDecision != nil {
			s.LastDecision.Time = metav1.Time{}
		}
		s.Learned = nil
	}
	return equality.Semantic.DeepEqual(a, b)
}
