package fakekubelet

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// Finalizer is what a real-mode Kubelet puts on the pods it runs, so that a deleted pod keeps
// its deletionTimestamp (HSDS then leaves it out of the cluster) until its processes have
// stopped, as with a real kubelet's graceful deletion. Pods that are never bound to a node are
// otherwise deleted at once.
const Finalizer = "hsds-autoscaler.io/fakekubelet"

// minGrace is the least time a stopping pod gets between SIGTERM and SIGKILL (as the kubelet).
const minGrace = 2 * time.Second

// runtime runs the processes of the pods: fakeRuntime (ModeFake) or realRuntime (ModeReal).
type runtime interface {
	// start starts pod's processes and returns once they serve.
	start(ctx context.Context, pod *corev1.Pod) (*Pod, error)
	// stop stops p's processes, after at most grace for them to exit, and frees what p held.
	stop(p *Pod, grace time.Duration) error
	// probes reports whether readiness is probed (probe); otherwise a started pod is Ready.
	probes() bool
	// probe reports whether p is ready to serve.
	probe(ctx context.Context, p *Pod) (bool, error)
	// close frees what the runtime holds for all pods.
	close() error
}

// grace is how long a deleted pod's processes get: its terminationGracePeriodSeconds (default
// 30 s) within [minGrace, RealConfig.MaxStopGrace].
func (k *Kubelet) grace(pod *corev1.Pod) time.Duration {
	g := 30 * time.Second
	if pod != nil && pod.Spec.TerminationGracePeriodSeconds != nil {
		g = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return min(max(g, minGrace), max(k.cfg.Real.withDefaults().MaxStopGrace, minGrace))
}

// stopPod stops p's prober, then its processes.
func (k *Kubelet) stopPod(p *Pod, grace time.Duration) {
	if p.probeCancel != nil {
		p.probeCancel()
	}
	if err := k.rt.stop(p, grace); err != nil {
		klog.ErrorS(err, "Fake kubelet: stopping pod", "pod", klog.KRef(k.cfg.Namespace, p.Name))
	}
}

// stopPods stops pods in parallel (at Stop: each gets minGrace) and waits for the probers.
func (k *Kubelet) stopPods(pods map[string]*Pod) {
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Go(func() { k.stopPod(p, minGrace) })
	}
	wg.Wait()
	k.probes.Wait()
}

// addFinalizer puts Finalizer on pod unless it carries it.
func (k *Kubelet) addFinalizer(ctx context.Context, pod *corev1.Pod) error {
	if slices.Contains(pod.Finalizers, Finalizer) {
		return nil
	}
	patch := fmt.Appendf(nil, `{"metadata":{"finalizers":[%q]}}`, Finalizer)
	if _, err := k.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("adding the finalizer to pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// finalize takes Finalizer off a pod that carries it (nil: nothing to do).
func (k *Kubelet) finalize(ctx context.Context, pod *corev1.Pod) error {
	if pod == nil || !slices.Contains(pod.Finalizers, Finalizer) {
		return nil
	}
	patch := fmt.Appendf(nil, `{"metadata":{"$deleteFromPrimitiveList/finalizers":[%q]}}`, Finalizer)
	_, err := k.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing the finalizer of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// releaseFinalizers takes Finalizer off every selected pod (at Stop: no one will stop them).
func (k *Kubelet) releaseFinalizers() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := k.client.CoreV1().Pods(k.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: k.cfg.Selector})
	if err != nil {
		klog.ErrorS(err, "Fake kubelet: listing pods to release their finalizers")
		return
	}
	for i := range pods.Items {
		if err := k.finalize(ctx, &pods.Items[i]); err != nil {
			klog.ErrorS(err, "Fake kubelet: releasing a pod")
		}
	}
}

// runningStatus is the status of pod running as p: Running on p.IP, its node p.HostIP, Ready as
// p.Ready(); startTime and unchanged conditions keep their times.
func runningStatus(pod *corev1.Pod, p *Pod, now metav1.Time) corev1.PodStatus {
	if pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP == p.IP {
		return readyStatus(pod.Status, p.Ready(), now)
	}
	st := controlplane.RunningStatus(pod, p.IP, now)
	st.HostIP, st.HostIPs = p.HostIP, []corev1.HostIP{{IP: p.HostIP}}
	return readyStatus(st, p.Ready(), now)
}

// readyStatus sets the Ready and ContainersReady conditions and every container's ready flag.
func readyStatus(st corev1.PodStatus, ready bool, now metav1.Time) corev1.PodStatus {
	st = *st.DeepCopy()
	want := corev1.ConditionFalse
	if ready {
		want = corev1.ConditionTrue
	}
	for i, c := range st.Conditions {
		if (c.Type == corev1.PodReady || c.Type == corev1.ContainersReady) && c.Status != want {
			st.Conditions[i].Status, st.Conditions[i].LastTransitionTime = want, now
			st.Conditions[i].Reason = ""
			if !ready {
				st.Conditions[i].Reason = "ContainersNotReady"
			}
		}
	}
	for i := range st.ContainerStatuses {
		st.ContainerStatuses[i].Ready = ready
	}
	return st
}

// startProber follows p's readiness every RealConfig.ProbeInterval and writes each change to the
// pod's Ready condition, until p stops.
func (k *Kubelet) startProber(p *Pod) {
	ctx, cancel := context.WithCancel(context.Background())
	p.probeCancel = cancel
	every := k.cfg.Real.withDefaults().ProbeInterval
	k.probes.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			ready, err := k.rt.probe(pctx, p)
			pcancel()
			if ready != p.Ready() && ctx.Err() == nil {
				k.setReady(ctx, p, ready, err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

func (k *Kubelet) setReady(ctx context.Context, p *Pod, ready bool, probeErr error) {
	now := metav1.Now()
	err := k.status.SetStatus(ctx, k.cfg.Namespace, p.Name, func(cur *corev1.Pod) corev1.PodStatus {
		return readyStatus(cur.Status, ready, now)
	})
	if err != nil {
		if ctx.Err() == nil && !apierrors.IsNotFound(err) {
			klog.ErrorS(err, "Fake kubelet: writing readiness", "pod", klog.KRef(k.cfg.Namespace, p.Name))
		}
		return
	}
	p.ready.Store(ready)
	klog.InfoS("Fake kubelet: pod readiness", "pod", klog.KRef(k.cfg.Namespace, p.Name), "ready", ready, "probe", probeErr)
}

// WaitReady waits until exactly n pods run (none starting) and all are Ready, or ctx ends.
func (k *Kubelet) WaitReady(ctx context.Context, n int) ([]*Pod, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		pods, err := k.WaitRunning(ctx, n)
		if err != nil {
			return nil, err
		}
		ready := 0
		for _, p := range pods {
			if p.Ready() {
				ready++
			}
		}
		if ready == n {
			return pods, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %d ready pods (have %d): %w", n, ready, ctx.Err())
		case <-t.C:
		}
	}
}

// stopOnSignal stops the Kubelet on SIGINT or SIGTERM and then ends the process with that
// signal (RealConfig.StopOnSignal). After a normal Stop it lets the signals go.
func (k *Kubelet) stopOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		defer signal.Stop(ch)
		select {
		case <-k.done:
			return
		case sig := <-ch:
			klog.InfoS("Fake kubelet: signal received, cleaning up", "signal", sig)
			k.Stop()
			signal.Stop(ch) // back to the default action, unless others listen
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(os.Getpid(), s)
			}
		}
	}()
}
