package autoscalers

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// conds is "Type=Status/Reason" of every condition, in the order of the API's list.
func conds(st v1alpha1.HSDSAutoscalerStatus) []string {
	var out []string
	for _, typ := range []string{v1alpha1.ConditionActive, v1alpha1.ConditionAbleToScale, v1alpha1.ConditionScalingLimited,
		v1alpha1.ConditionWaitingForCapacity, v1alpha1.ConditionConflict} {
		c := meta.FindStatusCondition(st.Conditions, typ)
		if c == nil {
			out = append(out, typ+"=?")
			continue
		}
		out = append(out, typ+"="+string(c.Status)+"/"+c.Reason)
	}
	return out
}

func TestNextStatusConditions(t *testing.T) {
	valid := heuristics.Decision{Valid: true, Current: 3, Replicas: 12, Reason: "overload", Message: "503s"}
	for _, tc := range []struct {
		name string
		o    scaler.Outcome
		err  error
		want []string
	}{
		{"clamped up, pods waiting for a node",
			scaler.Outcome{Decision: valid, Current: 3, Desired: 10, Acted: true, Pending: 2, Unscheduled: 2, Reason: scaler.GuardBounds, Guards: []string{scaler.GuardBounds}},
			nil, []string{"Active=True/ValidDecision", "AbleToScale=True/ReadyForNewScale", "ScalingLimited=True/OutsideBounds", "WaitingForCapacity=True/PendingPods", "Conflict=False/NoConflict"}},
		{"HPA conflict",
			scaler.Outcome{Current: 3, Desired: 3, Reason: scaler.GuardHPAConflict, Guards: []string{scaler.GuardHPAConflict}},
			nil, []string{"Active=False/HPAConflict", "AbleToScale=True/ReadyForNewScale", "ScalingLimited=False/DesiredWithinRange", "WaitingForCapacity=False/NoPendingPods", "Conflict=True/HPAConflict"}},
		{"settling, no data",
			scaler.Outcome{Decision: heuristics.Decision{Reason: "no-data"}, Current: 3, Desired: 3, Reason: scaler.GuardSettling, Guards: []string{scaler.GuardSettling}},
			nil, []string{"Active=False/NoValidDecision", "AbleToScale=False/Settling", "ScalingLimited=False/DesiredWithinRange", "WaitingForCapacity=False/NoPendingPods", "Conflict=False/NoConflict"}},
		{"write refused",
			scaler.Outcome{Decision: valid, Current: 3, Desired: 10, Reason: "overload"},
			errors.New("forbidden"), []string{"Active=True/ValidDecision", "AbleToScale=False/FailedScale", "ScalingLimited=False/DesiredWithinRange", "WaitingForCapacity=False/NoPendingPods", "Conflict=False/NoConflict"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Time = t0
			st := nextStatus(v1alpha1.HSDSAutoscalerStatus{}, 4, [2]int32{1, 10}, tc.o, tc.err)
			if diff := cmp.Diff(tc.want, conds(st)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if st.ObservedGeneration != 4 || st.ObservedReplicas != tc.o.Current || st.DesiredReplicas != tc.o.Desired ||
				st.LastDecision == nil || st.LastDecision.Reason != tc.o.Reason || st.LastDecision.Figures.RecommendedReplicas != tc.o.Decision.Replicas {
				t.Errorf("status = %+v", st)
			}
			if (st.LastScaleTime != nil) != (tc.o.Acted && tc.err == nil) {
				t.Errorf("lastScaleTime = %v with acted %v", st.LastScaleTime, tc.o.Acted)
			}
		})
	}
}

// A step that could not read the scale keeps the last figures and says why in AbleToScale.
func TestNextStatusReadFailureKeepsFigures(t *testing.T) {
	prev := v1alpha1.HSDSAutoscalerStatus{ObservedReplicas: 5, DesiredReplicas: 5}
	st := nextStatus(prev, 1, [2]int32{1, 10}, scaler.Outcome{Time: t0}, errors.New("read scale: timeout"))
	c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionAbleToScale)
	if st.ObservedReplicas != 5 || c == nil || c.Status != metav1.ConditionFalse || c.Reason != ReasonFailedGetScale || c.Message != "read scale: timeout" {
		t.Errorf("status = %+v", st)
	}
}

// Only the decision's time or the learned state changed: not a new status.
func TestSameButTimes(t *testing.T) {
	a := nextStatus(v1alpha1.HSDSAutoscalerStatus{}, 1, [2]int32{1, 10}, scaler.Outcome{Time: t0, Current: 2, Desired: 2, Reason: "hold"}, nil)
	b := nextStatus(a, 1, [2]int32{1, 10}, scaler.Outcome{Time: t0.Add(time.Second), Current: 2, Desired: 2, Reason: "hold"}, nil)
	b.Learned = &v1alpha1.Learned{PodCapacity: 3}
	if !sameButTimes(a, b) {
		t.Error("same status but for times: sameButTimes = false")
	}
	c := nextStatus(a, 1, [2]int32{1, 10}, scaler.Outcome{Time: t0, Current: 2, Desired: 3, Reason: "overload"}, nil)
	if sameButTimes(a, c) {
		t.Error("different decision: sameButTimes = true")
	}
}
