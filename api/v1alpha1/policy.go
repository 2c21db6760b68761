package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Policy mirrors heuristics.Policy field by field (same JSON names, defaults and ranges, as
// schema; docs/policy.md explains each). A test keeps the two and the defaults equal. The rules
// across fields are on HSDSAutoscalerSpec: here the apiserver would check them against the
// default {} before its fields are defaulted.
type Policy struct {
	// UpstreamWeight is how much an upstream 503 (DN 503, SN->DN timeout) counts as overload.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	UpstreamWeight float64 `json:"upstreamWeight"`
	// ShortWindow is the window of the saturation rule, the offered-load peak and the trend.
	// +optional
	// +kubebuilder:default="60s"
	ShortWindow PositiveDuration `json:"shortWindow"`
	// OverloadRatio: overloaded when overload 503s exceed this share of request attempts (and OverloadMinRate).
	// +optional
	// +kubebuilder:default=0.01
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=1
	OverloadRatio float64 `json:"overloadRatio"`
	// OverloadMinRate (503/s, cluster-wide) keeps a handful of 503s at low traffic from counting.
	// +optional
	// +kubebuilder:default=0.5
	// +kubebuilder:validation:Minimum=0
	OverloadMinRate float64 `json:"overloadMinRate"`
	// OverloadSustain: the saturation rule fires when overloaded snapshots cover this much of shortWindow.
	// +optional
	// +kubebuilder:default="15s"
	OverloadSustain PositiveDuration `json:"overloadSustain"`
	// BackgroundTasks is how many tasks an SN holds with no request (HSDS 0.9.4: 2), taken off each
	// pod's in-flight figure and its limit before utilization.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	BackgroundTasks float64 `json:"backgroundTasks"`
	// TargetUtilization is the in-flight/limit figure the proportional rule sizes for.
	// +optional
	// +kubebuilder:default=0.7
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=1
	TargetUtilization float64 `json:"targetUtilization"`
	// ScaleUpUtilization: the proportional rule scales up above it.
	// +optional
	// +kubebuilder:default=0.8
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=1
	ScaleUpUtilization float64 `json:"scaleUpUtilization"`
	// ScaleDownUtilization: the proportional rule scales down below it.
	// +optional
	// +kubebuilder:default=0.4
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	ScaleDownUtilization float64 `json:"scaleDownUtilization"`
	// FanoutMemory: how long the fan-out ceiling remembers a size's throughput under shedding;
	// 0 turns the ceiling off.
	// +optional
	// +kubebuilder:default="1h"
	FanoutMemory NonNegativeDuration `json:"fanoutMemory"`
	// UtilizationWindow: the band and the proportional rule read the mean utilization over this
	// window (settling snapshots excluded) instead of one in-flight reading; 0 reads one.
	// +optional
	// +kubebuilder:default="0s"
	UtilizationWindow NonNegativeDuration `json:"utilizationWindow"`
	// UtilizationSustain: the utilization rule scales up only once utilization has stayed above
	// scaleUpUtilization in every snapshot for this long; 0 acts on one reading.
	// +optional
	// +kubebuilder:default="0s"
	UtilizationSustain NonNegativeDuration `json:"utilizationSustain"`
	// RetriableShare is the share of requests clients retry on 503.
	// +optional
	// +kubebuilder:default=0.8
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	RetriableShare float64 `json:"retriableShare"`
	// ClientRetries is the retries per request (h5pyd: 10).
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	ClientRetries int `json:"clientRetries"`
	// PodCapacity is the request rate (req/s) one pod sustains; 0: learned (status.learned).
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	PodCapacity float64 `json:"podCapacity"`
	// FanoutShare models a per-pod capacity shrinking with the DN count; 0: none.
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	// +kubebuilder:validation:ExclusiveMaximum=true
	FanoutShare float64 `json:"fanoutShare"`
	// CapacityLearnUtilization: the served rate counts as capacity at or above this utilization.
	// +optional
	// +kubebuilder:default=0.5
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=1
	CapacityLearnUtilization float64 `json:"capacityLearnUtilization"`
	// MaxRequestTaskTime is the most task-seconds one request holds at an SN's gate on average; a
	// capacity sample implying more (idle keep-alive tasks, not load) is discarded, so a learned
	// c1 is never below (limit - backgroundTasks) / maxRequestTaskTime per pod from such load.
	// +optional
	// +kubebuilder:default="30s"
	MaxRequestTaskTime PositiveDuration `json:"maxRequestTaskTime"`
	// CapacityHalfLife is the half-life of the learned capacity's EWMA.
	// +optional
	// +kubebuilder:default="10m"
	CapacityHalfLife PositiveDuration `json:"capacityHalfLife"`
	// DemandHalfLife is the half-life of the stable offered load the panic rule compares with.
	// +optional
	// +kubebuilder:default="2m"
	DemandHalfLife PositiveDuration `json:"demandHalfLife"`
	// PodStartupTime is how long a new pod takes to serve; the trend is extrapolated this far.
	// +optional
	// +kubebuilder:default="60s"
	PodStartupTime NonNegativeDuration `json:"podStartupTime"`
	// StabilizationWindow: scale down only after this long without overload.
	// +optional
	// +kubebuilder:default="10m"
	StabilizationWindow PositiveDuration `json:"stabilizationWindow"`
	// DwellUp is the least time since the last change before a scale-up.
	// +optional
	// +kubebuilder:default="45s"
	DwellUp NonNegativeDuration `json:"dwellUp"`
	// DwellDown is the least time since the last change before a scale-down.
	// +optional
	// +kubebuilder:default="5m"
	DwellDown NonNegativeDuration `json:"dwellDown"`
	// MaxStepUpPods: one scale-up adds at most max(maxStepUpPods, current*(maxStepUpFactor-1)) pods.
	// +optional
	// +kubebuilder:default=4
	// +kubebuilder:validation:Minimum=1
	MaxStepUpPods int32 `json:"maxStepUpPods"`
	// MaxStepUpFactor: see maxStepUpPods.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	MaxStepUpFactor float64 `json:"maxStepUpFactor"`
	// MaxStepDownPods: one scale-down removes at most max(maxStepDownPods, current*maxStepDownPercent/100) pods.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	MaxStepDownPods int32 `json:"maxStepDownPods"`
	// MaxStepDownPercent: see maxStepDownPods.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MaxStepDownPercent float64 `json:"maxStepDownPercent"`
	// CatchUpHorizon: for this long after a rescale's rates (settling, not_ready 503s, a pod not
	// READY) the attempts hold the clients' catch-up retries: no panic, no sizing from need. 0: only
	// while the rates hold them.
	// +optional
	// +kubebuilder:default="2m"
	CatchUpHorizon NonNegativeDuration `json:"catchUpHorizon"`
	// PanicFactor: offered load above this multiple of its stable figure scales straight to the need.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:ExclusiveMinimum=true
	PanicFactor float64 `json:"panicFactor"`
}

// Guards mirrors the scaler's guards (policy file spec.guards; docs/operations.md): same JSON
// names, defaults and ranges.
type Guards struct {
	// Tick is the loop period.
	// +optional
	// +kubebuilder:default="1s"
	Tick PositiveDuration `json:"tick"`
	// Settle is how long decisions are held after a replica change or a pod deletion.
	// +optional
	// +kubebuilder:default="50s"
	Settle NonNegativeDuration `json:"settle"`
	// PendingTimeout is how long unscheduled Pending pods block further scale-ups.
	// +optional
	// +kubebuilder:default="5m"
	PendingTimeout NonNegativeDuration `json:"pendingTimeout"`
	// StuckNotReady is how long a Running pod whose node has not been READY yet may stay so
	// before it is reported stuck.
	// +optional
	// +kubebuilder:default="60s"
	StuckNotReady PositiveDuration `json:"stuckNotReady"`
	// StuckAfterReady is the same threshold for a pod whose node was READY before (on 0.9.4 old
	// nodes never leave READY on a rescale: one that does and stays so is HSDS issue 423).
	// +optional
	// +kubebuilder:default="20s"
	StuckAfterReady PositiveDuration `json:"stuckAfterReady"`
	// ReleaseStuck is the remedy that needs only the scale subresource: when a pod is stuck and
	// the policy wants no change, change the pod set by one pod (one fewer above minReplicas with
	// fresh figures, else one more), which releases a node stuck WAITING (HSDS issue 423). It
	// waits while another pod is Pending or starting (its joining releases the node too).
	// +optional
	// +kubebuilder:default=true
	ReleaseStuck bool `json:"releaseStuck"`
	// DeleteStuckPods enables the opt-in remedy instead: delete a stuck pod, one at a time (needs
	// pods delete).
	// +optional
	// +kubebuilder:default=false
	DeleteStuckPods bool `json:"deleteStuckPods"`
	// StuckRemedyInterval is the least time between two remedies for the same stuck pods.
	// +optional
	// +kubebuilder:default="5m"
	StuckRemedyInterval PositiveDuration `json:"stuckRemedyInterval"`
	// MaxSampleAge: older figures are stale (they count for nothing; they hold scale-downs).
	// +optional
	// +kubebuilder:default="60s"
	MaxSampleAge PositiveDuration `json:"maxSampleAge"`
	// HPACheckInterval is how often HPAs are re-listed for a conflict (0: every tick).
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
