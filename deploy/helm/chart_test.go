package helm

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// TestDefaultsRenderDeployBase: with its default values the chart renders deploy/base's
// objects (kind, namespace, name, labels, spec), up to Helm's labels, the policy's checksum
// annotation, the generator's name hash and the policy file's comments and defaults.
func TestDefaultsRenderDeployBase(t *testing.T) {
	diffObjects(t, kustomize(t, "deploy/base"), render(t, Release))
}

// TestChartVersionIsVERSION: the chart's version and appVersion (the default image tag) are the
// release version in VERSION.
func TestChartVersionIsVERSION(t *testing.T) {
	root := repoRoot(t)
	version, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(ChartDir(root), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct{ Version, AppVersion string }
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(version))
	if chart.Version != want || chart.AppVersion != want {
		t.Errorf("Chart.yaml version %q, appVersion %q; VERSION %q", chart.Version, chart.AppVersion, want)
	}
}

// TestCertManagerRendersTheComponent: tls.mode=certManager renders deploy/base with the
// cert-manager component (deploy/examples/cert-manager).
// The chart also labels the Issuer and Certificate part-of, which the kustomize component
// cannot (deploy/base's labels reach only its own resources).
func TestCertManagerRendersTheComponent(t *testing.T) {
	got := render(t, Release, "--set", "tls.mode=certManager")
	for _, o := range got {
		if o.GroupVersionKind().Group == "cert-manager.io" {
			labels := o.GetLabels()
			if labels["app.kubernetes.io/part-of"] != "hsds-autoscaler" {
				t.Errorf("%s: labels %v lack app.kubernetes.io/part-of", key(o), labels)
			}
			delete(labels, "app.kubernetes.io/part-of")
			o.SetLabels(labels)
		}
	}
	diffObjects(t, kustomize(t, "deploy/examples/cert-manager"), got)
}

// TestStuckPodRemedyRendersTheComponent: stuckPodRemedy.enabled=true renders deploy/base with
// the stuck-pod-remedy component (deploy/examples/stuck-pod-remedy): --delete-stuck-pods and the
// Role to delete pods in the target's namespace.
func TestStuckPodRemedyRendersTheComponent(t *testing.T) {
	diffObjects(t, kustomize(t, "deploy/examples/stuck-pod-remedy"), render(t, Release, "--set", "stuckPodRemedy.enabled=true"))
}

// TestRBACFollowsNamespacesAndTarget: one Role per watched namespace, the scale grant only in the
// target's, for the target's name and kind (also when the target comes from policy.file); with
// no namespaces, reading is cluster-wide and the scale grant still names the target only.
func TestRBACFollowsNamespacesAndTarget(t *testing.T) {
	t.Run("two namespaces", func(t *testing.T) {
		objs := render(t, Release, "--set", "hsds.namespaces={data,store},policy.target.namespace=store,policy.target.kind=StatefulSet,policy.target.name=hsds-dn")
		roles := 0
		for _, o := range objs {
			if o.GetKind() == "ClusterRole" && o.GetName() == Release {
				t.Errorf("ClusterRole %s rendered with hsds.namespaces set", Release)
			}
			if o.GetKind() == "Role" && o.GetName() == Release {
				roles++
				var want []any
				if o.GetNamespace() == "store" {
					want = rule("apps", "statefulsets/scale", "hsds-dn")
				}
				if diff := cmp.Diff(want, scaleRule(t, []unstructured.Unstructured{o}, "Role", o.GetNamespace(), Release)); diff != "" {
					t.Errorf("scale rules in %s (-want +got):\n%s", o.GetNamespace(), diff)
				}
			}
		}
		if roles != 2 {
			t.Errorf("%d Roles %s, want one per namespace", roles, Release)
		}
	})
	t.Run("every namespace", func(t *testing.T) {
		objs := render(t, Release, "--set", "hsds.namespaces=null")
		if got := scaleRule(t, objs, "ClusterRole", "", Release); len(got) != 0 {
			t.Errorf("ClusterRole grants scale: %v", got)
		}
		if diff := cmp.Diff(rule("apps", "deployments/scale", "hsds"), scaleRule(t, objs, "Role", "hsds", Release+"-scale")); diff != "" {
			t.Errorf("scale Role (-want +got):\n%s", diff)
		}
	})
	t.Run("target from policy.file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "p.yaml")
		doc := "apiVersion: hsds-autoscaler.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: x}\nspec:\n  target: {apiVersion: apps/v1, kind: Deployment, namespace: hsds, name: store}\n"
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		objs := render(t, Release, "--set-file", "policy.file="+file)
		if diff := cmp.Diff(rule("apps", "deployments/scale", "store"), scaleRule(t, objs, "Role", "hsds", Release)); diff != "" {
			t.Errorf("scale rule (-want +got):\n%s", diff)
		}
	})
}

// TestPolicyFileVerbatim: policy.file puts a whole ScalingPolicy file into the ConfigMap byte
// for byte (deploy/base's ConfigMap holds deploy/policy/hsds-policy.yaml), and a changed policy
// changes the pod template's checksum, so the pods roll.
func TestPolicyFileVerbatim(t *testing.T) {
	file := filepath.Join(repoRoot(t), "deploy", "policy", "hsds-policy.yaml")
	got := render(t, Release, "--set-file", "policy.file="+file)
	var want string
	for _, o := range kustomize(t, "deploy/base") {
		if o.GetKind() == "ConfigMap" {
			want, _, _ = unstructured.NestedString(o.Object, "data", "policy.yaml")
		}
	}
	cm := find(t, got, "ConfigMap", policyConfigMap)
	if text, _, _ := unstructured.NestedString(cm.Object, "data", "policy.yaml"); text != want || want == "" {
		t.Errorf("policy.yaml (-want +got):\n%s", cmp.Diff(want, text))
	}
	checksum := func(objs []unstructured.Unstructured) string {
		d := find(t, objs, "Deployment", Release)
		sum, _, _ := unstructured.NestedString(d.Object, "spec", "template", "metadata", "annotations", checksumAnnotation)
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(sum) {
			t.Errorf("pod template annotation %s = %q, want a sha256", checksumAnnotation, sum)
		}
		return sum
	}
	if a, b := checksum(got), checksum(render(t, Release, "--set", "policy.policy.maxReplicas=20")); a == b {
		t.Errorf("two policies, one checksum %s", a)
	}
}

// TestSelfSignedCertificate: tls.mode=selfSigned makes a Secret whose certificate is valid for
// the name the aggregator verifies (<service>.<namespace>.svc) and signed by the CA that both
// APIServices carry; the Deployment mounts that Secret.
func TestSelfSignedCertificate(t *testing.T) {
	const ns, release = "hsds-system", "scaler"
	const name = release + "-hsds-autoscaler"
	objs := render(t, release, "--set", "tls.mode=selfSigned", "--set", "namespace.name="+ns)
	secret := find(t, objs, "Secret", name+"-tls")
	if typ, _, _ := unstructured.NestedString(secret.Object, "type"); typ != "kubernetes.io/tls" || secret.GetNamespace() != ns {
		t.Errorf("Secret type %q in %q, want kubernetes.io/tls in %s", typ, secret.GetNamespace(), ns)
	}
	data, _, _ := unstructured.NestedStringMap(secret.Object, "data")
	pemOf := func(k string) []byte {
		b, err := base64.StdEncoding.DecodeString(data[k])
		if err != nil || len(b) == 0 {
			t.Fatalf("Secret data %s: %q, %v", k, data[k], err)
		}
		return b
	}
	if _, err := tls.X509KeyPair(pemOf("tls.crt"), pemOf("tls.key")); err != nil {
		t.Errorf("tls.crt and tls.key: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemOf("ca.crt")) {
		t.Fatal("ca.crt holds no certificate")
	}
	block, _ := pem.Decode(pemOf("tls.crt"))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	dnsName := name + "." + ns + ".svc"
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: dnsName, Roots: roots}); err != nil {
		t.Errorf("serving certificate for %s: %v", dnsName, err)
	}
	for _, v := range []string{"v1beta1", "v1beta2"} {
		a := find(t, objs, "APIService", v+".custom.metrics.k8s.io")
		if ca, _, _ := unstructured.NestedString(a.Object, "spec", "caBundle"); ca != data["ca.crt"] {
			t.Errorf("APIService %s caBundle is not the Secret's ca.crt", v)
		}
		if skip, _, _ := unstructured.NestedBool(a.Object, "spec", "insecureSkipTLSVerify"); skip {
			t.Errorf("APIService %s skips TLS verification", v)
		}
		svcName, _, _ := unstructured.NestedString(a.Object, "spec", "service", "name")
		svcNS, _, _ := unstructured.NestedString(a.Object, "spec", "service", "namespace")
		if svcName != name || svcNS != ns {
			t.Errorf("APIService %s points to %s/%s, want %s/%s", v, svcNS, svcName, ns, name)
		}
	}
	if got := volumeSecret(t, objs, name); got != name+"-tls" {
		t.Errorf("Deployment mounts Secret %q, want %s-tls", got, name)
	}
}

func volumeSecret(t *testing.T, objs []unstructured.Unstructured, deployment string) string {
	t.Helper()
	d := find(t, objs, "Deployment", deployment)
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	for _, v := range volumes {
		if name, ok, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName"); ok {
			return name
		}
	}
	return ""
}

// container is the Deployment's one container.
func container(t *testing.T, objs []unstructured.Unstructured, deployment string) map[string]any {
	t.Helper()
	d := find(t, objs, "Deployment", deployment)
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	return cs[0].(map[string]any)
}

// TestValues renders non-default values and checks the objects they change.
func TestValues(t *testing.T) {
	for _, c := range []struct {
		name  string
		flags []string
		check func(t *testing.T, objs []unstructured.Unstructured)
	}{
		{"existing namespace", []string{"--namespace", "ops", "--set", "namespace.name=,namespace.create=false"}, func(t *testing.T, objs []unstructured.Unstructured) {
			for _, o := range objs {
				switch {
				case o.GetKind() == "Namespace":
					t.Errorf("Namespace %s rendered with namespace.create=false", o.GetName())
				case o.GetKind() == "RoleBinding" && o.GetName() == Release+"-auth-reader":
					if o.GetNamespace() != "kube-system" {
						t.Errorf("%s in %q, want kube-system", key(o), o.GetNamespace())
					}
				case (o.GetKind() == "Role" || o.GetKind() == "RoleBinding") && o.GetName() == Release:
					if o.GetNamespace() != "hsds" { // the HSDS namespace's grants stay there
						t.Errorf("%s in %q, want hsds", key(o), o.GetNamespace())
					}
				case o.GetNamespace() != "" && o.GetNamespace() != "ops":
					t.Errorf("%s not in the release namespace ops", key(o))
				}
				subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
				for _, s := range subjects {
					if s := s.(map[string]any); s["name"] == Release && s["namespace"] != "ops" {
						t.Errorf("%s: subject %v, want namespace ops", key(o), s)
					}
				}
			}
			a := find(t, objs, "APIService", "v1beta2.custom.metrics.k8s.io")
			if ns, _, _ := unstructured.NestedString(a.Object, "spec", "service", "namespace"); ns != "ops" {
				t.Errorf("APIService points to namespace %q, want ops", ns)
			}
		}},
		{"image, replicas, resources", []string{"--set", "image.repository=registry.example/hsds-autoscaler,image.tag=0.2.0-rc.1,image.pullPolicy=Always",
			"--set", "replicas=3,resources.requests.cpu=200m,resources.limits.memory=1Gi"}, func(t *testing.T, objs []unstructured.Unstructured) {
			c := container(t, objs, Release)
			if c["image"] != "registry.example/hsds-autoscaler:0.2.0-rc.1" || c["imagePullPolicy"] != "Always" {
				t.Errorf("image %v, pull policy %v", c["image"], c["imagePullPolicy"])
			}
			want := map[string]any{"requests": map[string]any{"cpu": "200m", "memory": "64Mi"}, "limits": map[string]any{"memory": "1Gi"}}
			if diff := cmp.Diff(want, c["resources"]); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
			d := find(t, objs, "Deployment", Release)
			if n, _, _ := unstructured.NestedFloat64(d.Object, "spec", "replicas"); n != 3 {
				t.Errorf("replicas %v, want 3", n)
			}
		}},
		{"digest wins over tag", []string{"--set", "image.tag=9.9.9,image.digest=sha256:" + strings.Repeat("ab", 32)}, func(t *testing.T, objs []unstructured.Unstructured) {
			if got := container(t, objs, Release)["image"]; got != "ghcr.io/hsds-autoscaler/hsds-autoscaler@sha256:"+strings.Repeat("ab", 32) {
				t.Errorf("image %v", got)
			}
		}},
		{"HSDS pods, policy, extra args", []string{"--set", "hsds.selector=app=hsds\\,tier=data,hsds.namespaces={data,hsds}",
			"--set", "policy.target.namespace=hsds,policy.target.name=store,policy.policy.maxReplicas=20,policy.guards.settle=70s",
			"--set", "extraArgs={--scrape-interval=2s,-v=2}"}, func(t *testing.T, objs []unstructured.Unstructured) {
			args, _, _ := unstructured.NestedStringSlice(container(t, objs, Release), "args")
			want := []string{"--hsds-selector=app=hsds,tier=data", "--hsds-namespaces=data,hsds", "--learned-configmap=hsds-autoscaler-learned", "--scrape-interval=2s", "-v=2"}
			if diff := cmp.Diff(want, args[len(args)-len(want):]); diff != "" {
				t.Errorf("last args (-want +got):\n%s", diff)
			}
			cm := find(t, objs, "ConfigMap", policyConfigMap)
			text, _, _ := unstructured.NestedString(cm.Object, "data", "policy.yaml")
			pf, err := scaler.DecodePolicyFile([]byte(text), scaler.TargetRequired)
			if err != nil {
				t.Fatal(err)
			}
			def := scaler.DefaultPolicyFile()
			if pf.Spec.Target.Namespace != "hsds" || pf.Spec.Target.Name != "store" || pf.Spec.Policy.MaxReplicas != 20 ||
				pf.Spec.Guards.Settle.Duration != 70*time.Second || pf.Spec.Policy.MinReplicas != def.Spec.Policy.MinReplicas {
				t.Errorf("policy: target %v, maxReplicas %d, settle %v, minReplicas %d (default %d)", pf.Spec.Target,
					pf.Spec.Policy.MaxReplicas, pf.Spec.Guards.Settle, pf.Spec.Policy.MinReplicas, def.Spec.Policy.MinReplicas)
			}
		}},
		{"no PDB, own CA bundle", []string{"--set", "podDisruptionBudget.enabled=false", "--set", "tls.caBundle=-----BEGIN CERTIFICATE-----x"}, func(t *testing.T, objs []unstructured.Unstructured) {
			if slices.ContainsFunc(objs, func(o unstructured.Unstructured) bool { return o.GetKind() == "PodDisruptionBudget" }) {
				t.Error("PodDisruptionBudget rendered with podDisruptionBudget.enabled=false")
			}
			a := find(t, objs, "APIService", "v1beta1.custom.metrics.k8s.io")
			ca, _, _ := unstructured.NestedString(a.Object, "spec", "caBundle")
			skip, _, _ := unstructured.NestedBool(a.Object, "spec", "insecureSkipTLSVerify")
			if ca != base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----x")) || skip {
				t.Errorf("APIService caBundle %q, insecureSkipTLSVerify %v; want the bundle and verification", ca, skip)
			}
		}},
		{"cert-manager ClusterIssuer", []string{"--set", "tls.mode=certManager,tls.certManager.issuerRef.kind=ClusterIssuer,tls.certManager.issuerRef.name=corp-ca"}, func(t *testing.T, objs []unstructured.Unstructured) {
			if slices.ContainsFunc(objs, func(o unstructured.Unstructured) bool { return o.GetKind() == "Issuer" }) {
				t.Error("Issuer rendered although tls.certManager.issuerRef names one")
			}
			c := find(t, objs, "Certificate", Release+"-tls")
			if ref, _, _ := unstructured.NestedStringMap(c.Object, "spec", "issuerRef"); ref["kind"] != "ClusterIssuer" || ref["name"] != "corp-ca" {
				t.Errorf("Certificate issuerRef %v", ref)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) { c.check(t, render(t, Release, c.flags...)) })
	}
}

// TestBadValuesRefused: values.schema.json and the templates refuse values that would render
// something broken or be ignored.
func TestBadValuesRefused(t *testing.T) {
	for _, c := range []struct {
		set, want string
	}{
		{"tls.mode=insecure", "/tls/mode"},
		{"replica=3", "additional properties 'replica' not allowed"},
		{"image.pullPolicy=Sometimes", "/image/pullPolicy"},
		{"replicas=-1", "/replicas"},
		{"namespace.name=Hsds_System", "/namespace/name"},
		{"podDisruptionBudget.minAvailable=half", "/podDisruptionBudget/minAvailable"},
		{"tls.certManager.duration=90d", "/tls/certManager/duration"},
		{"extraArgs={verbose}", "/extraArgs/0"},
		{"policy.target.kind=", "/policy/target/kind"},
		{"hsds.namespaces={data}", `policy.target.namespace "hsds" is not among hsds.namespaces`},
		{"stuckPodRemedy.enabled=yes", "/stuckPodRemedy/enabled"},
		{"hsdsAutoscalers.targets[0].namespace=data,hsdsAutoscalers.targets[0].name=hsds", `namespace "data" is not among hsds.namespaces`},
		{"hsdsAutoscalers.targets[0].namespace=hsds", "/hsdsAutoscalers/targets/0"},
		{"hsdsAutoscalers.targets[0].namespace=hsds,hsdsAutoscalers.targets[0].name=x,hsdsAutoscalers.targets[0].kind=ReplicaSet", "/hsdsAutoscalers/targets/0/kind"},
		{"policy.enabled=no", "/policy/enabled"},
	} {
		t.Run(c.set, func(t *testing.T) {
			_, err := template(t, Release, "--set", c.set)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("helm template --set %s: %v; want an error naming %q", c.set, err, c.want)
			}
		})
	}
}

// TestLintStrict: helm lint --strict passes for each TLS mode.
func TestLintStrict(t *testing.T) {
	for _, mode := range []string{"secret", "selfSigned", "certManager"} {
		t.Run(mode, func(t *testing.T) {
			out, err := Run(testContext(t), helmBin(t), t.TempDir(), "lint", "--strict", ChartDir(repoRoot(t)), "--set", "tls.mode="+mode)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "0 chart(s) failed") {
				t.Errorf("helm lint:\n%s", out)
			}
		})
	}
}
