package controlplane

import (
	"context"
	"fmt"
	"net"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Kubelet plays the kubelet (no kubelet runs): it writes pod status through the status
// subresource. Pods never get a spec.nodeName, so the pod garbage collector removes them once
// they are deleted (scale-down works).
type Kubelet struct {
	Client kubernetes.Interface
	// Now stamps conditions and startTime; nil means time.Now.
	Now func() time.Time
}

// Kubelet returns a Kubelet using the admin client.
func (c *Cluster) Kubelet() Kubelet { return Kubelet{Client: c.Client} }

func (k Kubelet) now() metav1.Time {
	if k.Now == nil {
		return metav1.Now()
	}
	return metav1.NewTime(k.Now())
}

// RunningStatus is the status of a pod that is Running and Ready on podIP, every container
// running and ready.
func RunningStatus(pod *corev1.Pod, podIP string, now metav1.Time) corev1.PodStatus {
	st := corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    Loopback,
		HostIPs:   []corev1.HostIP{{IP: Loopback}},
		PodIP:     podIP,
		PodIPs:    []corev1.PodIP{{IP: podIP}},
		StartTime: &now,
		QOSClass:  pod.Status.QOSClass,
	}
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, ctr := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, Ready: true, Started: ptrTo(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	return st
}

// PendingStatus is the status of a pod accepted but not yet scheduled.
func PendingStatus(pod *corev1.Pod) corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodPending, QOSClass: pod.Status.QOSClass}
}

// UnschedulableStatus is what kube-scheduler writes when no node fits: Pending with
// PodScheduled=False, reason Unschedulable (what the cluster autoscaler reacts to).
func UnschedulableStatus(pod *corev1.Pod, message string, now metav1.Time) corev1.PodStatus {
	st := PendingStatus(pod)
	st.Conditions = []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: message, LastTransitionTime: now,
	}}
	return st
}

func ptrTo[T any](v T) *T { return &v }

// SetRunning makes a pod Running and Ready on podIP (a 127.0.0.x address).
func (k Kubelet) SetRunning(ctx context.Context, namespace, name, podIP string) error {
	if ip := net.ParseIP(podIP); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return fmt.Errorf("pod IP %q is not an IPv4 loopback address", podIP)
	}
	now := k.now()
	return k.SetStatus(ctx, namespace, name, func(p *corev1.Pod) corev1.PodStatus { return RunningStatus(p, podIP, now) })
}

// SetPending puts a pod back to Pending with no conditions.
func (k Kubelet) SetPending(ctx context.Context, namespace, name string) error {
	return k.SetStatus(ctx, namespace, name, PendingStatus)
}

// SetUnschedulable marks a pod Pending and Unschedulable with message.
func (k Kubelet) SetUnschedulable(ctx context.Context, namespace, name, message string) error {
	now := k.now()
	return k.SetStatus(ctx, namespace, name, func(p *corev1.Pod) corev1.PodStatus { return UnschedulableStatus(p, message, now) })
}

// SetStatus writes the status status(pod) computes from the current pod through the status
// subresource (UpdateStatus, retried on conflicts): what a kubelet does, so the pod's managedFields
// hold f:status (HSDS reads f:podIPs there).
func (k Kubelet) SetStatus(ctx context.Context, namespace, name string, status func(*corev1.Pod) corev1.PodStatus) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := k.Client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Status = status(pod)
		_, err = k.Client.CoreV1().Pods(namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("setting the status of pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// RunPending makes every pod matching selector that is not Running (and not being deleted)
// Running and Ready, taking addresses from ips. It returns the names it changed, sorted.
func (k Kubelet) RunPending(ctx context.Context, namespace, selector string, ips *IPPool) ([]string, error) {
	pods, err := k.Client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("listing pods %q in %s: %w", selector, namespace, err)
	}
	var changed []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodRunning {
			continue
		}
		ip, err := ips.Get(p.Name)
		if err != nil {
			return changed, err
		}
		if err := k.SetRunning(ctx, namespace, p.Name, ip); err != nil {
			return changed, err
		}
		changed = append(changed, p.Name)
	}
	sort.Strings(changed)
	return changed, nil
}

// IPPool hands out distinct loopback addresses 127.0.0.2 ... 127.0.0.254, one per pod name
// (127.0.0.1 is the control plane's). It is not safe for concurrent use.
type IPPool struct {
	byPod map[string]string
	next  int
}

// NewIPPool returns an empty pool.
func NewIPPool() *IPPool { return &IPPool{byPod: map[string]string{}, next: 2} }

// Get returns the address of pod, assigning the next free one the first time.
func (p *IPPool) Get(pod string) (string, error) {
	if ip, ok := p.byPod[pod]; ok {
		return ip, nil
	}
	if p.next > 254 {
		return "", fmt.Errorf("no loopback address left for pod %s (253 in use)", pod)
	}
	ip := fmt.Sprintf("127.0.0.%d", p.next)
	p.next++
	p.byPod[pod] = ip
	return ip, nil
}
