//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/helm"
)

// The chart's namespace in TestHelmChartScalesTarget (its value namespace.name); the release
// itself is recorded in default, as docs/operations.md installs it.
const helmNamespace = "e2e-helm-autoscaler"

// lookHelm is the pinned helm (make helm); missing, it fails the test on CI and skips it elsewhere.
func lookHelm(t *testing.T) string {
	t.Helper()
	p, err := helm.Binary(repoRoot(t))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; $CI is set", err)
		}
		t.Skip(err)
	}
	return p
}

// helmTemplate renders the chart as release hsds-autoscaler with the given flags.
func helmTemplate(ctx context.Context, t *testing.T, flags ...string) []byte {
	t.Helper()
	out, err := helm.Template(ctx, lookHelm(t), t.TempDir(), helm.Release, helm.ChartDir(repoRoot(t)), flags...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// helmCluster runs the pinned helm against the test cluster, with the release recorded in
// namespace default (as docs/operations.md installs it).
func helmCluster(ctx context.Context, t *testing.T, args ...string) error {
	t.Helper()
	args = append(args, "--kubeconfig", cluster.Kubeconfig, "--namespace", "default")
	if out, err := helm.Run(ctx, lookHelm(t), t.TempDir(), args...); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

// helmInstall installs the chart as release hsds-autoscaler with values into the test cluster
// and uninstalls it at the end of the test.
func helmInstall(ctx context.Context, t *testing.T, values map[string]any) {
	t.Helper()
	data, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	removeAPIServicesAtCleanup(t) // runs after the uninstall, in case it failed
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := helmCluster(ctx, t, "uninstall", helm.Release, "--ignore-not-found"); err != nil {
			t.Error(err)
		}
	})
	if err := helmCluster(ctx, t, "install", helm.Release, helm.ChartDir(repoRoot(t)), "--values", file, "--timeout", "2m"); err != nil {
		t.Fatal(err)
	}
}

// hostArgs turns the chart's Deployment into serve on this host, as a kubelet would start its
// one container in a pod: each ConfigMap or Secret volume the container mounts is written to a
// directory and its mount path in the arguments points there; the environment's fieldRefs get
// the pod's namespace and name (t.Setenv: serve inherits them). The two flags that bind pod
// ports are dropped: startServe binds free loopback ports. It returns the arguments after
// "serve".
func hostArgs(ctx context.Context, t *testing.T, d *appsv1.Deployment, pod string) []string {
	t.Helper()
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 || len(spec.Containers[0].Args) == 0 || spec.Containers[0].Args[0] != "serve" {
		t.Fatalf("the chart's Deployment runs %v, want one container running serve", spec.Containers)
	}
	c := spec.Containers[0]
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	dir := t.TempDir()
	var mounts []string // mount path, host path pairs
	for _, m := range c.VolumeMounts {
		files := volumeFiles(ctx, t, d.Namespace, volumes[m.Name])
		if files == nil {
			continue // emptyDir: nothing to provide
		}
		host := filepath.Join(dir, m.Name)
		if err := os.MkdirAll(host, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(host, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		mounts = append(mounts, m.MountPath, filepath.Join(host, m.SubPath))
	}
	paths := strings.NewReplacer(mounts...)
	var args []string
	for _, a := range c.Args[1:] {
		if strings.HasPrefix(a, "--secure-port=") || strings.HasPrefix(a, "--metrics-bind-address=") {
			continue
		}
		args = append(args, paths.Replace(a))
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			t.Setenv(e.Name, e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			t.Setenv(e.Name, d.Namespace)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			t.Setenv(e.Name, pod)
		default:
			t.Fatalf("env %s: source %v not played here", e.Name, e.ValueFrom)
		}
	}
	return args
}

// volumeFiles reads the files a ConfigMap or Secret volume holds; nil for an emptyDir.
func volumeFiles(ctx context.Context, t *testing.T, ns string, v corev1.Volume) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	switch {
	case v.ConfigMap != nil && len(v.ConfigMap.Items) == 0:
		cm, err := cluster.Client.CoreV1().ConfigMaps(ns).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, s := range cm.Data {
			files[k] = []byte(s)
		}
	case v.Secret != nil && len(v.Secret.Items) == 0:
		s, err := cluster.Client.CoreV1().Secrets(ns).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		files = s.Data
	case v.EmptyDir != nil:
		return nil
	default:
		t.Fatalf("volume %s: kind not played here: %+v", v.Name, v.VolumeSource)
	}
	return files
}

// routeToHost stands in for the pod network this control plane lacks: the chart's Service
// becomes an ExternalName Service for localhost, which the aggregator dials, and the
// APIServices' port becomes the host process's. The APIServices' TLS settings stay the chart's.
func routeToHost(ctx context.Context, t *testing.T, ns, service string, port int) {
	t.Helper()
	if _, err := cluster.Kubectl(ctx, "patch", "service", "-n", ns, service, "--type=merge",
		"-p", `{"spec":{"type":"ExternalName","externalName":"localhost"}}`); err != nil {
		t.Fatal(err)
	}
	for _, v := range customMetricsVersions {
		if _, err := cluster.Kubectl(ctx, "patch", "apiservice", v+".custom.metrics.k8s.io", "--type=merge",
			"-p", fmt.Sprintf(`{"spec":{"service":{"port":%d}}}`, port)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHelmChartScalesTarget installs the chart with helm into the real API server (TLS made by
// the chart, the test's policy, the workload's namespace as the only HSDS namespace) and runs
// it as far as a cluster without kubelet allows: the pods its ReplicaSet creates pass the
// restricted Pod Security admission of its Namespace; serve runs on the host from the chart's
// own container (arguments, mounted policy and certificate, environment) as the chart's
// ServiceAccount with the chart's RBAC alone; the chart's APIServices, routed to that process,
// turn Available with TLS verified against the chart's CA; then, as in
// TestDeployRBACSufficesForServe, hsds_503_rate is served through the aggregator and an
// overload scales the target up. Then helm upgrade switches to HSDSAutoscaler objects only, in
// the workload's namespace and a second one (policy.enabled=false, hsds.namespaces,
// hsdsAutoscalers.targets), and serve, restarted from the upgraded Deployment as the same
// ServiceAccount, scales the targets of two objects, one in each (checkTwoAutoscalers).
func TestHelmChartScalesTarget(t *testing.T) {
	ctx := testContext(t, 7*time.Minute)
	const ns, nsB = "e2e-helm", "e2e-helm-b"
	w := newWorkload(ctx, t, ns, 1, nil)
	policy, err := os.ReadFile(policyFile(t, ns, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	helmInstall(ctx, t, map[string]any{
		"namespace": map[string]any{"name": helmNamespace},
		"tls":       map[string]any{"mode": "selfSigned"},
		"hsds":      map[string]any{"namespaces": []string{ns}},
		"policy":    map[string]any{"file": string(policy)},
		"extraArgs": []string{"--rate-window=10s", "--short-rate-window=5s"},
	})

	d, err := cluster.Client.AppsV1().Deployments(helmNamespace).Get(ctx, helm.Release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pods []corev1.Pod
	eventually(ctx, t, 60*time.Second, "the chart's pods (admitted by restricted Pod Security)", func(ctx context.Context) (bool, error) {
		list, err := cluster.Client.CoreV1().Pods(helmNamespace).List(ctx, metav1.ListOptions{
			LabelSelector: labels.SelectorFromSet(d.Spec.Selector.MatchLabels).String()})
		if err != nil {
			return false, nil
		}
		pods = list.Items
		return len(pods) == int(*d.Spec.Replicas), nil
	})

	args := hostArgs(ctx, t, d, pods[0].Name)
	kubeconfig, user := impersonatingKubeconfig(t, helmNamespace, d.Spec.Template.Spec.ServiceAccountName)
	l := w.startLoad(t, lightRate)
	s := startServe(t, "serve", append(args, append(impersonationArgs(kubeconfig), "--leader-elect-identity=helm-test")...)...)
	waitLeader(ctx, t, helmNamespace, "helm-test", 30*time.Second) // POD_NAMESPACE: the Lease in the chart's namespace
	routeToHost(ctx, t, helmNamespace, helm.Release, s.securePort)
	waitAPIServicesAvailable(ctx, t)
	for _, v := range customMetricsVersions { // Available, and not for skipping verification
		out, err := cluster.Kubectl(ctx, "get", "apiservice", v+".custom.metrics.k8s.io", "-o", "jsonpath={.spec.insecureSkipTLSVerify},{.spec.caBundle}")
		if skip, ca, _ := strings.Cut(out, ","); err != nil || skip == "true" || ca == "" {
			t.Errorf("APIService %s: insecureSkipTLSVerify %q, caBundle %d bytes, %v; want verification with the chart's CA", v, skip, len(ca), err)
		}
	}
	checkServeScalesUp(ctx, t, w, l, s, user)

	// Upgraded to HSDSAutoscaler objects only, in the workload's namespace and a second one.
	s.stop()
	if _, err := cluster.Kubectl(ctx, "scale", "deployment", "-n", ns, "hsds", "--replicas=1"); err != nil {
		t.Fatal(err)
	}
	w.waitRunning(ctx, t, 1)
	wb := newWorkload(ctx, t, nsB, 1, nil) // the namespace first: the chart's Role goes there
	wb.startLoad(t, lightRate)
	d = helmUpgradeToObjects(ctx, t, ns, nsB)
	args = hostArgs(ctx, t, d, pods[0].Name)
	for _, want := range []string{"--policy=", "--hsds-namespaces=" + ns + "," + nsB} {
		if !slices.Contains(args, want) {
			t.Fatalf("the upgraded Deployment runs serve %v, want %s among the arguments", args, want)
		}
	}
	s2 := startServe(t, "serve-2", append(args, append(impersonationArgs(kubeconfig), "--leader-elect-identity=helm-test-2")...)...)
	waitLeader(ctx, t, helmNamespace, "helm-test-2", 30*time.Second)
	routeToHost(ctx, t, helmNamespace, helm.Release, s2.securePort)
	waitAPIServicesAvailable(ctx, t)
	checkTwoAutoscalers(ctx, t, s2, user, w, wb, l)
}

// helmUpgradeToObjects upgrades the release to HSDSAutoscaler objects only in namespaces ns and
// nsB (policy.enabled=false, hsds.namespaces, the Deployment hsds of each in
// hsdsAutoscalers.targets, so the Role of each grants its scale), checks that the upgrade kept
// the certificate the install made, and returns the upgraded Deployment. (The upgrade also takes
// the APIServices' port back from routeToHost: helm applies server-side, hence --force-conflicts.)
func helmUpgradeToObjects(ctx context.Context, t *testing.T, ns, nsB string) *appsv1.Deployment {
	t.Helper()
	before := secretData(ctx, t, helmNamespace, helm.Release+"-tls")
	if err := helmCluster(ctx, t, "upgrade", helm.Release, helm.ChartDir(repoRoot(t)), "--reuse-values", "--force-conflicts",
		"--set", "replicas=3,policy.enabled=false", "--set", "hsds.namespaces={"+ns+","+nsB+"}",
		"--set", "hsdsAutoscalers.targets[0].namespace="+ns+",hsdsAutoscalers.targets[0].name=hsds",
		"--set", "hsdsAutoscalers.targets[1].namespace="+nsB+",hsdsAutoscalers.targets[1].name=hsds"); err != nil {
		t.Fatal(err)
	}
	if after := secretData(ctx, t, helmNamespace, helm.Release+"-tls"); !maps.EqualFunc(before, after, bytes.Equal) {
		t.Error("helm upgrade replaced the self-signed certificate")
	}
	d, err := cluster.Client.AppsV1().Deployments(helmNamespace).Get(ctx, helm.Release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func secretData(ctx context.Context, t *testing.T, ns, name string) map[string][]byte {
	t.Helper()
	s, err := cluster.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Data["ca.crt"]) == 0 {
		t.Fatalf("Secret %s/%s has no ca.crt", ns, name)
	}
	return s.Data
}
