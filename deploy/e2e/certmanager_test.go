//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// stubCRD is a cert-manager CRD that accepts any object: enough for a server dry-run of
// metadata, not a check of cert-manager's schema.
const stubCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[2]s.cert-manager.io
spec:
  group: cert-manager.io
  scope: Namespaced
  names: {kind: %[1]s, listKind: %[1]sList, plural: %[2]s, singular: %[3]s}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// installCertManagerStubs applies the stub CRDs (idempotent) and waits until they are served.
func installCertManagerStubs(ctx context.Context, t *testing.T) {
	t.Helper()
	var b strings.Builder
	for _, k := range []string{"Issuer", "Certificate"} {
		b.WriteString("---\n")
		fmt.Fprintf(&b, stubCRD, k, strings.ToLower(k)+"s", strings.ToLower(k))
	}
	if _, _, err := cluster.KubectlInput(ctx, []byte(b.String()), "apply", "-f", "-"); err != nil {
		t.Fatalf("installing cert-manager stub CRDs: %v", err)
	}
	if _, err := cluster.Kubectl(ctx, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/issuers.cert-manager.io", "crd/certificates.cert-manager.io"); err != nil {
		t.Fatal(err)
	}
}

func findObject(objs []unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for i := range objs {
		if objs[i].GetKind() == kind && objs[i].GetName() == name {
			return &objs[i]
		}
	}
	return nil
}

// TestScenario1CertManagerWiring checks what the stub CRDs cannot: the Certificate writes the
// Secret the Deployment mounts, names the Service's DNS name, and both APIServices ask cainjector
// for that Certificate's CA and verify TLS.
func TestScenario1CertManagerWiring(t *testing.T) {
	ctx := testContext(t, time.Minute)
	objs := decodeObjects(t, render(ctx, t, "deploy/examples/cert-manager"))
	cert := findObject(objs, "Certificate", "hsds-autoscaler-tls")
	deploy := findObject(objs, "Deployment", "hsds-autoscaler")
	svc := findObject(objs, "Service", "hsds-autoscaler")
	if cert == nil || deploy == nil || svc == nil {
		t.Fatalf("rendered objects lack the Certificate, Deployment or Service")
	}
	secret, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	volumes, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "volumes")
	var mounted []string
	for _, v := range volumes {
		if name, ok, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName"); ok {
			mounted = append(mounted, name)
		}
	}
	if !slices.Contains(mounted, secret) {
		t.Errorf("Certificate writes Secret %q; the Deployment mounts %v", secret, mounted)
	}
	dnsNames, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	if want := svc.GetName() + "." + svc.GetNamespace() + ".svc"; !slices.Contains(dnsNames, want) {
		t.Errorf("Certificate dnsNames %v lack %s (the name the aggregator verifies)", dnsNames, want)
	}
	issuer, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
	if findObject(objs, "Issuer", issuer) == nil {
		t.Errorf("Certificate's issuer %q is not rendered", issuer)
	}
	want := cert.GetNamespace() + "/" + cert.GetName()
	apiServices := 0
	for _, o := range objs {
		if o.GetKind() != "APIService" {
			continue
		}
		apiServices++
		if got := o.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != want {
			t.Errorf("APIService %s inject-ca-from = %q, want %q", o.GetName(), got, want)
		}
		if skip, _, _ := unstructured.NestedBool(o.Object, "spec", "insecureSkipTLSVerify"); skip {
			t.Errorf("APIService %s still skips TLS verification", o.GetName())
		}
	}
	if apiServices != 2 {
		t.Errorf("%d APIServices rendered, want 2 (v1beta1, v1beta2)", apiServices)
	}
}
