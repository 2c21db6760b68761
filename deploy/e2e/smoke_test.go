//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// createNamespace creates a namespace for one test and deletes it afterwards.
func createNamespace(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	// A namespace of the same name still terminating (an earlier test's, e.g. deploy/base's HSDS
	// namespace hsds) is waited out; one in use is an error.
	eventually(ctx, t, time.Minute, "namespace "+name+" created", func(ctx context.Context) (bool, error) {
		_, err := cluster.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			return err == nil, err
		}
		old, err := cluster.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err == nil && old.DeletionTimestamp == nil {
			return false, fmt.Errorf("namespace %s exists and is not being deleted", name)
		}
		return false, nil
	})
	t.Cleanup(func() {
		_ = cluster.Client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// runningPods plays kubelet for every new pod of app=hsds and returns how many are Running and
// Ready and not being deleted, and their IPs.
func runningPods(ctx context.Context, kubelet controlplane.Kubelet, ns string, ips *controlplane.IPPool) (int, []string, error) {
	if _, err := kubelet.RunPending(ctx, ns, "app=hsds", ips); err != nil {
		return 0, nil, err
	}
	pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=hsds"})
	if err != nil {
		return 0, nil, err
	}
	var podIPs []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			podIPs = append(podIPs, p.Status.PodIP)
		}
	}
	slices.Sort(podIPs)
	return len(pods.Items), podIPs, nil
}

// waitReplicas plays kubelet until the Deployment has want ready replicas and exactly want pods.
func waitReplicas(ctx context.Context, t *testing.T, ns string, want int, ips *controlplane.IPPool) []string {
	t.Helper()
	kubelet := cluster.Kubelet()
	var podIPs []string
	eventually(ctx, t, 60*time.Second, fmt.Sprintf("%d ready hsds replicas", want), func(ctx context.Context) (bool, error) {
		total, ipList, err := runningPods(ctx, kubelet, ns, ips)
		if err != nil {
			return false, err
		}
		d, err := cluster.Client.AppsV1().Deployments(ns).Get(ctx, "hsds", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		podIPs = ipList
		return total == want && len(ipList) == want && d.Status.ReadyReplicas == int32(want) &&
			d.Status.AvailableReplicas == int32(want) && d.Status.ObservedGeneration == d.Generation, nil
	})
	return podIPs
}

// TestSmokeDeploymentScale: the real controller-manager turns the example hsds Deployment into a
// ReplicaSet and pods; playing kubelet makes them Ready on 127.0.0.x; the scale subresource
// (what the scaler writes) resizes it up and down.
func TestSmokeDeploymentScale(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	const ns = "e2e-smoke"
	createNamespace(ctx, t, ns)
	manifest := render(ctx, t, "deploy/examples/hsds")
	if _, _, err := cluster.KubectlInput(ctx, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, 30*time.Second, "a ReplicaSet owned by deployment hsds", func(ctx context.Context) (bool, error) {
		rs, err := cluster.Client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=hsds"})
		return err == nil && len(rs.Items) == 1 && isOwnedBy(rs.Items[0], "hsds"), err
	})
	ips := controlplane.NewIPPool()
	got := waitReplicas(ctx, t, ns, 2, ips)
	if want := []string{"127.0.0.2", "127.0.0.3"}; !slices.Equal(got, want) {
		t.Errorf("pod IPs = %v, want %v", got, want)
	}

	deployments := cluster.Client.AppsV1().Deployments(ns)
	scale, err := deployments.GetScale(ctx, "hsds", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if scale.Status.Replicas != 2 || scale.Status.Selector != "app=hsds" {
		t.Errorf("scale status = %+v, want 2 replicas, selector app=hsds", scale.Status)
	}
	scale.Spec.Replicas = 4
	if _, err := deployments.UpdateScale(ctx, "hsds", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("scaling up through the scale subresource: %v", err)
	}
	if got := waitReplicas(ctx, t, ns, 4, ips); len(got) != 4 {
		t.Errorf("pod IPs after scale-up = %v", got)
	}

	patch := []byte(`{"spec":{"replicas":1}}`)
	if _, err := deployments.Patch(ctx, "hsds", types.MergePatchType, patch, metav1.PatchOptions{}, "scale"); err != nil {
		t.Fatalf("scaling down with a PATCH of the scale subresource: %v", err)
	}
	waitReplicas(ctx, t, ns, 1, ips)
}

func isOwnedBy(rs appsv1.ReplicaSet, deployment string) bool {
	for _, o := range rs.OwnerReferences {
		if o.Kind == "Deployment" && o.Name == deployment && o.Controller != nil && *o.Controller {
			return true
		}
	}
	return false
}
