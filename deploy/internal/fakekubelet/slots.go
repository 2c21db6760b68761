package fakekubelet

import (
	"context"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// Unschedulable returns the pods waiting for a slot, sorted by name.
func (k *Kubelet) Unschedulable() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var names []string
	for n := range k.waiting {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Slots returns the node's pod slots (-1: unlimited).
func (k *Kubelet) Slots() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.slots
}

// AddSlots adds n pod slots (n may be negative: running pods are never evicted) and retries the
// waiting pods. It does nothing with unlimited slots.
func (k *Kubelet) AddSlots(n int) {
	k.mu.Lock()
	if k.slots >= 0 {
		k.slots = max(0, k.slots+n)
	}
	k.mu.Unlock()
	k.requeueWaiting()
}

// place decides for a pod not running yet: placed (it holds a slot) or not, and how long it must
// still wait (start delay, or the cluster autoscaler's delay) before the next look.
func (k *Kubelet) place(name string, now time.Time) (time.Duration, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.pods[name]; ok {
		return 0, true
	}
	since, ok := k.starting[name]
	if !ok {
		if !k.freeSlotLocked() {
			return k.waitForCapacityLocked(name, now)
		}
		since = now
		k.starting[name] = now
		delete(k.waiting, name)
	}
	if left := k.cfg.StartDelay - now.Sub(since); left > 0 {
		return left, true
	}
	return 0, true
}

// waitForCapacityLocked records a pod without a slot; once it waited ScaleUpDelay the cluster
// autoscaler adds a slot for it.
func (k *Kubelet) waitForCapacityLocked(name string, now time.Time) (time.Duration, bool) {
	since, ok := k.waiting[name]
	if !ok {
		since = now
		k.waiting[name] = now
	}
	if k.cfg.ScaleUpDelay <= 0 {
		return 0, false
	}
	if left := k.cfg.ScaleUpDelay - now.Sub(since); left > 0 {
		if !ok {
			k.queue.AddAfter(name, left)
		}
		return 0, false
	}
	k.slots++
	klog.InfoS("Fake cluster autoscaler added a pod slot", "pod", klog.KRef(k.cfg.Namespace, name), "slots", k.slots)
	delete(k.waiting, name)
	k.starting[name] = now
	if k.cfg.StartDelay > 0 {
		return k.cfg.StartDelay, true
	}
	return 0, true
}

func (k *Kubelet) freeSlotLocked() bool {
	return k.slots < 0 || len(k.pods)+len(k.starting) < k.slots
}

// markUnschedulable writes PodScheduled=False/Unschedulable unless the pod already says so.
func (k *Kubelet) markUnschedulable(ctx context.Context, pod *corev1.Pod) error {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return nil
		}
	}
	klog.InfoS("Fake kubelet: no free pod slot", "pod", klog.KObj(pod))
	return k.status.SetUnschedulable(ctx, pod.Namespace, pod.Name, UnschedulableMessage)
}

// requeueWaiting queues the waiting pods, oldest first.
func (k *Kubelet) requeueWaiting() {
	k.mu.Lock()
	type w struct {
		name  string
		since time.Time
	}
	var ws []w
	for n, s := range k.waiting {
		ws = append(ws, w{n, s})
	}
	k.mu.Unlock()
	sort.Slice(ws, func(i, j int) bool {
		if !ws[i].since.Equal(ws[j].since) {
			return ws[i].since.Before(ws[j].since)
		}
		return ws[i].name < ws[j].name
	})
	for _, x := range ws {
		k.queue.Add(x.name)
	}
}
