package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is where the project's images are pushed: <Registry>/<Spec.Name>:<version>.
const Registry = "ghcr.io/hsds-autoscaler"

// sourceURL is org.opencontainers.image.source.
const sourceURL = "https://github.com/hsds-autoscaler/hsds-autoscaler"

// UID and GID the images run as (distroless's "nonroot"); the Deployments' securityContext
// says the same.
const (
	UID = 65532
	GID = 65532
)

// BinDir is where the binary lives in the image.
const BinDir = "/usr/local/bin"

// Spec is one shipped image.
type Spec struct {
	Name    string   // binary, repository and title
	Package string   // Go package of the binary, relative to the module root
	Ports   []string // documentation only: EXPOSE, e.g. "9090/tcp"
	Title   string   // org.opencontainers.image.description
}

// Shipped lists the images that `make images` builds.
func Shipped() []Spec {
	return []Spec{
		{Name: "hsds-autoscaler", Package: "./cmd/hsds-autoscaler", Ports: []string{"6443/tcp", "8080/tcp"},
			Title: "custom.metrics.k8s.io adapter and scaler for HSDS"},
		{Name: "hsds-agent", Package: "./cmd/hsds-agent", Ports: []string{"9090/tcp", "5190/tcp"},
			Title: "HSDS node agent: 503s by cause and tasks in flight"},
	}
}

// Ref is the image reference of s at version, e.g. ghcr.io/hsds-autoscaler/hsds-agent:0.1.0.
func (s Spec) Ref(version string) string { return Registry + "/" + s.Name + ":" + version }

// Meta is what an image says about its build: labels and every timestamp.
type Meta struct {
	Version  string
	Revision string
	Created  time.Time // SOURCE_DATE_EPOCH: the config's created, the history's, every file's mtime
	GOARCH   string
}

// Assemble returns the image of s around binary (the bytes of a static linux/<GOARCH> executable).
func Assemble(s Spec, binary []byte, m Meta) (v1.Image, error) {
	layerTar, err := rootfs(s.Name, binary, m.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.DefaultCompression), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	created := v1.Time{Time: m.Created.UTC()}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
		History: v1.History{Created: created, CreatedBy: "go run ./deploy/images", Comment: s.Name + " " + m.Version}})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created, cf.OS, cf.Architecture = created, "linux", m.GOARCH
	cf.Config = imageConfig(s, m)
	return mutate.ConfigFile(img, cf)
}

func imageConfig(s Spec, m Meta) v1.Config {
	ports := map[string]struct{}{}
	for _, p := range s.Ports {
		ports[p] = struct{}{}
	}
	return v1.Config{
		User:         fmt.Sprintf("%d:%d", UID, GID),
		Entrypoint:   []string{path.Join(BinDir, s.Name)},
		WorkingDir:   "/",
		Env:          []string{"PATH=" + BinDir},
		ExposedPorts: ports,
		Labels: map[string]string{
			"org.opencontainers.image.title":       s.Name,
			"org.opencontainers.image.description": s.Title,
			"org.opencontainers.image.version":     m.Version,
			"org.opencontainers.image.revision":    m.Revision,
			"org.opencontainers.image.created":     m.Created.UTC().Format(time.RFC3339),
			"org.opencontainers.image.source":      sourceURL,
		},
	}
}

// Files of the root file system besides the binary: a passwd and group naming 65532 (so `id`,
// ps and logs show "nonroot"), its home, and /tmp for a read-only root with a tmpfs or emptyDir.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group  = "root:x:0:\nnonroot:x:65532:\n"
)

// rootfs is the layer's tar: directories, passwd, group and the binary, all owned by root except
// the home of 65532, with mtime created and no user or group names.
func rootfs(name string, binary []byte, created time.Time) ([]byte, error) {
	type entry struct {
		name     string
		mode     int64
		uid, gid int
		body     []byte
	}
	dir := func(n string, mode int64) entry { return entry{name: n + "/", mode: mode} }
	entries := []entry{
		dir("etc", 0o755),
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		dir("home", 0o755),
		{name: "home/nonroot/", mode: 0o700, uid: UID, gid: GID},
		dir("tmp", 0o1777),
		dir("usr", 0o755),
		dir("usr/local", 0o755),
		dir("usr/local/bin", 0o755),
		{name: "usr/local/bin/" + name, mode: 0o755, body: binary},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: created.UTC(), Format: tar.FormatPAX}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
