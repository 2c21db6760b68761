package discovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/discovery"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func pod(ns, name string, mut ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "uid-" + "x",
			Labels:            map[string]string{"app": "hsds", "pod-template-hash": "5d8f"},
			CreationTimestamp: metav1.NewTime(t0),
			OwnerReferences:   []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "hsds-5d8f"}}},
		Spec: corev1.PodSpec{NodeName: "n1"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.2", StartTime: &metav1.Time{Time: t0.Add(time.Second)},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, f := range mut {
		f(p)
	}
	return p
}

func TestPodMeta(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want store.PodMeta
	}{
		{name: "running and ready", pod: pod("ns", "a"), want: store.PodMeta{Namespace: "ns", Name: "a", UID: "uid-x",
			Labels: map[string]string{"app": "hsds", "pod-template-hash": "5d8f"}, Phase: heuristics.PodRunning,
			Ready: true, Scheduled: true, Created: t0, Started: t0.Add(time.Second), IP: "127.0.0.2", Port: 9090, Deployment: "hsds"}},
		{name: "unschedulable, annotated port", pod: pod("ns", "p", func(p *corev1.Pod) {
			p.Spec.NodeName, p.Status = "", corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable"}}}
			p.Annotations = map[string]string{discovery.AgentPortAnnotation: "9191"}
			p.OwnerReferences = nil
		}), want: store.PodMeta{Namespace: "ns", Name: "p", UID: "uid-x",
			Labels: map[string]string{"app": "hsds", "pod-template-hash": "5d8f"}, Phase: heuristics.PodPending,
			Created: t0, Port: 9191}},
		{name: "being deleted, bad annotation", pod: pod("ns", "d", func(p *corev1.Pod) {
			p.DeletionTimestamp = &metav1.Time{Time: t0}
			p.Annotations = map[string]string{discovery.AgentPortAnnotation: "http"}
		}), want: store.PodMeta{Namespace: "ns", Name: "d", UID: "uid-x",
			Labels: map[string]string{"app": "hsds", "pod-template-hash": "5d8f"}, Phase: heuristics.PodOther,
			Ready: true, Scheduled: true, Created: t0, IP: "127.0.0.2", Port: 9090, Deployment: "hsds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, discovery.PodMeta(tt.pod, 9090)); diff != "" {
				t.Errorf("PodMeta (-want +got):\n%s", diff)
			}
		})
	}
}

func names(s *store.Store) []string {
	var out []string
	for _, p := range s.PodSamples("", labels.Everything(), t0) {
		out = append(out, p.Name)
	}
	return out
}

func TestDiscoveryFollowsPods(t *testing.T) {
	other := pod("ns", "other", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "else"} })
	elsewhere := pod("kube-system", "elsewhere")
	client := fake.NewClientset(pod("ns", "a"), other, elsewhere)
	st := store.New(store.Config{Window: 30 * time.Second, ShortWindow: 10 * time.Second, StaleAfter: 5 * time.Second})
	d, err := discovery.New(client, discovery.Config{Namespaces: []string{"ns"}, LabelSelector: "app=hsds", AgentPort: 9090}, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); d.Shutdown() })
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a"}, names(st)); diff != "" {
		t.Errorf("after sync (-want +got):\n%s", diff)
	}
	pods := client.CoreV1().Pods("ns")
	if _, err := pods.Create(ctx, pod("ns", "b", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "pod b added", func() bool { return len(names(st)) == 2 })
	if err := pods.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "pod a deleted", func() bool { return cmp.Equal([]string{"b"}, names(st)) })
	if got := st.PodSamples("ns", labels.Everything(), t0)[0].Phase; got != heuristics.PodPending {
		t.Errorf("pod b phase = %q, want Pending", got)
	}
}
