package discovery

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// AgentPortAnnotation, on a pod, overrides the agent port.
const AgentPortAnnotation = "hsds-autoscaler.io/agent-port"

// Sink is what discovery needs of the store.
type Sink interface {
	UpsertPod(m store.PodMeta)
	DeletePod(namespace, name string)
}

// Config says which pods to watch.
type Config struct {
	// Namespaces to watch; empty means every namespace.
	Namespaces []string
	// LabelSelector in kubectl syntax, e.g. "app=hsds".
	LabelSelector string
	// AgentPort is used when a pod has no AgentPortAnnotation.
	AgentPort int
	// Resync is the informers' resync period (0: none).
	Resync time.Duration
}

// Discovery runs one pod informer per namespace.
type Discovery struct {
	cfg       Config
	sink      Sink
	factories []informers.SharedInformerFactory
	synced    []cache.InformerSynced
}

// New builds the informers; nothing runs until Start.
func New(client kubernetes.Interface, cfg Config, sink Sink) (*Discovery, error) {
	d := &Discovery{cfg: cfg, sink: sink}
	namespaces := cfg.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	for _, ns := range namespaces {
		f := informers.NewSharedInformerFactoryWithOptions(client, cfg.Resync, informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = cfg.LabelSelector }))
		inf := f.Core().V1().Pods().Informer()
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    d.upsert,
			UpdateFunc: func(_, obj any) { d.upsert(obj) },
			DeleteFunc: d.delete,
		}); err != nil {
			return nil, fmt.Errorf("add pod handler for namespace %q: %w", ns, err)
		}
		d.factories = append(d.factories, f)
		d.synced = append(d.synced, inf.HasSynced)
	}
	return d, nil
}

// Start starts the informers and waits for their caches to sync (or ctx to end).
func (d *Discovery) Start(ctx context.Context) error {
	for _, f := range d.factories {
		f.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), d.synced...) {
		return fmt.Errorf("pod informers did not sync: %w", context.Cause(ctx))
	}
	return nil
}

// Shutdown stops the informers' goroutines (after ctx given to Start ended) and waits for them.
func (d *Discovery) Shutdown() {
	for _, f := range d.factories {
		f.Shutdown()
	}
}

func (d *Discovery) upsert(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	d.sink.UpsertPod(PodMeta(pod, d.cfg.AgentPort))
}

func (d *Discovery) delete(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	d.sink.DeletePod(pod.Namespace, pod.Name)
}

// PodMeta reduces a pod object to what the store keeps.
func PodMeta(pod *corev1.Pod, defaultPort int) store.PodMeta {
	m := store.PodMeta{
		Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, Labels: pod.Labels,
		Phase: phase(pod), Created: pod.CreationTimestamp.Time, Scheduled: true,
		IP: pod.Status.PodIP, Port: agentPort(pod, defaultPort), Deployment: deployment(pod),
	}
	if pod.Status.StartTime != nil && m.Phase == heuristics.PodRunning {
		m.Started = pod.Status.StartTime.Time
	}
	for _, c := range pod.Status.Conditions {
		switch c.Type {
		case corev1.PodReady:
			m.Ready = c.Status == corev1.ConditionTrue
		case corev1.PodScheduled:
			m.Scheduled = c.Status == corev1.ConditionTrue
		}
	}
	if pod.Spec.NodeName != "" {
		m.Scheduled = true
	}
	return m
}

func phase(pod *corev1.Pod) heuristics.PodPhase {
	if pod.DeletionTimestamp != nil {
		return heuristics.PodOther
	}
	switch pod.Status.Phase {
	case corev1.PodPending, "":
		return heuristics.PodPending
	case corev1.PodRunning:
		return heuristics.PodRunning
	default:
		return heuristics.PodOther
	}
}

// agentPort reads AgentPortAnnotation; an unusable annotation falls back to the default, logged.
func agentPort(pod *corev1.Pod, def int) int {
	v, ok := pod.Annotations[AgentPortAnnotation]
	if !ok {
		return def
	}
	p, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || p < 1 || p > 65535 {
		klog.InfoS("Ignoring bad agent port annotation", "pod", klog.KObj(pod), "value", v)
		return def
	}
	return p
}

// deployment infers the owning Deployment from the ReplicaSet owner: a ReplicaSet made by a
// Deployment is named <deployment>-<pod-template-hash>.
func deployment(pod *corev1.Pod) string {
	hash := pod.Labels["pod-template-hash"]
	for _, ref := range pod.OwnerReferences {
		if ref.Kind != "ReplicaSet" || hash == "" {
			continue
		}
		if name, ok := strings.CutSuffix(ref.Name, "-"+hash); ok && name != "" {
			return name
		}
	}
	return ""
}
