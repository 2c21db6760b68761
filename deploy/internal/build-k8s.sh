#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kubectl from the k8s.io/kubernetes Go module
# into a cache directory, once. Usage: build-k8s.sh VERSION CACHE_DIR
# The staging modules get `replace` lines generated from k8s.io/kubernetes's own go.mod (docs/e2e.md, "Binaries and caching").
set -euo pipefail
version=${1:?usage: build-k8s.sh VERSION CACHE_DIR}
cache=${2:?usage: build-k8s.sh VERSION CACHE_DIR}
bin="$cache/$version/bin"
want=(kube-apiserver kube-controller-manager kubectl)
cached() {
  local b
  for b in "${want[@]}"; do [ -x "$bin/$b" ] || return 1; done
}
if cached; then echo "kubernetes $version binaries cached in $bin"; exit 0; fi

# One build at a time per version: a second caller (make k8s-bin, the e2e harness) waits here
# and then finds the binaries cached.
mkdir -p "$cache"
exec 9>"$cache/.build-$version.lock"
if ! flock -n 9; then
  echo ">>> another build of kubernetes $version is running; waiting for it"
  flock 9
fi
if cached; then echo "kubernetes $version binaries cached in $bin"; exit 0; fi

started=$(date +%s)
echo ">>> building kube-apiserver, kube-controller-manager and kubectl $version (first time only; ~7-10 min on 2 cores)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
minor=${version#v1.}
staging="v0.${minor}"
go mod init k8sbuild >/dev/null 2>&1
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[ -n "$gomod" ] || { echo "cannot download k8s.io/kubernetes@$version" >&2; exit 1; }
{
  echo "require k8s.io/kubernetes $version"
  echo "replace ("
  # lines such as `k8s.io/api => ./staging/src/k8s.io/api` inside the replace block
  awk '/^replace \(/{inb=1; next} inb && /^\)/{inb=0} inb && /=> \.\/staging/ {print $1}' "$gomod" |
    while read -r m; do echo "	$m => $m $staging"; done
  echo ")"
} >>go.mod
cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
go mod tidy >/dev/null
mkdir -p "$bin.tmp"
ld="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/client-go/pkg/version.gitVersion=$version"
for b in "${want[@]}"; do
  echo ">>> go build $b"
  go build -trimpath -ldflags "$ld" -o "$bin.tmp/$b" "k8s.io/kubernetes/cmd/$b"
done
rm -rf "$bin"; mv "$bin.tmp" "$bin"
echo "kubernetes $version binaries built in $bin in $(( $(date +%s) - started )) s"
