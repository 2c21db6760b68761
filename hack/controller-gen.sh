#!/usr/bin/env bash
# Regenerates api/v1alpha1/zz_generated.deepcopy.go and the HSDSAutoscaler CRD
# (deploy/base/crd/, copied to the Helm chart's crds/) with the controller-gen pinned in
# .ci/controller-gen/go.mod: `make generate` or `go generate ./api/...`.
# api/v1alpha1's TestGeneratedFilesAreCurrent runs the same generator and fails on any difference.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(awk '$1 == "sigs.k8s.io/controller-tools" {print $2}' "$root/.ci/controller-gen/go.mod")
bin=${CONTROLLER_GEN:-$root/.cache/bin/controller-gen-$version}
if [[ ! -x $bin ]]; then
	mkdir -p "$(dirname "$bin")"
	(cd "$root/.ci/controller-gen" && go build -o "$bin" sigs.k8s.io/controller-tools/cmd/controller-gen)
fi
cd "$root"
"$bin" object paths=./api/... crd:allowDangerousTypes=true output:crd:dir=deploy/base/crd
cp deploy/base/crd/hsds-autoscaler.io_hsdsautoscalers.yaml deploy/helm/hsds-autoscaler/crds/
