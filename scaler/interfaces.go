package scaler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Target names the scalable object (a Deployment or StatefulSet, anything with a /scale
// subresource).
type Target struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
}

// String is "Kind namespace/name", used in logs and as the metrics label value.
func (t Target) String() string { return fmt.Sprintf("%s %s/%s", t.Kind, t.Namespace, t.Name) }

// Key is "namespace/name".
func (t Target) Key() string { return t.Namespace + "/" + t.Name }

// Group is the API group of APIVersion ("apps" for "apps/v1", "" for "v1").
func (t Target) Group() string {
	if i := strings.Index(t.APIVersion, "/"); i >= 0 {
		return t.APIVersion[:i]
	}
	return ""
}

// Scale is what the scale subresource says about a target.
type Scale struct {
	// SpecReplicas is spec.replicas; StatusReplicas is status.replicas.
	SpecReplicas   int32
	StatusReplicas int32
	// Selector is status.selector, a label selector in string form ("app=hsds").
	Selector string
}

// ErrScaleChanged is returned (wrapped) by ScaleClient.SetReplicas when spec.replicas no longer
// holds the value the decision started from: someone else scaled the target, so the decision is
// void and the next tick decides again.
var ErrScaleChanged = errors.New("scale changed since it was read")

// ScaleClient reads and writes a target's scale subresource.
type ScaleClient interface {
	GetScale(ctx context.Context, t Target) (Scale, error)
	// SetReplicas sets spec.replicas to `to` if it is still `from`, retrying optimistic-concurrency
	// conflicts; it returns ErrScaleChanged (wrapped) if spec.replicas is no longer `from`.
	SetReplicas(ctx context.Context, t Target, from, to int32) (Scale, error)
}

// PodSource supplies the figures of the pods a selector matches (implemented by the adapter's
// store, and by bench's simulator). It never blocks on the network.
type PodSource interface {
	PodSamples(namespace string, selector labels.Selector, now time.Time) []heuristics.PodSample
}

// HPALister tells which HorizontalPodAutoscalers in the target's namespace have the target as
// their scaleTargetRef.
type HPALister interface {
	HPAsTargeting(ctx context.Context, t Target) ([]string, error)
}

// ObjectRef names the object an Event is about.
type ObjectRef struct {
	APIVersion, Kind, Namespace, Name string
}

// Ref is the target as an ObjectRef.
func (t Target) Ref() ObjectRef {
	return ObjectRef(t)
}

// Event types, as in Kubernetes.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// EventSink records Kubernetes Events. It must not block.
type EventSink interface {
	Event(obj ObjectRef, eventType, reason, message string)
}

// PodDeleter deletes one pod (the opt-in remedy for pods stuck not READY).
type PodDeleter interface {
	DeletePod(ctx context.Context, namespace, name string) error
}
