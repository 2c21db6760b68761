package provider_test

import (
	"net/http/httptest"
	"testing"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"
	cmapiserver "sigs.k8s.io/custom-metrics-apiserver/pkg/apiserver"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// serve runs prov behind the custom-metrics-apiserver's real server and handler chain (the one
// AdapterBase builds), with no authentication or authorization configured (the aggregation-layer
// path with delegated auth is covered by the e2e tests), on an httptest server.
func serve(t testing.TB, prov cmprovider.CustomMetricsProvider) *httptest.Server {
	t.Helper()
	rc := genericapiserver.NewRecommendedConfig(cmapiserver.Codecs)
	rc.EnableMetrics = false
	rc.ExternalAddress = "127.0.0.1:443"                        // required by Complete when not serving TLS itself
	rc.LoopbackClientConfig = &rest.Config{Host: "127.0.0.1:1"} // never used: no post-start hooks call it
	cfg := &cmapiserver.Config{GenericConfig: &rc.Config}
	srv, err := cfg.Complete(nil).New("hsds-test-adapter", prov, nil)
	if err != nil {
		t.Fatalf("build custom-metrics server: %v", err)
	}
	ts := httptest.NewServer(srv.GenericAPIServer.Handler)
	t.Cleanup(ts.Close)
	return ts
}
