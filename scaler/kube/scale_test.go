package kube

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	scalefake "k8s.io/client-go/scale/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// scaleStore is a stateful /scale subresource for scale/fake: Update honours resourceVersion
// (optimistic concurrency), as the API server does.
type scaleStore struct {
	mu        sync.Mutex
	scales    map[string]*autoscalingv1.Scale // by "resource/namespace/name"
	conflicts int                             // inject this many Conflicts before an update succeeds
}

func key(resource, ns, name string) string { return resource + "/" + ns + "/" + name }

// newFakeScales returns a scale client holding one Deployment and one StatefulSet.
func newFakeScales(deploySpec int32) (*scalefake.FakeScaleClient, *scaleStore) {
	st := &scaleStore{scales: map[string]*autoscalingv1.Scale{}}
	for _, r := range []string{"deployments", "statefulsets"} {
		st.scales[key(r, "default", "hsds")] = &autoscalingv1.Scale{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "hsds", ResourceVersion: "1"},
			Spec:       autoscalingv1.ScaleSpec{Replicas: deploySpec},
			Status:     autoscalingv1.ScaleStatus{Replicas: deploySpec, Selector: "app=hsds"},
		}
	}
	fc := &scalefake.FakeScaleClient{}
	fc.AddReactor("get", "*", st.get)
	fc.AddReactor("update", "*", st.update)
	return fc, st
}

func (s *scaleStore) get(a k8stesting.Action) (bool, runtime.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := a.(k8stesting.GetAction)
	sc, ok := s.scales[key(g.GetResource().Resource, g.GetNamespace(), g.GetName())]
	if !ok {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Resource: g.GetResource().Resource}, g.GetName())
	}
	return true, sc.DeepCopy(), nil
}

func (s *scaleStore) update(a k8stesting.Action) (bool, runtime.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := a.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
	k := key(a.GetResource().Resource, a.GetNamespace(), in.Name)
	cur := s.scales[k]
	if s.conflicts > 0 || in.ResourceVersion != cur.ResourceVersion {
		if s.conflicts > 0 {
			s.conflicts--
			s.bump(cur) // someone else wrote (same replicas)
		}
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: a.GetResource().Resource}, in.Name, errors.New("resourceVersion changed"))
	}
	out := cur.DeepCopy()
	out.Spec.Replicas = in.Spec.Replicas
	s.bump(out)
	s.scales[k] = out
	return true, out.DeepCopy(), nil
}

func (s *scaleStore) bump(sc *autoscalingv1.Scale) {
	rv, _ := strconv.Atoi(sc.ResourceVersion)
	sc.ResourceVersion = strconv.Itoa(rv + 1)
}

func (s *scaleStore) spec(resource string) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scales[key(resource, "default", "hsds")].Spec.Replicas
}

var (
	deployTarget = scaler.Target{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "hsds"}
	stsTarget    = scaler.Target{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "default", Name: "hsds"}
)

func newTestScaleClient(spec int32) (*ScaleClient, *scalefake.FakeScaleClient, *scaleStore) {
	fc, st := newFakeScales(spec)
	return NewScaleClient(fc, testrestmapperFor()), fc, st
}

func TestScaleClientDeploymentAndStatefulSet(t *testing.T) {
	for _, tt := range []struct {
		target   scaler.Target
		resource string
	}{{deployTarget, "deployments"}, {stsTarget, "statefulsets"}} {
		t.Run(tt.target.Kind, func(t *testing.T) {
			c, _, st := newTestScaleClient(3)
			got, err := c.GetScale(context.Background(), tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(scaler.Scale{SpecReplicas: 3, StatusReplicas: 3, Selector: "app=hsds"}, got); diff != "" {
				t.Errorf("GetScale (-want +got):\n%s", diff)
			}
			if _, err := c.SetReplicas(context.Background(), tt.target, 3, 5); err != nil {
				t.Fatal(err)
			}
			if st.spec(tt.resource) != 5 {
				t.Errorf("spec.replicas = %d, want 5", st.spec(tt.resource))
			}
		})
	}
}

func TestScaleClientRetriesConflicts(t *testing.T) {
	c, fc, st := newTestScaleClient(3)
	st.conflicts = 2
	if _, err := c.SetReplicas(context.Background(), deployTarget, 3, 4); err != nil {
		t.Fatalf("want success after 2 conflicts, got %v", err)
	}
	var updates int
	for _, a := range fc.Actions() {
		if a.GetVerb() == "update" {
			updates++
		}
	}
	if updates != 3 || st.spec("deployments") != 4 {
		t.Errorf("updates = %d (want 3), spec = %d (want 4)", updates, st.spec("deployments"))
	}
	st.conflicts = 10
	if _, err := c.SetReplicas(context.Background(), deployTarget, 4, 5); !apierrors.IsConflict(err) {
		t.Errorf("want a Conflict after the retries run out, got %v", err)
	}
}

func TestScaleClientRefusesStaleDecision(t *testing.T) {
	c, fc, st := newTestScaleClient(6)
	_, err := c.SetReplicas(context.Background(), deployTarget, 3, 4)
	if !errors.Is(err, scaler.ErrScaleChanged) {
		t.Fatalf("want ErrScaleChanged, got %v", err)
	}
	for _, a := range fc.Actions() {
		if a.GetVerb() == "update" {
			t.Errorf("wrote despite a changed scale: %v", a)
		}
	}
	if st.spec("deployments") != 6 {
		t.Errorf("spec changed to %d", st.spec("deployments"))
	}
}

func TestScaleClientUnknownKind(t *testing.T) {
	c, _, _ := newTestScaleClient(3)
	_, err := c.GetScale(context.Background(), scaler.Target{APIVersion: "example.com/v1", Kind: "Nope", Namespace: "default", Name: "x"})
	if err == nil {
		t.Fatal("want an error for an unknown kind")
	}
	_, err = c.GetScale(context.Background(), scaler.Target{APIVersion: "a/b/c", Kind: "Deployment", Namespace: "default", Name: "x"})
	if err == nil {
		t.Fatal("want an error for a bad apiVersion")
	}
}

func testrestmapperFor() meta.RESTMapper {
	return testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme)
}
