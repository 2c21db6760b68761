package kube

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/util/retry"

	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// ScaleClient reads and writes the scale subresource of any scalable kind (Deployment,
// StatefulSet, ...) through the generic client-go scale client; a RESTMapper maps the target's
// apiVersion/kind to its resource.
type ScaleClient struct {
	scales scale.ScalesGetter
	mapper meta.RESTMapper
}

var _ scaler.ScaleClient = (*ScaleClient)(nil)

// NewScaleClient wraps a scale client and a RESTMapper (tests pass scale/fake and a static mapper).
func NewScaleClient(scales scale.ScalesGetter, mapper meta.RESTMapper) *ScaleClient {
	return &ScaleClient{scales: scales, mapper: mapper}
}

// NewScaleClientForConfig builds a ScaleClient whose RESTMapper and scale-kind resolver come from
// API discovery (cached in memory, refreshed when a kind is not found).
func NewScaleClientForConfig(cfg *rest.Config) (*ScaleClient, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	scales, err := scale.NewForConfig(cfg, mapper, dynamic.LegacyAPIPathResolverFunc, scale.NewDiscoveryScaleKindResolver(cached))
	if err != nil {
		return nil, fmt.Errorf("scale client: %w", err)
	}
	return NewScaleClient(scales, mapper), nil
}

// resource maps the target to its group/resource, resetting a discovery cache once on a miss.
func (c *ScaleClient) resource(t scaler.Target) (schema.GroupResource, error) {
	gv, err := schema.ParseGroupVersion(t.APIVersion)
	if err != nil {
		return schema.GroupResource{}, fmt.Errorf("target apiVersion %q: %w", t.APIVersion, err)
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: t.Kind}
	m, err := c.mapper.RESTMapping(gk, gv.Version)
	if err != nil {
		if r, ok := c.mapper.(interface{ Reset() }); ok && meta.IsNoMatchError(err) {
			r.Reset()
			m, err = c.mapper.RESTMapping(gk, gv.Version)
		}
		if err != nil {
			return schema.GroupResource{}, fmt.Errorf("map %s: %w", t, err)
		}
	}
	return m.Resource.GroupResource(), nil
}

func (c *ScaleClient) get(ctx context.Context, t scaler.Target) (*autoscalingv1.Scale, schema.GroupResource, error) {
	gr, err := c.resource(t)
	if err != nil {
		return nil, gr, err
	}
	s, err := c.scales.Scales(t.Namespace).Get(ctx, gr, t.Name, metav1.GetOptions{})
	if err != nil {
		return nil, gr, fmt.Errorf("get scale of %s: %w", t, err)
	}
	return s, gr, nil
}

// GetScale implements scaler.ScaleClient.
func (c *ScaleClient) GetScale(ctx context.Context, t scaler.Target) (scaler.Scale, error) {
	s, _, err := c.get(ctx, t)
	if err != nil {
		return scaler.Scale{}, err
	}
	return toScale(s), nil
}

// SetReplicas implements scaler.ScaleClient: read, check spec.replicas is still `from`, write
// `to` with the read resourceVersion; a Conflict (someone wrote in between) re-reads and retries
// (retry.DefaultRetry: 5 tries, 10 ms backoff).
func (c *ScaleClient) SetReplicas(ctx context.Context, t scaler.Target, from, to int32) (scaler.Scale, error) {
	var out scaler.Scale
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, gr, err := c.get(ctx, t)
		if err != nil {
			return err
		}
		if s.Spec.Replicas != from {
			return fmt.Errorf("%s: spec.replicas is %d, decision was made from %d: %w", t, s.Spec.Replicas, from, scaler.ErrScaleChanged)
		}
		s.Spec.Replicas = to
		updated, err := c.scales.Scales(t.Namespace).Update(ctx, gr, s, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		out = toScale(updated)
		return nil
	})
	if err != nil {
		return scaler.Scale{}, fmt.Errorf("update scale: %w", err)
	}
	return out, nil
}

func toScale(s *autoscalingv1.Scale) scaler.Scale {
	return scaler.Scale{SpecReplicas: s.Spec.Replicas, StatusReplicas: s.Status.Replicas, Selector: s.Status.Selector}
}
