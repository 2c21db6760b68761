package controlplane

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModulePath is the Go module whose checkout is the repository root.
const ModulePath = "github.com/hsds-autoscaler/hsds-autoscaler"

// Binaries are the absolute paths of the programs a Cluster runs.
type Binaries struct {
	Etcd              string
	APIServer         string
	ControllerManager string
	Kubectl           string
}

// kubeBinaries are the names build-k8s.sh produces.
var kubeBinaries = [...]string{"kube-apiserver", "kube-controller-manager", "kubectl"}

// RepoRoot walks up from dir to the directory whose go.mod declares ModulePath.
func RepoRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving %q: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if isModuleRoot(filepath.Join(d, "go.mod")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod declaring module %s in %s or any parent", ModulePath, abs)
		}
	}
}

func isModuleRoot(gomod string) bool {
	data, err := os.ReadFile(gomod)
	return err == nil && ModuleName(data) == ModulePath
}

// ModuleName returns the module path a go.mod declares, or "" if it declares none.
func ModuleName(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// DefaultBinDir is where build-k8s.sh caches the binaries: <root>/.cache/k8s/<version>/bin.
func DefaultBinDir(root string) string {
	return filepath.Join(root, ".cache", "k8s", KubernetesVersion, "bin")
}

// LookupBinaries checks that binDir holds every Kubernetes binary and finds etcd (etcdPath, else
// binDir/etcd, else $PATH via lookPath). The error lists everything that is missing.
func LookupBinaries(binDir, etcdPath string, lookPath func(string) (string, error)) (Binaries, error) {
	var errs []error
	paths := make(map[string]string, len(kubeBinaries))
	for _, name := range kubeBinaries {
		p := filepath.Join(binDir, name)
		if err := checkExecutable(p); err != nil {
			errs = append(errs, err)
		}
		paths[name] = p
	}
	etcd, err := findEtcd(binDir, etcdPath, lookPath)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Binaries{}, errors.Join(errs...)
	}
	return Binaries{
		Etcd:              etcd,
		APIServer:         paths["kube-apiserver"],
		ControllerManager: paths["kube-controller-manager"],
		Kubectl:           paths["kubectl"],
	}, nil
}

func findEtcd(binDir, etcdPath string, lookPath func(string) (string, error)) (string, error) {
	if etcdPath != "" {
		return etcdPath, checkExecutable(etcdPath)
	}
	if p := filepath.Join(binDir, "etcd"); checkExecutable(p) == nil {
		return p, nil
	}
	p, err := lookPath("etcd")
	if err != nil {
		return "", fmt.Errorf("etcd not found in %s or on $PATH (install the Debian package etcd-server): %w", binDir, err)
	}
	return p, nil
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("missing binary: %w", err)
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// FindBinaries resolves the binaries for cfg. When the Kubernetes binaries are missing and
// cfg.Build is set, it runs deploy/internal/build-k8s.sh (about 10 minutes on 2 cores, once).
func FindBinaries(ctx context.Context, cfg Config) (Binaries, error) {
	binDir, root := cfg.BinDir, ""
	if binDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return Binaries{}, fmt.Errorf("finding the working directory: %w", err)
		}
		if root, err = RepoRoot(wd); err != nil {
			return Binaries{}, fmt.Errorf("set %s or Config.BinDir: %w", EnvBinDir, err)
		}
		binDir = DefaultBinDir(root)
	}
	bins, err := LookupBinaries(binDir, cfg.EtcdPath, exec.LookPath)
	if err == nil || !cfg.Build || root == "" {
		return bins, err
	}
	fmt.Fprintf(cfg.progress(), ">>> Kubernetes %s binaries missing in %s; building them (about 10 min, once)\n", KubernetesVersion, binDir)
	if err := runBuild(ctx, root, cfg); err != nil {
		return Binaries{}, err
	}
	return LookupBinaries(binDir, cfg.EtcdPath, exec.LookPath)
}

func runBuild(ctx context.Context, root string, cfg Config) error {
	script := filepath.Join(root, "deploy", "internal", "build-k8s.sh")
	cmd := exec.CommandContext(ctx, "bash", script, KubernetesVersion, filepath.Join(root, ".cache", "k8s"))
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = cfg.progress(), cfg.progress()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed: %w", script, err)
	}
	return nil
}
