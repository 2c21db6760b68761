package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Policy mirrors heuristics.Policy field by field (same JSON names, defaults and ranges, as
// schema; docs/policy.md explains each). A test keeps the two and the defaults equal.
//
// +kubebuilder:validation:XValidation:rule="self.scaleDownUtilization < self.targetUtilization && self.targetUtilization < self.scaleUpUtilization",message="need scaleDownUtilization < targetUtilization < scaleUpUtilization"
// +kubebuilder:validation:XValidation:rule="duration(self.overloadSustain) <= duration(self.shortWindow)",message="overloadSustain must be <= shortWindow"
type Policy struct {
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	UpstreamWeight float64 `json:"upstreamWeight"`
	// +optional
	// +kubebuilder:default="60s"
	ShortWindow PositiveDuration `json:"shortWindow"`
	// +optional
	// +kubebuilder:default=0.01
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=1
	OverloadRatio float64 `json:"overloadRatio"`
	// +optional
	// +kubebuilder:default=0.5
	// +kubebuilder:validation:Minimum=0
	OverloadMinRate float64 `json:"overloadMinRate"`
	// +optional
	// +kubebuilder:default="15s"
	OverloadSustain PositiveDuration `json:"overloadSustain"`
	// +optional
	// +kubebuilder:default=0.6
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=1
	TargetUtilization float64 `json:"targetUtilization"`
	// +optional
	// +kubebuilder:default=0.8
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=1
	ScaleUpUtilization float64 `json:"scaleUpUtilization"`
	// +optional
	// +kubebuilder:default=0.4
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	ScaleDownUtilization float64 `json:"scaleDownUtilization"`
	// +optional
	// +kubebuilder:default=0.8
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	RetriableShare float64 `json:"retriableShare"`
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	ClientRetries int `json:"clientRetries"`
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	PodCapacity float64 `json:"podCapacity"`
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	// +kubebuilder:validation:ExclusiveMaximum=true
	FanoutShare float64 `json:"fanoutShare"`
	// +optional
	// +kubebuilder:default=0.5
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=1
	CapacityLearnUtilization float64 `json:"capacityLearnUtilization"`
	// +optional
	// +kubebuilder:default="10m"
	CapacityHalfLife PositiveDuration `json:"capacityHalfLife"`
	// +optional
	// +kubebuilder:default="2m"
	DemandHalfLife PositiveDuration `json:"demandHalfLife"`
	// +optional
	// +kubebuilder:default="60s"
	PodStartupTime NonNegativeDuration `json:"podStartupTime"`
	// +optional
	// +kubebuilder:default="10m"
	StabilizationWindow PositiveDuration `json:"stabilizationWindow"`
	// +optional
	// +kubebuilder:default="45s"
	DwellUp NonNegativeDuration `json:"dwellUp"`
	// +optional
	// +kubebuilder:default="5m"
	DwellDown NonNegativeDuration `json:"dwellDown"`
	// +optional
	// +kubebuilder:default=4
	// +kubebuilder:validation:Minimum=1
	MaxStepUpPods int32 `json:"maxStepUpPods"`
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	MaxStepUpFactor float64 `json:"maxStepUpFactor"`
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	MaxStepDownPods int32 `json:"maxStepDownPods"`
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MaxStepDownPercent float64 `json:"maxStepDownPercent"`
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:ExclusiveMinimum=true
	PanicFactor float64 `json:"panicFactor"`
}

// Guards mirrors the scaler's guards (policy file spec.guards; docs/operations.md): same JSON
// names, defaults and ranges.
type Guards struct {
	// +optional
	// +kubebuilder:default="1s"
	Tick PositiveDuration `json:"tick"`
	// +optional
	// +kubebuilder:default="50s"
	Settle NonNegativeDuration `json:"settle"`
	// +optional
	// +kubebuilder:default="5m"
	PendingTimeout NonNegativeDuration `json:"pendingTimeout"`
	// +optional
	// +kubebuilder:default="10m"
	StuckNotReady PositiveDuration `json:"stuckNotReady"`
	// +optional
	// +kubebuilder:default=false
	DeleteStuckPods bool `json:"deleteStuckPods"`
	// +optional
	// +kubebuilder:default="10m"
	StuckDeleteInterval PositiveDuration `json:"stuckDeleteInterval"`
	// +optional
	// +kubebuilder:default="60s"
	MaxSampleAge PositiveDuration `json:"maxSampleAge"`
	// +optional
	// +kubebuilder:default="15s"
	HPACheckInterval NonNegativeDuration `json:"hpaCheckInterval"`
}

// PositiveDuration is a duration string ("30s", "5m") that must be > 0.
//
// +kubebuilder:validation:Type=string
// +kubebuilder:validation:MaxLength=32
// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="must be a duration > 0 such as \"30s\" or \"5m\""
type PositiveDuration struct{ metav1.Duration }

// NonNegativeDuration is a duration string ("30s", "5m") that must be >= 0.
//
// +kubebuilder:validation:Type=string
// +kubebuilder:validation:MaxLength=32
// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="must be a duration >= 0 such as \"30s\" or \"5m\""
type NonNegativeDuration struct{ metav1.Duration }
