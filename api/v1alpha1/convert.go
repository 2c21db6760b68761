package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Pos and NonNeg wrap a time.Duration.
func Pos(d time.Duration) PositiveDuration { return PositiveDuration{metav1.Duration{Duration: d}} }
func NonNeg(d time.Duration) NonNegativeDuration {
	return NonNegativeDuration{metav1.Duration{Duration: d}}
}

func hd(d metav1.Duration) heuristics.Duration { return heuristics.D(d.Duration) }

// Heuristics is p as the policy's own type.
func (p Policy) Heuristics() heuristics.Policy {
	return heuristics.Policy{
		UpstreamWeight: p.UpstreamWeight, ShortWindow: hd(p.ShortWindow.Duration),
		OverloadRatio: p.OverloadRatio, OverloadMinRate: p.OverloadMinRate, OverloadSustain: hd(p.OverloadSustain.Duration),
		BackgroundTasks: p.BackgroundTasks, TargetUtilization: p.TargetUtilization, ScaleUpUtilization: p.ScaleUpUtilization, ScaleDownUtilization: p.ScaleDownUtilization,
		RetriableShare: p.RetriableShare, ClientRetries: p.ClientRetries,
		PodCapacity: p.PodCapacity, FanoutShare: p.FanoutShare, CapacityLearnUtilization: p.CapacityLearnUtilization,
		MaxRequestTaskTime: hd(p.MaxRequestTaskTime.Duration), CapacityHalfLife: hd(p.CapacityHalfLife.Duration), DemandHalfLife: hd(p.DemandHalfLife.Duration),
		UtilizationWindow: hd(p.UtilizationWindow.Duration), UtilizationSustain: hd(p.UtilizationSustain.Duration), FanoutMemory: hd(p.FanoutMemory.Duration),
		PodStartupTime: hd(p.PodStartupTime.Duration), StabilizationWindow: hd(p.StabilizationWindow.Duration),
		DwellUp: hd(p.DwellUp.Duration), DwellDown: hd(p.DwellDown.Duration),
		MaxStepUpPods: p.MaxStepUpPods, MaxStepUpFactor: p.MaxStepUpFactor,
		MaxStepDownPods: p.MaxStepDownPods, MaxStepDownPercent: p.MaxStepDownPercent, PanicFactor: p.PanicFactor,
		CatchUpHorizon: hd(p.CatchUpHorizon.Duration),
	}
}

// PolicyFrom is the API form of a heuristics.Policy.
func PolicyFrom(h heuristics.Policy) Policy {
	return Policy{
		UpstreamWeight: h.UpstreamWeight, ShortWindow: Pos(h.ShortWindow.Duration),
		OverloadRatio: h.OverloadRatio, OverloadMinRate: h.OverloadMinRate, OverloadSustain: Pos(h.OverloadSustain.Duration),
		BackgroundTasks: h.BackgroundTasks, TargetUtilization: h.TargetUtilization, ScaleUpUtilization: h.ScaleUpUtilization, ScaleDownUtilization: h.ScaleDownUtilization,
		RetriableShare: h.RetriableShare, ClientRetries: h.ClientRetries,
		PodCapacity: h.PodCapacity, FanoutShare: h.FanoutShare, CapacityLearnUtilization: h.CapacityLearnUtilization,
		MaxRequestTaskTime: Pos(h.MaxRequestTaskTime.Duration), CapacityHalfLife: Pos(h.CapacityHalfLife.Duration), DemandHalfLife: Pos(h.DemandHalfLife.Duration),
		UtilizationWindow: NonNeg(h.UtilizationWindow.Duration), UtilizationSustain: NonNeg(h.UtilizationSustain.Duration), FanoutMemory: NonNeg(h.FanoutMemory.Duration),
		PodStartupTime: NonNeg(h.PodStartupTime.Duration), StabilizationWindow: Pos(h.StabilizationWindow.Duration),
		DwellUp: NonNeg(h.DwellUp.Duration), DwellDown: NonNeg(h.DwellDown.Duration),
		MaxStepUpPods: h.MaxStepUpPods, MaxStepUpFactor: h.MaxStepUpFactor,
		MaxStepDownPods: h.MaxStepDownPods, MaxStepDownPercent: h.MaxStepDownPercent, PanicFactor: h.PanicFactor,
		CatchUpHorizon: NonNeg(h.CatchUpHorizon.Duration),
	}
}

// Heuristics is l as the policy's own type (nil: nothing learned).
func (l *Learned) Heuristics() (heuristics.Learned, bool) {
	if l == nil {
		return heuristics.Learned{}, false
	}
	h := heuristics.Learned{PodCapacity: l.PodCapacity, At: l.At.Time}
	for _, t := range l.Throughput {
		h.Throughput = append(h.Throughput, heuristics.SizeThroughput{Pods: t.Pods, Served: t.Served, Samples: t.Samples,
			First: t.First.Time, Last: t.Last.Time})
	}
	return h, true
}

// LearnedFrom is the API form of a heuristics.Learned.
func LearnedFrom(h heuristics.Learned) *Learned {
	l := &Learned{PodCapacity: h.PodCapacity, At: metav1.NewTime(h.At)}
	for _, t := range h.Throughput {
		l.Throughput = append(l.Throughput, SizeThroughput{Pods: t.Pods, Served: t.Served, Samples: t.Samples,
			First: metav1.NewTime(t.First), Last: metav1.NewTime(t.Last)})
	}
	return l
}
