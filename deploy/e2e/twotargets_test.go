//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
)

// The kustomize example of HSDSAutoscaler objects in two namespaces, and its second namespace.
const (
	objectsExample = "deploy/examples/hsds-autoscalers"
	secondHSDSNS   = "hsds-b"
)

// checkTwoAutoscalers is the objects half of the install tests: serve, running as user with the
// installed RBAC alone, with no policy file and watching a's and b's namespaces, scales the
// targets of two HSDSAutoscaler objects: a's Deployment, at 1 replica, scales up under an
// overload (150 req/s on one pod; la is a's load), b's is raised 1 -> 2 to its minReplicas. Both
// statuses are written, both namespaces get a Rescaled Event, `kubectl get hsdsautoscalers -A`
// shows both, and serve's log has no "forbidden". la is at 0 req/s at the end.
func checkTwoAutoscalers(ctx context.Context, t *testing.T, s *serveProc, user string, a, b *workload, la *load) {
	t.Helper()
	dc, err := dynamic.NewForConfig(cluster.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*workload{a, b} {
		if got, err := w.replicas(ctx); err != nil || got != 1 {
			t.Fatalf("%s/hsds replicas = %d, %v before the objects; want 1", w.ns, got, err)
		}
	}
	if err := applyAutoscaler(ctx, autoscalerYAML(t, a.ns, "a", map[string]any{"maxReplicas": 6})); err != nil {
		t.Fatal(err)
	}
	if err := applyAutoscaler(ctx, autoscalerYAML(t, b.ns, "b", map[string]any{"minReplicas": 2, "maxReplicas": 4})); err != nil {
		t.Fatal(err)
	}
	la.set(150) // ~3.5 pods' worth on one pod
	oa := waitAutoscaler(ctx, t, dc, a.ns, "a", "scaled up", 90*time.Second, func(o *v1alpha1.HSDSAutoscaler) bool {
		return o.Status.ObservedReplicas > 1 && o.Status.LastScaleTime != nil
	})
	ob := waitAutoscaler(ctx, t, dc, b.ns, "b", "raised to minReplicas", 60*time.Second, func(o *v1alpha1.HSDSAutoscaler) bool {
		return o.Status.ObservedReplicas == 2 && o.Status.LastScaleTime != nil
	})
	la.set(0)
	for _, o := range []*v1alpha1.HSDSAutoscaler{oa, ob} {
		checkStatus(t, o)
	}
	if got, err := a.replicas(ctx); err != nil || got < 2 {
		t.Errorf("%s/hsds replicas = %d, %v; want a scale-up", a.ns, got, err)
	}
	if got, err := b.replicas(ctx); err != nil || got != 2 {
		t.Errorf("%s/hsds replicas = %d, %v; want 2", b.ns, got, err)
	}
	for _, w := range []*workload{a, b} {
		waitEvent(ctx, t, w.ns, "Rescaled", 10*time.Second)
	}
	out, err := cluster.Kubectl(ctx, "get", "hsdsautoscalers", "-A")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kubectl get hsdsautoscalers -A (serve as %s):\n%s", user, out)
	checkRow(t, out, a.ns, "a", "1", "6", func(replicas int) bool { return replicas >= 2 })
	checkRow(t, out, b.ns, "b", "2", "4", func(replicas int) bool { return replicas == 2 })
	noForbidden(t, s, user)
	t.Logf("as %s: %s/hsds scaled 1 -> %d (%s), %s/hsds 1 -> %d (%s)", user, a.ns, oa.Status.ObservedReplicas,
		oa.Status.LastDecision.Reason, b.ns, ob.Status.ObservedReplicas, ob.Status.LastDecision.Reason)
}

// checkRow finds the row of ns/name in `kubectl get hsdsautoscalers -A` and checks its target,
// bounds and REPLICAS.
func checkRow(t *testing.T, out, ns, name, minR, maxR string, replicasOK func(int) bool) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(ns) + `\s+` + name + `\s+hsds\s+` + minR + `\s+` + maxR + `\s+(\d+)\s+\d+\s+\S+`).FindStringSubmatch(out)
	if m == nil {
		t.Errorf("kubectl get hsdsautoscalers -A has no row %s %s hsds %s %s:\n%s", ns, name, minR, maxR, out)
		return
	}
	if n, _ := strconv.Atoi(m[1]); !replicasOK(n) {
		t.Errorf("kubectl get hsdsautoscalers -A: %s/%s REPLICAS %d:\n%s", ns, name, n, out)
	}
}

// noForbidden fails the test for each line of serve's log that says "forbidden".
func noForbidden(t *testing.T, s *serveProc, user string) {
	t.Helper()
	log, err := os.ReadFile(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			t.Errorf("serve, as %s: %s", user, line)
		}
	}
}

// applyKustomization applies a kustomization for real, as `kubectl apply -k` does, and deletes
// what it applied at the end of the test, except the CRD: deleting it would delete every
// HSDSAutoscaler object of the cluster, and later tests share it (installCRD).
func applyKustomization(ctx context.Context, t *testing.T, rel string) []unstructured.Unstructured {
	t.Helper()
	objs := decodeObjects(t, render(ctx, t, rel))
	var rest []unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			rest = append(rest, o)
		}
	}
	removeAPIServicesAtCleanup(t) // cluster-wide, and they would point at nothing
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		// Waits for the Namespace too: a later test applying deploy/base's needs it gone.
		if _, _, err := cluster.KubectlInput(ctx, toYAML(t, rest), "delete", "--ignore-not-found", "--timeout=80s", "-f", "-"); err != nil {
			t.Errorf("deleting %s: %v", rel, err)
		}
	})
	if _, err := cluster.Kubectl(ctx, "apply", "-k", filepath.Join(repoRoot(t), rel)); err != nil {
		t.Fatal(err)
	}
	return objs
}

// createTLSSecret creates the kubernetes.io/tls Secret deploy/base's Deployment mounts and
// leaves to the user (docs/operations.md): a self-signed certificate for <service>.<ns>.svc.
func createTLSSecret(ctx context.Context, t *testing.T, ns, name, service string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dnsName := service + "." + ns + ".svc"
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: dnsName}, DNSNames: []string{dnsName},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeTLS, Data: map[string][]byte{
		corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}}
	if _, err := cluster.Client.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestKustomizeScalesTwoAutoscalers: `kubectl apply -k deploy/examples/hsds-autoscalers`
// (deploy/base, serve with no policy file watching hsds and hsds-b, a Role in each resizing the
// Deployment hsds there only) brings up a working autoscaler for two HSDSAutoscaler objects in
// two namespaces. As in TestHelmChartScalesTarget, serve runs on the host from the applied
// Deployment's container (arguments, the TLS Secret the user creates, environment) as the applied
// ServiceAccount with the applied RBAC alone; the applied APIServices, routed to it, turn
// Available; then checkTwoAutoscalers. The example's own objects (objects/autoscalers.yaml) are
// dry-run by scenario 1; here the objects have the scenarios' short windows.
func TestKustomizeScalesTwoAutoscalers(t *testing.T) {
	ctx := testContext(t, 5*time.Minute)
	a := newWorkload(ctx, t, baseHSDSNamespace, 1, nil) // the namespaces first: the example's Roles go there
	b := newWorkload(ctx, t, secondHSDSNS, 1, nil)
	objs := applyKustomization(ctx, t, objectsExample)
	if !slices.ContainsFunc(objs, func(o unstructured.Unstructured) bool {
		return o.GetKind() == "Role" && o.GetNamespace() == secondHSDSNS
	}) {
		t.Fatalf("%s renders no Role in %s", objectsExample, secondHSDSNS)
	}
	createTLSSecret(ctx, t, rbacNamespace, "hsds-autoscaler-tls", "hsds-autoscaler")
	if _, err := cluster.Kubectl(ctx, "wait", "--for=condition=Established", "--timeout=30s", "crd/hsdsautoscalers.hsds-autoscaler.io"); err != nil {
		t.Fatal(err)
	}

	d, err := cluster.Client.AppsV1().Deployments(rbacNamespace).Get(ctx, "hsds-autoscaler", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	args := hostArgs(ctx, t, d, "hsds-autoscaler-host")
	for _, want := range []string{"--policy=", "--hsds-namespaces=" + baseHSDSNamespace + "," + secondHSDSNS} {
		if !slices.Contains(args, want) {
			t.Fatalf("the applied Deployment runs serve %v, want %s among the arguments", args, want)
		}
	}
	kubeconfig, user := impersonatingKubeconfig(t, rbacNamespace, d.Spec.Template.Spec.ServiceAccountName)
	la := a.startLoad(t, lightRate)
	b.startLoad(t, lightRate)
	s := startServe(t, "serve", append(args, append(impersonationArgs(kubeconfig), "--leader-elect-identity=kustomize-test")...)...)
	waitLeader(ctx, t, rbacNamespace, "kustomize-test", 30*time.Second) // POD_NAMESPACE: the Lease in base's namespace
	routeToHost(ctx, t, rbacNamespace, "hsds-autoscaler", s.securePort)
	waitAPIServicesAvailable(ctx, t)
	checkTwoAutoscalers(ctx, t, s, user, a, b, la)
}
