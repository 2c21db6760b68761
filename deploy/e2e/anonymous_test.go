//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestMetricsAPIRefusesAnonymous: nobody without credentials reads custom.metrics.k8s.io. Through
// the aggregator, kube-apiserver refuses a request without credentials and one impersonating
// system:anonymous (403); on serve's own port, a request without a client certificate or token
// is unauthenticated (401: serve takes requests without credentials for system:anonymous only on
// /healthz, /livez and /readyz, which the kubelet's probes reach and which still answer). The
// admin reads the same figures both ways (the control).
func TestMetricsAPIRefusesAnonymous(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	const ns = "e2e-anon"
	newWorkload(ctx, t, ns, 1, nil)
	s := startServe(t, "serve", serveArgs(ns, policyFile(t, ns, nil, nil), "--dry-run")...)
	registerAdapter(ctx, t, ns, s)
	eventually(ctx, t, 30*time.Second, "the admin reads hsds_503_rate through the aggregator", func(ctx context.Context) (bool, error) {
		got, err := podMetric(ctx, ns, "v1beta2", "hsds_503_rate")
		return err == nil && len(got) == 1, nil
	})

	path := "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/pods/*/hsds_503_rate"
	query := "?labelSelector=" + url.QueryEscape("app=hsds")
	adapterURL := fmt.Sprintf("https://127.0.0.1:%d", s.securePort)
	for _, c := range []struct {
		what, url, token string
		want             []int
	}{
		{"kube-apiserver, no credentials", cluster.APIServerURL + path + query, "", []int{http.StatusUnauthorized, http.StatusForbidden}},
		{"serve's port, no credentials", adapterURL + path + query, "", []int{http.StatusUnauthorized}},
		{"serve's port, discovery, no credentials", adapterURL + "/apis/custom.metrics.k8s.io/v1beta2", "", []int{http.StatusUnauthorized}},
		{"serve's port, /livez, no credentials", adapterURL + "/livez", "", []int{http.StatusOK}},
		{"serve's port, the admin's token", adapterURL + path + query, cluster.RESTConfig.BearerToken, []int{http.StatusOK}},
	} {
		code, err := anonymousGet(ctx, c.url, c.token)
		if err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		ok := false
		for _, w := range c.want {
			ok = ok || code == w
		}
		if !ok {
			t.Errorf("%s: GET %s answered %d, want one of %v", c.what, c.url, code, c.want)
		}
	}

	cfg := rest.CopyConfig(cluster.RESTConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:anonymous", Groups: []string{"system:unauthenticated"}}
	anon, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = anon.Discovery().RESTClient().Get().AbsPath(path).Param("labelSelector", "app=hsds").DoRaw(ctx)
	if !apierrors.IsForbidden(err) {
		t.Errorf("as system:anonymous through the aggregator: %v, want 403 Forbidden", err)
	}
}

// anonymousGet sends GET url with no client certificate, and a bearer token only when given,
// and returns the status code. The servers' certificates are not verified: what is tested is
// what they answer, not who they are.
func anonymousGet(ctx context.Context, url, token string) (int, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rsp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_ = rsp.Body.Close()
	return rsp.StatusCode, nil
}
