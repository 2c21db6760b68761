package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler/autoscalers"
)

// Autoscalers reads HSDSAutoscaler objects and writes their status with the dynamic client: it
// is the Source and the StatusWriter of scaler/autoscalers.
type Autoscalers struct {
	client     dynamic.Interface
	discovery  discovery.DiscoveryInterface
	namespaces []string
	resync     time.Duration
}

var (
	_ autoscalers.Source       = (*Autoscalers)(nil)
	_ autoscalers.StatusWriter = (*Autoscalers)(nil)
)

// NewAutoscalers watches the objects of the given namespaces (none: all).
func NewAutoscalers(cfg *rest.Config, namespaces []string) (*Autoscalers, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	return &Autoscalers{client: client, discovery: disc, namespaces: namespaces, resync: 10 * time.Minute}, nil
}

// Installed says whether the apiserver serves hsdsautoscalers.hsds-autoscaler.io/v1alpha1 (the
// CRD is installed).
func (a *Autoscalers) Installed() (bool, error) {
	list, err := a.discovery.ServerResourcesForGroupVersion(v1alpha1.GroupVersion.String())
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discover %s: %w", v1alpha1.GroupVersion, err)
	}
	for _, r := range list.APIResources {
		if r.Name == v1alpha1.Resource {
			return true, nil
		}
	}
	return false, nil
}

// Watch runs one informer per namespace and tells h about every object until ctx ends; it
// returns nil then.
func (a *Autoscalers) Watch(ctx context.Context, h autoscalers.Handler) error {
	gvr := v1alpha1.GroupVersionResource()
	var synced []cache.InformerSynced
	for _, ns := range a.namespaces {
		f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(a.client, a.resync, ns, nil)
		inf := f.ForResource(gvr).Informer()
		if _, err := inf.AddEventHandler(handler(h)); err != nil {
			return fmt.Errorf("HSDSAutoscaler informer: %w", err)
		}
		f.Start(ctx.Done())
		synced = append(synced, inf.HasSynced)
		defer f.Shutdown()
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return nil // ctx ended first: a shutdown, not an error
	}
	klog.InfoS("Watching HSDSAutoscalers", "namespaces", a.namespaces)
	<-ctx.Done()
	return nil
}

// handler turns informer events into Upsert and Delete calls.
func handler(h autoscalers.Handler) cache.ResourceEventHandlerFuncs {
	upsert := func(obj any) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		var o v1alpha1.HSDSAutoscaler
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &o); err != nil {
			klog.ErrorS(err, "Cannot read HSDSAutoscaler", "object", u.GetNamespace()+"/"+u.GetName())
			return
		}
		h.Upsert(&o)
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    upsert,
		UpdateFunc: func(_, obj any) { upsert(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if u, ok := obj.(*unstructured.Unstructured); ok {
				h.Delete(u.GetNamespace(), u.GetName())
			}
		},
	}
}

// WriteStatus replaces the object's status through the status subresource (a merge patch: no
// conflict with spec changes, and none of its fields can be written this way).
func (a *Autoscalers) WriteStatus(ctx context.Context, namespace, name string, st v1alpha1.HSDSAutoscalerStatus) error {
	body, err := json.Marshal(map[string]any{"status": st})
	if err != nil {
		return err
	}
	_, err = a.client.Resource(v1alpha1.GroupVersionResource()).Namespace(namespace).
		Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: "hsds-autoscaler"}, "status")
	if err != nil {
		return fmt.Errorf("write status of HSDSAutoscaler %s/%s: %w", namespace, name, err)
	}
	return nil
}
