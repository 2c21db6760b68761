package adapter

import (
	"net/http"
	"slices"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

// ProbePaths are the only paths an anonymous request may reach on the custom-metrics API server:
// the kubelet's probes carry no credentials. They are also the delegated authorizer's
// always-allowed paths.
var ProbePaths = []string{"/healthz", "/livez", "/readyz"}

// refuseAnonymous wraps the delegated authenticator, which takes every request without
// credentials for system:anonymous (k8s.io/apiserver's DelegatingAuthenticationOptions.ApplyTo
// enables anonymous authentication and ignores its Anonymous option): such a request is
// unauthenticated (401) unless its path is one of paths. Authorization (a SubjectAccessReview)
// would refuse system:anonymous the metrics anyway, with RBAC as the cluster has it; this does
// not depend on it.
func refuseAnonymous(next authenticator.Request, paths []string) authenticator.Request {
	return authenticator.RequestFunc(func(req *http.Request) (*authenticator.Response, bool, error) {
		rsp, ok, err := next.AuthenticateRequest(req)
		if ok && rsp != nil && rsp.User != nil && rsp.User.GetName() == user.Anonymous && !slices.Contains(paths, req.URL.Path) {
			return nil, false, nil
		}
		return rsp, ok, err
	})
}
