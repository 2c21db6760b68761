//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// The identity deploy/base runs hsds-autoscaler as (serviceaccount.yaml, rbac.yaml), and the HSDS
// namespace its Roles grant (the policy's target is the Deployment hsds there).
const (
	baseHSDSNamespace = "hsds"
	rbacNamespace     = "hsds-autoscaler"
	rbacUser          = "system:serviceaccount:" + rbacNamespace + ":hsds-autoscaler"
)

// rbacKinds are the objects of deploy/base that grant the service its rights; the rest (the
// Deployment, Service, APIServices, PDB) would start or route to an in-cluster copy.
var rbacKinds = map[string]bool{"Namespace": true, "ServiceAccount": true, "ClusterRole": true,
	"ClusterRoleBinding": true, "Role": true, "RoleBinding": true}

// applyBaseRBAC applies deploy/base's RBAC objects (and their namespace and ServiceAccount) for
// real and deletes them at the end of the test.
func applyBaseRBAC(ctx context.Context, t *testing.T) {
	t.Helper()
	var objs []unstructured.Unstructured
	for _, o := range decodeObjects(t, render(ctx, t, "deploy/base")) {
		if rbacKinds[o.GetKind()] {
			objs = append(objs, o)
		}
	}
	if len(objs) < 8 {
		t.Fatalf("deploy/base has %d RBAC objects, expected the namespace, ServiceAccount and at least 3 role/binding pairs", len(objs))
	}
	manifest := toYAML(t, objs)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, _, err := cluster.KubectlInput(ctx, manifest, "delete", "--ignore-not-found", "--wait=false", "-f", "-"); err != nil {
			t.Errorf("removing deploy/base RBAC: %v", err)
		}
	})
	if _, _, err := cluster.KubectlInput(ctx, manifest, "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

// impersonatingKubeconfig writes a copy of the admin kubeconfig whose user acts as the
// ServiceAccount ns/name (with the groups the API server gives a service account token), so
// that every request serve makes is authorized by that account's RBAC alone. It returns the
// file and the account's user name.
func impersonatingKubeconfig(t *testing.T, ns, name string) (path, user string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	user = "system:serviceaccount:" + ns + ":" + name
	for _, ai := range cfg.AuthInfos {
		ai.Impersonate = user
		ai.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
	}
	path = filepath.Join(t.TempDir(), name+"-sa.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path, user
}

// impersonationArgs are serve's flags that make every client of it act as the kubeconfig's user.
func impersonationArgs(kubeconfig string) []string {
	return []string{"--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig,
		"--lister-kubeconfig=" + kubeconfig}
}

// checkServeScalesUp is the second half of the install tests: with serve leading and
// custom.metrics.k8s.io routed to it, hsds_503_rate of the workload's pods is read through
// the aggregator, an overload is answered with a scale-up and a Rescaled Event, and serve's log
// (it runs as user) has no "forbidden". l runs at the light rate; it is stopped at the end.
func checkServeScalesUp(ctx context.Context, t *testing.T, w *workload, l *load, s *serveProc, user string) {
	t.Helper()
	rec := w.record(t)
	time.Sleep(settle + time.Second)

	// One pod, or two when a loaded machine made the light load look busy already.
	got, err := podMetric(ctx, w.ns, "v1beta2", "hsds_503_rate")
	if err != nil || len(got) == 0 {
		t.Fatalf("hsds_503_rate through the aggregator: %v, %v", got, err)
	}
	armed := rec.arm()
	l.set(150) // ~3.5 pods' worth on one pod
	up := rec.waitChangeWhere(ctx, t, armed, 30*time.Second, "a scale-up", func(c change) bool { return c.to > c.from })
	waitEvent(ctx, t, w.ns, "Rescaled", 10*time.Second)
	l.set(0)
	noForbidden(t, s, user)
	t.Logf("as %s: leader, hsds_503_rate %v, scaled %d -> %d", user, got, up.from, up.to)
}

// learnedConfigMap is deploy/base's --learned-configmap.
const learnedConfigMap = "hsds-autoscaler-learned"

// waitLearnedConfigMap waits until the learned-state ConfigMap in the service's namespace holds a
// valid learned pod capacity under key (serve saved what the policy file's policy learned).
func waitLearnedConfigMap(ctx context.Context, t *testing.T, key string) heuristics.Learned {
	t.Helper()
	var l heuristics.Learned
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 45*time.Second, true, func(ctx context.Context) (bool, error) {
		cm, err := cluster.Client.CoreV1().ConfigMaps(rbacNamespace).Get(ctx, learnedConfigMap, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		raw, ok := cm.Data[key]
		if !ok || json.Unmarshal([]byte(raw), &l) != nil || l.Validate() != nil || l.PodCapacity <= 0 {
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("ConfigMap %s/%s: no learned state under %s: %v", rbacNamespace, learnedConfigMap, key, err)
	}
	t.Logf("learned state saved in ConfigMap %s/%s: podCapacity %.2f req/s at %s", rbacNamespace, learnedConfigMap, l.PodCapacity, l.At.Format(time.RFC3339))
	return l
}

// TestDeployRBACSufficesForServe runs serve as deploy/base's ServiceAccount with deploy/base's
// RBAC and nothing more (the other scenarios run it as the cluster admin), on base's HSDS
// namespace and target (hsds/hsds): the grants are exactly the listed ones, and leader election
// in the service's namespace, the pod and HPA watches, the scale subresource, Events, and the
// custom-metrics API's delegated authentication and authorization all work with them, without one
// "forbidden" in serve's log. Another Deployment's scale, in the same namespace or another, is
// refused by the API server.
func TestDeployRBACSufficesForServe(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	const ns, otherNS = baseHSDSNamespace, "e2e-rbac-other"
	w := newWorkload(ctx, t, ns, 1, nil) // the namespace first: base's Roles go there
	createDeployment(ctx, t, ns, "web", 0)
	createNamespace(ctx, t, otherNS)
	createDeployment(ctx, t, otherNS, "hsds", 0)
	applyBaseRBAC(ctx, t)
	kubeconfig, _ := impersonatingKubeconfig(t, rbacNamespace, "hsds-autoscaler")

	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	scale := func(ns, verb, name string) authorizationv1.ResourceAttributes {
		return authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: "apps", Resource: "deployments", Subresource: "scale", Name: name}
	}
	for _, c := range []struct {
		attrs authorizationv1.ResourceAttributes
		want  bool
	}{
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "watch", Resource: "pods"}, true},
		{scale(ns, "get", "hsds"), true},
		{scale(ns, "update", "hsds"), true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "list", Group: "autoscaling", Resource: "horizontalpodautoscalers"}, true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "events"}, true},
		{authorizationv1.ResourceAttributes{Namespace: rbacNamespace, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, true},
		{authorizationv1.ResourceAttributes{Verb: "create", Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}, true},
		{authorizationv1.ResourceAttributes{Namespace: "kube-system", Verb: "get", Resource: "configmaps", Name: "extension-apiserver-authentication"}, true},
		// The learned state (--learned-configmap): its one ConfigMap, in the service's namespace.
		{authorizationv1.ResourceAttributes{Namespace: rbacNamespace, Verb: "create", Resource: "configmaps"}, true},
		{authorizationv1.ResourceAttributes{Namespace: rbacNamespace, Verb: "get", Resource: "configmaps", Name: learnedConfigMap}, true},
		{authorizationv1.ResourceAttributes{Namespace: rbacNamespace, Verb: "update", Resource: "configmaps", Name: learnedConfigMap}, true},
		// Least privilege: only the target's scale (not another Deployment's, here or elsewhere),
		// nothing outside the HSDS namespace, no pod deletion (opt-in remedy,
		// deploy/components/stuck-pod-remedy), no writes to the Deployment itself, no Secrets, no
		// Leases outside its namespace.
		{scale(ns, "update", "web"), false},
		{scale(ns, "update", ""), false},
		{scale(otherNS, "update", "hsds"), false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "apps", Resource: "statefulsets", Subresource: "scale", Name: "hsds"}, false},
		{authorizationv1.ResourceAttributes{Namespace: otherNS, Verb: "list", Resource: "pods"}, false},
		{authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods"}, false},
		{authorizationv1.ResourceAttributes{Namespace: otherNS, Verb: "create", Resource: "events"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "delete", Resource: "pods"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "apps", Resource: "deployments"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "watch", Group: "autoscaling", Resource: "horizontalpodautoscalers"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets"}, false},
		{authorizationv1.ResourceAttributes{Namespace: rbacNamespace, Verb: "update", Resource: "configmaps", Name: "other"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "configmaps"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, false},
	} {
		r, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
			&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &c.attrs}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed != c.want {
			t.Errorf("%s may %s %s/%s %s %q in %q: %v, want %v (%s)", rbacUser, c.attrs.Verb, c.attrs.Group, c.attrs.Resource,
				c.attrs.Subresource, c.attrs.Name, c.attrs.Namespace, r.Status.Allowed, c.want, r.Status.Reason)
		}
	}
	// The same, for real: the API server refuses the ServiceAccount another Deployment's scale.
	for _, d := range []struct{ ns, name string }{{ns, "web"}, {otherNS, "hsds"}} {
		sc, err := cluster.Client.AppsV1().Deployments(d.ns).GetScale(ctx, d.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sc.Spec.Replicas = 3
		if _, err := sa.AppsV1().Deployments(d.ns).UpdateScale(ctx, d.name, sc, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("%s updating the scale of %s/%s: %v, want 403 Forbidden", rbacUser, d.ns, d.name, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	l := w.startLoad(t, lightRate)
	args := serveArgs(ns, policyFile(t, ns, nil, nil), append(impersonationArgs(kubeconfig),
		"--leader-elect=true", "--leader-elect-namespace="+rbacNamespace, "--leader-elect-identity=rbac-test",
		"--learned-configmap="+learnedConfigMap)...)
	s := startServe(t, "serve", args...)
	waitLeader(ctx, t, rbacNamespace, "rbac-test", 30*time.Second)
	registerAdapter(ctx, t, ns, s)
	checkServeScalesUp(ctx, t, w, l, s, rbacUser)
	waitLearnedConfigMap(ctx, t, ns+".deployment.hsds")

	// A restart restores what was saved (the last save is the one on the way out).
	s.stop()
	noForbidden(t, s, rbacUser)
	saved := waitLearnedConfigMap(ctx, t, ns+".deployment.hsds")
	s2 := startServe(t, "serve-2", args...)
	const restored = `"Restored the learned state" podCapacity=`
	if err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 45*time.Second, true, func(context.Context) (bool, error) {
		return s2.logContains(restored), nil
	}); err != nil {
		t.Fatalf("serve-2 never logged %s", restored)
	}
	log, err := os.ReadFile(s2.logPath)
	if err != nil {
		t.Fatal(err)
	}
	field := strings.Fields(string(log[strings.Index(string(log), restored)+len(restored):]))[0]
	if got, err := strconv.ParseFloat(field, 64); err != nil || math.Abs(got-saved.PodCapacity) > 1e-9 {
		t.Errorf("serve-2 restored podCapacity %s, want the saved %v", field, saved.PodCapacity)
	}
	t.Logf("serve-2 restored podCapacity %s (saved %v)", field, saved.PodCapacity)
	noForbidden(t, s2, rbacUser)

	// The stuck-pod remedy's switch adds pod deletion in the HSDS namespace, and nowhere else.
	var remedy []unstructured.Unstructured
	for _, o := range decodeObjects(t, render(ctx, t, "deploy/examples/stuck-pod-remedy")) {
		if rbacKinds[o.GetKind()] && o.GetName() == "hsds-autoscaler-stuck-pod-remedy" {
			remedy = append(remedy, o)
		}
	}
	if _, _, err := cluster.KubectlInput(ctx, toYAML(t, remedy), "apply", "-f", "-"); err != nil || len(remedy) != 2 {
		t.Fatalf("applying the remedy's Role and RoleBinding (%d objects): %v", len(remedy), err)
	}
	for _, c := range []struct {
		ns   string
		want bool
	}{{ns, true}, {otherNS, false}} {
		attrs := authorizationv1.ResourceAttributes{Namespace: c.ns, Verb: "delete", Resource: "pods"}
		eventually(ctx, t, 10*time.Second, "pods delete in "+c.ns+" as the remedy grants it", func(ctx context.Context) (bool, error) {
			r, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
				&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}, metav1.CreateOptions{})
			return err == nil && r.Status.Allowed == c.want, err
		})
	}
}
