// Package v1alpha1 is the HSDSAutoscaler custom resource (group hsds-autoscaler.io, version
// v1alpha1): one object per scaled HSDS Deployment, its bounds, policy and guards in spec, what
// the scaler saw, decided and learned in status. It imports apimachinery and heuristics only.
// The CRD YAML (deploy/base/crd) and zz_generated.deepcopy.go are generated from these types by
// controller-gen (pinned in .ci/controller-gen/go.mod): `make generate`.
//
// +kubebuilder:object:generate=true
// +groupName=hsds-autoscaler.io
package v1alpha1

//go:generate ../../hack/controller-gen.sh
