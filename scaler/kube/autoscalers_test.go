package kube

import (
	"context"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

// recordingHandler records Upsert and Delete calls.
type recordingHandler struct {
	mu      sync.Mutex
	upserts map[string]*v1alpha1.HSDSAutoscaler
	deletes []string
}

func (h *recordingHandler) Upsert(o *v1alpha1.HSDSAutoscaler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.upserts[o.Namespace+"/"+o.Name] = o
}

func (h *recordingHandler) Delete(ns, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deletes = append(h.deletes, ns+"/"+name)
}

func (h *recordingHandler) get(key string) *v1alpha1.HSDSAutoscaler {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.upserts[key]
}

func (h *recordingHandler) deleted() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.deletes...)
}

func unstructuredAutoscaler(t *testing.T, ns, name string, maxR int32) *unstructured.Unstructured {
	t.Helper()
	o := &v1alpha1.HSDSAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.Kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1},
		Spec:       v1alpha1.HSDSAutoscalerSpec{ScaleTarget: v1alpha1.ScaleTarget{Name: "hsds"}, MinReplicas: 1, MaxReplicas: maxR},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// Watch tells the handler about the objects of the watched namespaces only, typed, and about
// deletions; WriteStatus patches the status.
func TestAutoscalersWatchAndWriteStatus(t *testing.T) {
	gvr := v1alpha1.GroupVersionResource()
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "HSDSAutoscalerList"},
		unstructuredAutoscaler(t, "a", "x", 4), unstructuredAutoscaler(t, "other", "y", 4))
	src := &Autoscalers{client: client, namespaces: []string{"a", "b"}, resync: time.Hour}
	h := &recordingHandler{upserts: map[string]*v1alpha1.HSDSAutoscaler{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Watch(ctx, h) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	}()
	testwait.For(t, "a/x delivered", func() bool { return h.get("a/x") != nil })
	if got := h.get("a/x"); got.Spec.MaxReplicas != 4 || got.Spec.ScaleTarget.Name != "hsds" {
		t.Errorf("a/x = %+v", got.Spec)
	}
	if _, err := client.Resource(gvr).Namespace("b").Create(ctx, unstructuredAutoscaler(t, "b", "z", 7), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "b/z delivered", func() bool { return h.get("b/z") != nil })
	if err := client.Resource(gvr).Namespace("a").Delete(ctx, "x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "a/x deleted", func() bool { return len(h.deleted()) == 1 && h.deleted()[0] == "a/x" })
	if h.get("other/y") != nil {
		t.Error("other/y delivered: its namespace is not watched")
	}

	st := v1alpha1.HSDSAutoscalerStatus{ObservedReplicas: 3, DesiredReplicas: 5, Learned: &v1alpha1.Learned{PodCapacity: 41.5}}
	if err := src.WriteStatus(ctx, "b", "z", st); err != nil {
		t.Fatal(err)
	}
	u, err := client.Resource(gvr).Namespace("b").Get(ctx, "z", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got v1alpha1.HSDSAutoscaler
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.DesiredReplicas != 5 || got.Status.Learned == nil || got.Status.Learned.PodCapacity != 41.5 || got.Spec.MaxReplicas != 7 {
		t.Errorf("after WriteStatus: spec %+v status %+v", got.Spec, got.Status)
	}
	if err := src.WriteStatus(ctx, "b", "gone", st); err == nil {
		t.Error("WriteStatus of a missing object: no error")
	}
}
