package adapter

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

func TestRefuseAnonymous(t *testing.T) {
	as := func(name string) authenticator.Request {
		return authenticator.RequestFunc(func(*http.Request) (*authenticator.Response, bool, error) {
			if name == "" {
				return nil, false, nil
			}
			return &authenticator.Response{User: &user.DefaultInfo{Name: name}}, true, nil
		})
	}
	const metrics = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/hsds/pods/*/hsds_503_rate"
	for _, tt := range []struct {
		inner, path string
		want        bool
	}{
		{user.Anonymous, metrics, false},
		{user.Anonymous, "/apis", false},
		{user.Anonymous, "/livez", true},
		{user.Anonymous, "/readyz", true},
		{user.Anonymous, "/healthz", true},
		{user.Anonymous, "/livez/ping", false}, // exact paths only
		{"system:serviceaccount:kube-system:horizontal-pod-autoscaler", metrics, true},
		{"", metrics, false},
	} {
		_, ok, err := refuseAnonymous(as(tt.inner), ProbePaths).AuthenticateRequest(httptest.NewRequest(http.MethodGet, tt.path, nil))
		if ok != tt.want || err != nil {
			t.Errorf("%q GET %s: authenticated %v (%v), want %v", tt.inner, tt.path, ok, err, tt.want)
		}
	}
}
