package controlplane

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeExec(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
}

func noEtcdOnPath(string) (string, error) { return "", errors.New("not on $PATH") }

func TestLookupBinaries(t *testing.T) {
	full := t.TempDir()
	for _, b := range []string{"kube-apiserver", "kube-controller-manager", "kubectl", "etcd"} {
		writeExec(t, filepath.Join(full, b), 0o755)
	}
	noEtcd := t.TempDir()
	for _, b := range kubeBinaries {
		writeExec(t, filepath.Join(noEtcd, b), 0o755)
	}
	notExec := t.TempDir()
	for _, b := range kubeBinaries {
		writeExec(t, filepath.Join(notExec, b), 0o644)
	}
	tests := []struct {
		name     string
		dir      string
		etcdPath string
		lookPath func(string) (string, error)
		want     Binaries
		wantErrs []string // substrings the error must hold; nil: no error
	}{
		{
			name: "all in dir", dir: full, lookPath: noEtcdOnPath,
			want: Binaries{
				Etcd: filepath.Join(full, "etcd"), APIServer: filepath.Join(full, "kube-apiserver"),
				ControllerManager: filepath.Join(full, "kube-controller-manager"), Kubectl: filepath.Join(full, "kubectl"),
			},
		},
		{
			name: "etcd from PATH", dir: noEtcd, lookPath: func(string) (string, error) { return "/usr/bin/etcd", nil },
			want: Binaries{
				Etcd: "/usr/bin/etcd", APIServer: filepath.Join(noEtcd, "kube-apiserver"),
				ControllerManager: filepath.Join(noEtcd, "kube-controller-manager"), Kubectl: filepath.Join(noEtcd, "kubectl"),
			},
		},
		{
			name: "empty dir lists everything missing", dir: t.TempDir(), lookPath: noEtcdOnPath,
			wantErrs: []string{"kube-apiserver", "kube-controller-manager", "kubectl", "etcd-server"},
		},
		{
			name: "not executable", dir: notExec, lookPath: noEtcdOnPath,
			wantErrs: []string{"kube-apiserver is not an executable file", "kubectl is not an executable file"},
		},
		{
			name: "explicit etcd path missing", dir: full, etcdPath: "/nonexistent/etcd", lookPath: noEtcdOnPath,
			wantErrs: []string{"/nonexistent/etcd"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LookupBinaries(tt.dir, tt.etcdPath, tt.lookPath)
			if tt.wantErrs == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("LookupBinaries (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("LookupBinaries = %+v, want an error", got)
			}
			for _, s := range tt.wantErrs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestFindBinariesExplicitDirNeverBuilds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BinDir, cfg.Build, cfg.EtcdPath = t.TempDir(), true, "/nonexistent/etcd"
	// An explicit BinDir is never built into (the build script owns only the repo's cache).
	_, err := FindBinaries(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Fatalf("FindBinaries error = %v, want one naming kube-apiserver", err)
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "deploy", "internal", "build-k8s.sh")); err != nil {
		t.Errorf("RepoRoot = %s, which lacks deploy/internal/build-k8s.sh: %v", root, err)
	}
	if got, err := RepoRoot(t.TempDir()); err == nil {
		t.Errorf("RepoRoot(temp dir) = %s, want an error", got)
	}
	if got, want := DefaultBinDir("/r"), "/r/.cache/k8s/"+KubernetesVersion+"/bin"; got != want {
		t.Errorf("DefaultBinDir = %s, want %s", got, want)
	}
}

func TestModuleName(t *testing.T) {
	tests := map[string]string{
		"module github.com/a/b\n\ngo 1.26\n":   "github.com/a/b",
		"// comment\nmodule \"x/y\" // tail\n": "x/y",
		"go 1.26\n":                            "",
		"module\n":                             "",
		"":                                     "",
	}
	for in, want := range tests {
		if got := ModuleName([]byte(in)); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzModuleName(f *testing.F) {
	f.Add([]byte("module github.com/a/b\n"))
	f.Add([]byte("module \"x\" // c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name := ModuleName(data)
		if strings.ContainsAny(name, " \t\n") {
			t.Errorf("ModuleName(%q) = %q contains white space", data, name)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	bad := Config{HPASyncPeriod: 0, StartTimeout: -time.Second}
	err := bad.Validate()
	if err == nil {
		t.Fatal("Validate() = nil for a zero config")
	}
	for _, s := range []string{"HPASyncPeriod", "StartTimeout", "StopTimeout"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("Validate() = %q, want every problem including %s", err, s)
		}
	}
}
