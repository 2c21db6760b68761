package controlplane

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func testPod(name string, phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "hsds"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "sn", Image: "i"}, {Name: "dn", Image: "i"}}},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

func testKubelet(pods ...runtime.Object) (Kubelet, *fake.Clientset) {
	cs := fake.NewClientset(pods...)
	return Kubelet{Client: cs, Now: func() time.Time { return testNow }}, cs
}

func getPod(t *testing.T, cs *fake.Clientset, name string) *corev1.Pod {
	t.Helper()
	p, err := cs.CoreV1().Pods("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func conditions(p *corev1.Pod) map[corev1.PodConditionType]corev1.ConditionStatus {
	m := map[corev1.PodConditionType]corev1.ConditionStatus{}
	for _, c := range p.Status.Conditions {
		m[c.Type] = c.Status
	}
	return m
}

func TestSetRunning(t *testing.T) {
	k, cs := testKubelet(testPod("a", corev1.PodPending))
	if err := k.SetRunning(context.Background(), "ns", "a", "127.0.0.7"); err != nil {
		t.Fatal(err)
	}
	p := getPod(t, cs, "a")
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP != "127.0.0.7" || p.Status.PodIPs[0].IP != "127.0.0.7" {
		t.Errorf("status = %+v, want Running on 127.0.0.7", p.Status)
	}
	want := map[corev1.PodConditionType]corev1.ConditionStatus{
		corev1.PodScheduled: corev1.ConditionTrue, corev1.PodInitialized: corev1.ConditionTrue,
		corev1.ContainersReady: corev1.ConditionTrue, corev1.PodReady: corev1.ConditionTrue,
	}
	if diff := cmp.Diff(want, conditions(p)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if len(p.Status.ContainerStatuses) != 2 || !p.Status.ContainerStatuses[1].Ready {
		t.Errorf("container statuses = %+v, want 2 ready", p.Status.ContainerStatuses)
	}
	if !p.Status.StartTime.Time.Equal(testNow) {
		t.Errorf("startTime = %v, want %v", p.Status.StartTime, testNow)
	}
}

func TestSetRunningRejectsNonLoopback(t *testing.T) {
	k, _ := testKubelet(testPod("a", corev1.PodPending))
	for _, ip := range []string{"10.0.0.5", "::1", "nonsense", ""} {
		if err := k.SetRunning(context.Background(), "ns", "a", ip); err == nil {
			t.Errorf("SetRunning(%q) = nil, want an error", ip)
		}
	}
}

func TestSetUnschedulableAndPending(t *testing.T) {
	k, cs := testKubelet(testPod("a", corev1.PodRunning))
	ctx := context.Background()
	if err := k.SetUnschedulable(ctx, "ns", "a", "0/3 nodes are available"); err != nil {
		t.Fatal(err)
	}
	p := getPod(t, cs, "a")
	c := p.Status.Conditions
	if p.Status.Phase != corev1.PodPending || len(c) != 1 || c[0].Type != corev1.PodScheduled ||
		c[0].Status != corev1.ConditionFalse || c[0].Reason != corev1.PodReasonUnschedulable ||
		c[0].Message != "0/3 nodes are available" {
		t.Errorf("status = %+v, want Pending, PodScheduled=False Unschedulable", p.Status)
	}
	if err := k.SetPending(ctx, "ns", "a"); err != nil {
		t.Fatal(err)
	}
	if p := getPod(t, cs, "a"); p.Status.Phase != corev1.PodPending || len(p.Status.Conditions) != 0 {
		t.Errorf("status = %+v, want plain Pending", p.Status)
	}
	if err := k.SetPending(ctx, "ns", "missing"); err == nil || !strings.Contains(err.Error(), "ns/missing") {
		t.Errorf("SetPending(missing) = %v, want an error naming the pod", err)
	}
}

func TestRunPending(t *testing.T) {
	running := testPod("r", corev1.PodRunning)
	deleting := testPod("d", corev1.PodPending)
	deleting.DeletionTimestamp = &metav1.Time{Time: testNow}
	deleting.Finalizers = []string{"x"}
	other := testPod("o", corev1.PodPending)
	other.Labels = map[string]string{"app": "other"}
	k, cs := testKubelet(testPod("b", corev1.PodPending), testPod("a", corev1.PodPending), running, deleting, other)
	ips := NewIPPool()
	got, err := k.RunPending(context.Background(), "ns", "app=hsds", ips)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
		t.Errorf("changed pods (-want +got):\n%s", diff)
	}
	a, b := getPod(t, cs, "a").Status.PodIP, getPod(t, cs, "b").Status.PodIP
	if a == b || !strings.HasPrefix(a, "127.0.0.") || !strings.HasPrefix(b, "127.0.0.") {
		t.Errorf("pod IPs a=%s b=%s, want distinct loopback addresses", a, b)
	}
	if p := getPod(t, cs, "o"); p.Status.Phase != corev1.PodPending {
		t.Errorf("pod outside the selector changed to %s", p.Status.Phase)
	}
}

func TestIPPool(t *testing.T) {
	p := NewIPPool()
	first, _ := p.Get("a")
	again, _ := p.Get("a")
	second, _ := p.Get("b")
	if first != "127.0.0.2" || again != first || second != "127.0.0.3" {
		t.Errorf("Get(a), Get(a), Get(b) = %s, %s, %s; want 127.0.0.2 twice then 127.0.0.3", first, again, second)
	}
	for i := range 251 {
		if _, err := p.Get(fmt.Sprintf("p%d", i)); err != nil {
			t.Fatalf("Get #%d: %v", i+3, err)
		}
	}
	if ip, err := p.Get("one-too-many"); err == nil {
		t.Errorf("Get after 253 pods = %s, want an error", ip)
	}
}
