package image

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// versionPkg is the package whose version and revision the linker stamps (internal/version).
const versionPkg = "github.com/hsds-autoscaler/hsds-autoscaler/internal/version"

// LDFlags are the linker flags of an image binary: no symbol table or DWARF, an empty build ID,
// and the version and revision stamped into internal/version.
func LDFlags(version, revision string) string {
	return fmt.Sprintf("-s -w -buildid= -X %s.version=%s -X %s.revision=%s", versionPkg, version, versionPkg, revision)
}

// GoBuild builds pkg (relative to moduleRoot) into out as a static linux/<goarch> binary that
// depends only on the sources, the Go version and ldflags: CGO_ENABLED=0, -trimpath,
// -buildvcs=false (the revision is stamped instead).
func GoBuild(ctx context.Context, moduleRoot, pkg, out, goarch, ldflags string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Built is one image written by Build.
type Built struct {
	Spec   Spec
	Ref    string  // e.g. ghcr.io/hsds-autoscaler/hsds-agent:0.1.0
	Path   string  // the OCI archive
	Digest v1.Hash // the manifest digest (what a registry reports after a push)
	Config v1.Hash // the config digest (the image ID podman shows)
}

// ArchiveName is the file name of s's archive at version: <name>-<version>.oci.tar.
func ArchiveName(s Spec, version string) string { return s.Name + "-" + version + ".oci.tar" }

// Build compiles s's binary from moduleRoot, assembles the image and writes its archive into
// outDir.
func Build(ctx context.Context, moduleRoot, outDir string, s Spec, m Meta) (Built, error) {
	tmp, err := os.MkdirTemp("", "hsds-image-")
	if err != nil {
		return Built{}, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	bin := filepath.Join(tmp, s.Name)
	if err := GoBuild(ctx, moduleRoot, s.Package, bin, m.GOARCH, LDFlags(m.Version, m.Revision)); err != nil {
		return Built{}, err
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return Built{}, err
	}
	img, err := Assemble(s, binary, m)
	if err != nil {
		return Built{}, fmt.Errorf("%s: %w", s.Name, err)
	}
	b := Built{Spec: s, Ref: s.Ref(m.Version), Path: filepath.Join(outDir, ArchiveName(s, m.Version))}
	if b.Digest, err = img.Digest(); err != nil {
		return Built{}, err
	}
	if b.Config, err = img.ConfigName(); err != nil {
		return Built{}, err
	}
	if err := WriteArchive(b.Path, img, b.Ref, m.Created); err != nil {
		return Built{}, err
	}
	return b, nil
}

// ReadVersion returns the release version: the file VERSION at the module root, which holds
// exactly one version (e.g. 0.1.0) and a newline.
func ReadVersion(moduleRoot string) (string, error) {
	b, err := os.ReadFile(filepath.Join(moduleRoot, "VERSION"))
	if err != nil {
		return "", err
	}
	v := strings.TrimSuffix(string(b), "\n")
	if v == "" || strings.ContainsAny(v, " \t\r\n:/") {
		return "", fmt.Errorf("VERSION: %q is not one version and a newline", string(b))
	}
	return v, nil
}
