package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group, version and names of the resource.
const (
	Group    = "hsds-autoscaler.io"
	Version  = "v1alpha1"
	Kind     = "HSDSAutoscaler"
	Resource = "hsdsautoscalers"
)

// GroupVersion is hsds-autoscaler.io/v1alpha1.
var GroupVersion = schema.GroupVersion{Group: Group, Version: Version}

// GroupVersionResource is hsdsautoscalers.hsds-autoscaler.io/v1alpha1.
func GroupVersionResource() schema.GroupVersionResource { return GroupVersion.WithResource(Resource) }

// AddToScheme registers the types with a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &HSDSAutoscaler{}, &HSDSAutoscalerList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
