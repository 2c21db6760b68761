package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"
	cmapiserver "sigs.k8s.io/custom-metrics-apiserver/pkg/apiserver"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
)

// serve runs prov behind the custom-metrics-apiserver's real server and handler chain (the one
// AdapterBase builds), with no authentication or authorization configured (the aggregation-layer
// path with delegated auth is covered by the e2e tests), on an httptest server.
func serve(t testing.TB, prov cmprovider.CustomMetricsProvider) *httptest.Server {
	return serveWith(t, prov, nil, false)
}

// userHeader names the test user; with auth on, only allowedUser is authorized.
const (
	userHeader  = "X-Test-User"
	allowedUser = "hpa"
)

// serveWith is serve with an optional body cache installed as adapter.NewServer installs it, and
// optionally a test authenticator (the user in userHeader; none: 401) and an authorizer that
// allows only allowedUser (others: 403).
func serveWith(t testing.TB, prov cmprovider.CustomMetricsProvider, bc *provider.BodyCache, auth bool) *httptest.Server {
	t.Helper()
	rc := genericapiserver.NewRecommendedConfig(cmapiserver.Codecs)
	rc.EnableMetrics = false
	rc.ExternalAddress = "127.0.0.1:443"                        // required by Complete when not serving TLS itself
	rc.LoopbackClientConfig = &rest.Config{Host: "127.0.0.1:1"} // never used: no post-start hooks call it
	if auth {
		rc.Authentication.Authenticator = authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
			name := r.Header.Get(userHeader)
			return &authenticator.Response{User: &user.DefaultInfo{Name: name}}, name != "", nil
		})
		rc.Authorization.Authorizer = authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
			if a.GetUser().GetName() == allowedUser {
				return authorizer.DecisionAllow, "", nil
			}
			return authorizer.DecisionDeny, "not the HPA", nil
		})
	}
	if bc != nil {
		rc.BuildHandlerChainFunc = bc.BuildHandlerChain(rc.BuildHandlerChainFunc)
	}
	cfg := &cmapiserver.Config{GenericConfig: &rc.Config}
	srv, err := cfg.Complete(nil).New("hsds-test-adapter", prov, nil)
	if err != nil {
		t.Fatalf("build custom-metrics server: %v", err)
	}
	ts := httptest.NewServer(srv.GenericAPIServer.Handler)
	t.Cleanup(ts.Close)
	return ts
}
