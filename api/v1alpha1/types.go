package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HSDSAutoscaler scales one HSDS Deployment (or StatefulSet) in its own namespace by the "hsds"
// policy, inside the guards of the scaler (docs/operations.md, "HSDSAutoscaler").
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hsdsa,categories=autoscaling
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.scaleTarget.name`
// +kubebuilder:printcolumn:name="Min",type=integer,JSONPath=`.spec.minReplicas`
// +kubebuilder:printcolumn:name="Max",type=integer,JSONPath=`.spec.maxReplicas`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.status.observedReplicas`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.status.desiredReplicas`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.lastDecision.reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type HSDSAutoscaler struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HSDSAutoscalerSpec `json:"spec"`
	// +optional
	Status HSDSAutoscalerStatus `json:"status,omitempty"`
}

// HSDSAutoscalerList is a list of HSDSAutoscalers.
//
// +kubebuilder:object:root=true
type HSDSAutoscalerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HSDSAutoscaler `json:"items"`
}

// HSDSAutoscalerSpec is the target, its bounds, the policy's tunables and the scaler's guards;
// every field but scaleTarget.name has the default of the ScalingPolicy file.
//
// +kubebuilder:validation:XValidation:rule="self.minReplicas <= self.maxReplicas",message="minReplicas must be <= maxReplicas",fieldPath=".minReplicas"
// +kubebuilder:validation:XValidation:rule="self.policy.scaleDownUtilization < self.policy.targetUtilization && self.policy.targetUtilization < self.policy.scaleUpUtilization",message="need scaleDownUtilization < targetUtilization < scaleUpUtilization",fieldPath=".policy.targetUtilization"
// +kubebuilder:validation:XValidation:rule="duration(self.policy.overloadSustain) <= duration(self.policy.shortWindow)",message="overloadSustain must be <= shortWindow",fieldPath=".policy.overloadSustain"
type HSDSAutoscalerSpec struct {
	// ScaleTarget is the workload to scale, in the object's namespace, through its scale
	// subresource.
	ScaleTarget ScaleTarget `json:"scaleTarget"`
	// Selector selects the target's pods; empty: the scale subresource's status.selector.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Selector string `json:"selector,omitempty"`
	// MinReplicas is the least replica count the scaler writes.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	MinReplicas int32 `json:"minReplicas,omitempty"`
	// MaxReplicas is the largest replica count the scaler writes.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	MaxReplicas int32 `json:"maxReplicas,omitempty"`
	// Policy holds the "hsds" policy's tunables (docs/policy.md).
	// +optional
	// +kubebuilder:default={}
	Policy Policy `json:"policy,omitempty"`
	// Guards configures the control loop's guards (docs/operations.md, "Guards").
	// +optional
	// +kubebuilder:default={}
	Guards Guards `json:"guards,omitempty"`
}

// ScaleTarget names the workload in the HSDSAutoscaler's namespace.
type ScaleTarget struct {
	// Kind of the target (apps/v1).
	// +optional
	// +kubebuilder:default=Deployment
	// +kubebuilder:validation:Enum=Deployment;StatefulSet
	Kind string `json:"kind,omitempty"`
	// Name of the target.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// Condition types of status.conditions.
const (
	// ConditionActive: the policy had the figures to decide (False: no data, invalid spec).
	ConditionActive = "Active"
	// ConditionAbleToScale: the target's scale can be read and written now (False: read or write
	// failed, or a rescale is settling).
	ConditionAbleToScale = "AbleToScale"
	// ConditionScalingLimited: the bounds changed the policy's recommendation.
	ConditionScalingLimited = "ScalingLimited"
	// ConditionWaitingForCapacity: pods of the last scale-up are Pending, unscheduled.
	ConditionWaitingForCapacity = "WaitingForCapacity"
	// ConditionConflict: a HorizontalPodAutoscaler targets the same workload; nothing is written.
	ConditionConflict = "Conflict"
)

// HSDSAutoscalerStatus is what the scaler last saw, decided and learned.
type HSDSAutoscalerStatus struct {
	// ObservedGeneration is the spec generation the scaler runs.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// ObservedReplicas is the target's spec.replicas as last read.
	// +optional
	ObservedReplicas int32 `json:"observedReplicas"`
	// DesiredReplicas is the count after the policy and the guards.
	// +optional
	DesiredReplicas int32 `json:"desiredReplicas"`
	// LastScaleTime is when the scaler last wrote the target's replica count.
	// +optional
	LastScaleTime *metav1.Time `json:"lastScaleTime,omitempty"`
	// LastDecision is the last decision with the figures behind it.
	// +optional
	LastDecision *LastDecision `json:"lastDecision,omitempty"`
	// Conditions: Active, AbleToScale, ScalingLimited, WaitingForCapacity, Conflict.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Learned is what the policy learned (the one-pod capacity, the fan-out ceiling's figures); a restarted or newly elected
	// scaler starts from it.
	// +optional
	Learned *Learned `json:"learned,omitempty"`
}

// LastDecision is one decision of the scaler.
type LastDecision struct {
	// Time of the decision.
	Time metav1.Time `json:"time"`
	// Reason is the policy's decision code or the guard that decided (docs/policy.md).
	Reason string `json:"reason"`
	// Message is the policy's explanation, with its figures.
	// +optional
	Message string `json:"message,omitempty"`
	// Figures are the counts the decision was made from.
	Figures DecisionFigures `json:"figures"`
}

// DecisionFigures are the counts behind a decision.
type DecisionFigures struct {
	// Valid is false when the policy had not enough data to decide.
	Valid bool `json:"valid"`
	// CurrentReplicas is the target's spec.replicas; RecommendedReplicas the policy's answer;
	// DesiredReplicas the count after the guards.
	CurrentReplicas     int32 `json:"currentReplicas"`
	RecommendedReplicas int32 `json:"recommendedReplicas"`
	DesiredReplicas     int32 `json:"desiredReplicas"`
	// ReadyPods serve; PendingPods wait, UnscheduledPods of them for a node.
	ReadyPods       int32 `json:"readyPods"`
	PendingPods     int32 `json:"pendingPods"`
	UnscheduledPods int32 `json:"unscheduledPods"`
	// Guards that held or changed the decision.
	// +optional
	// +listType=atomic
	Guards []string `json:"guards,omitempty"`
}

// Learned is heuristics.Learned as API data: the learned one-pod capacity and when it was
// last updated.
type Learned struct {
	// PodCapacity is the learned one-pod capacity in req/s (0: none learned).
	// +kubebuilder:validation:Minimum=0
	PodCapacity float64 `json:"podCapacity"`
	// Throughput is the cluster's served rate per size while its gates shed: the figures of the
	// fan-out ceiling (spec.policy.fanoutMemory).
	// +optional
	// +listType=map
	// +listMapKey=pods
	// +kubebuilder:validation:MaxItems=64
	Throughput []SizeThroughput `json:"throughput,omitempty"`
	// At is when the figures were last updated.
	At metav1.Time `json:"at"`
}

// SizeThroughput is one cluster size's served rate while its gates shed.
type SizeThroughput struct {
	// Pods is the cluster size.
	// +kubebuilder:validation:Minimum=1
	Pods int32 `json:"pods"`
	// Served is the smoothed served rate of all its pods, req/s.
	// +kubebuilder:validation:Minimum=0
	Served float64 `json:"served"`
	// Samples is how many shedding snapshots made the figure.
	// +kubebuilder:validation:Minimum=1
	Samples int32 `json:"samples"`
	// First is when the first of them was taken.
	First metav1.Time `json:"first"`
	// Last is when the last of them was taken; the figure is forgotten fanoutMemory after it.
	Last metav1.Time `json:"last"`
}
