//go:build e2e

package e2e

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestHarnessRestartAPIServer: kube-apiserver comes back on the same URL with the same etcd data,
// and existing clients keep working (later scenarios restart it under the scaler).
func TestHarnessRestartAPIServer(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	const ns = "e2e-restart"
	createNamespace(ctx, t, ns)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor"}, Data: map[string]string{"k": "v"}}
	if _, err := cluster.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	url := cluster.APIServerURL
	if err := cluster.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	if cluster.APIServerURL != url {
		t.Errorf("API server URL changed from %s to %s", url, cluster.APIServerURL)
	}
	got, err := cluster.Client.CoreV1().ConfigMaps(ns).Get(ctx, "survivor", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading after the restart with the old client: %v", err)
	}
	if got.Data["k"] != "v" {
		t.Errorf("ConfigMap data after restart = %v, want k=v", got.Data)
	}
	if out, err := cluster.Kubectl(ctx, "get", "configmap", "-n", ns, "survivor", "-o", "jsonpath={.data.k}"); err != nil || out != "v" {
		t.Errorf("kubectl after restart = %q, %v; want v", out, err)
	}
}
