package kube

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// HPALister lists autoscaling/v2 HorizontalPodAutoscalers in the target's namespace.
type HPALister struct {
	client kubernetes.Interface
}

var _ scaler.HPALister = (*HPALister)(nil)

// NewHPALister returns an HPALister on client.
func NewHPALister(client kubernetes.Interface) *HPALister { return &HPALister{client: client} }

// HPAsTargeting implements scaler.HPALister: the names of HPAs whose scaleTargetRef has the
// target's kind, name and API group (an HPA whose ref has no apiVersion matches on kind and name:
// when in doubt, refuse).
func (l *HPALister) HPAsTargeting(ctx context.Context, t scaler.Target) ([]string, error) {
	list, err := l.client.AutoscalingV2().HorizontalPodAutoscalers(t.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list HPAs in %s: %w", t.Namespace, err)
	}
	var names []string
	for _, h := range list.Items {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind == t.Kind && ref.Name == t.Name && (ref.APIVersion == "" || groupOf(ref.APIVersion) == t.Group()) {
			names = append(names, h.Name)
		}
	}
	return names, nil
}

func groupOf(apiVersion string) string {
	if i := strings.Index(apiVersion, "/"); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// EventSink records Events through a record.EventRecorder.
type EventSink struct {
	rec record.EventRecorder
}

var _ scaler.EventSink = (*EventSink)(nil)

// NewEventSink wraps rec.
func NewEventSink(rec record.EventRecorder) *EventSink { return &EventSink{rec: rec} }

// Event implements scaler.EventSink.
func (s *EventSink) Event(obj scaler.ObjectRef, eventType, reason, message string) {
	ref := &corev1.ObjectReference{APIVersion: obj.APIVersion, Kind: obj.Kind, Namespace: obj.Namespace, Name: obj.Name}
	s.rec.Event(ref, eventType, reason, message)
}

// NewEventRecorder starts an event broadcaster writing core/v1 Events through client, and
// returns a recorder whose Events carry source component, and the function that stops it.
func NewEventRecorder(client kubernetes.Interface, component string) (record.EventRecorder, func()) {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	return b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component}), b.Shutdown
}

// PodDeleter deletes pods (the opt-in remedy for pods stuck not READY).
type PodDeleter struct {
	client kubernetes.Interface
}

var _ scaler.PodDeleter = (*PodDeleter)(nil)

// NewPodDeleter returns a PodDeleter on client.
func NewPodDeleter(client kubernetes.Interface) *PodDeleter { return &PodDeleter{client: client} }

// DeletePod implements scaler.PodDeleter with the pod's default grace period.
func (d *PodDeleter) DeletePod(ctx context.Context, namespace, name string) error {
	if err := d.client.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	return nil
}
