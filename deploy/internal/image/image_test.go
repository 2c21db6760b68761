package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

var agentSpec = Spec{Name: "hsds-agent", Package: "./cmd/hsds-agent", Ports: []string{"9090/tcp"}, Title: "agent"}

func assemble(t *testing.T, binary string, m Meta) v1.Image {
	t.Helper()
	img, err := Assemble(agentSpec, []byte(binary), m)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

type fileEntry struct {
	Mode     int64
	UID, GID int
	MTime    time.Time
	Body     string
}

// layerFiles lists the one layer of img by path.
func layerFiles(t *testing.T, img v1.Image) map[string]fileEntry {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v; want one", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	out := map[string]fileEntry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: user or group name %q/%q in the layer", h.Name, h.Uname, h.Gname)
		}
		out[h.Name] = fileEntry{Mode: h.Mode, UID: h.Uid, GID: h.Gid, MTime: h.ModTime.UTC(), Body: string(body)}
	}
}

// The layer holds the binary, passwd and group naming 65532, its home and /tmp: no shell, no
// other program.
func TestRootFS(t *testing.T) {
	m := testMeta(t)
	got := layerFiles(t, assemble(t, "\x7fELF binary", m))
	at := m.Created
	dir := func(mode int64) fileEntry { return fileEntry{Mode: mode, MTime: at} }
	want := map[string]fileEntry{
		"etc/":                     dir(0o755),
		"etc/group":                {Mode: 0o644, MTime: at, Body: group},
		"etc/passwd":               {Mode: 0o644, MTime: at, Body: passwd},
		"home/":                    dir(0o755),
		"home/nonroot/":            {Mode: 0o700, UID: UID, GID: GID, MTime: at},
		"tmp/":                     dir(0o1777),
		"usr/":                     dir(0o755),
		"usr/local/":               dir(0o755),
		"usr/local/bin/":           dir(0o755),
		"usr/local/bin/hsds-agent": {Mode: 0o755, MTime: at, Body: "\x7fELF binary"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
	if !strings.Contains(passwd, "nonroot:x:65532:65532:") || !strings.Contains(group, "nonroot:x:65532:") {
		t.Errorf("passwd/group do not name 65532")
	}
}

func TestConfig(t *testing.T) {
	m := testMeta(t)
	img := assemble(t, "bin", m)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	want := v1.Config{
		User: "65532:65532", Entrypoint: []string{"/usr/local/bin/hsds-agent"}, WorkingDir: "/",
		Env: []string{"PATH=/usr/local/bin"}, ExposedPorts: map[string]struct{}{"9090/tcp": {}},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "hsds-agent",
			"org.opencontainers.image.description": "agent",
			"org.opencontainers.image.version":     m.Version,
			"org.opencontainers.image.revision":    "test-revision",
			"org.opencontainers.image.created":     "2023-11-14T22:13:20Z",
			"org.opencontainers.image.source":      sourceURL,
		},
	}
	if diff := cmp.Diff(want, cf.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if !cf.Created.Equal(m.Created) || cf.OS != "linux" || cf.Architecture != m.GOARCH || len(cf.History) != 1 || !cf.History[0].Created.Equal(m.Created) {
		t.Errorf("created %v, platform %s/%s, history %+v", cf.Created, cf.OS, cf.Architecture, cf.History)
	}
	mt, _ := img.MediaType()
	mf, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if mt != types.OCIManifestSchema1 || mf.Config.MediaType != types.OCIConfigJSON || mf.Layers[0].MediaType != types.OCILayer {
		t.Errorf("media types %s, %s, %s; want OCI", mt, mf.Config.MediaType, mf.Layers[0].MediaType)
	}
}

// Same inputs, same digest; the digest covers the binary, the version and the time.
func TestAssembleIsDeterministic(t *testing.T) {
	m := testMeta(t)
	digest := func(binary string, m Meta) v1.Hash {
		d, err := assemble(t, binary, m).Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := digest("bin", m)
	if again := digest("bin", m); again != first {
		t.Errorf("two assemblies: %s != %s", first, again)
	}
	later := m
	later.Created = m.Created.Add(time.Second)
	other := m
	other.Version = "9.9.9"
	for name, d := range map[string]v1.Hash{"binary": digest("bin2", m), "created": digest("bin", later), "version": digest("bin", other)} {
		if d == first {
			t.Errorf("another %s gave the same digest", name)
		}
	}
}

// The archive is an OCI layout that names the image for podman and containerd, and that
// go-containerregistry reads back as the same, valid image.
func TestArchive(t *testing.T) {
	m := testMeta(t)
	img := assemble(t, "bin", m)
	ref := agentSpec.Ref(m.Version)
	path := filepath.Join(t.TempDir(), "a.oci.tar")
	if err := WriteArchive(path, img, ref, m.Created); err != nil {
		t.Fatal(err)
	}
	dir := untar(t, path, m.Created)
	var index v1.IndexManifest
	readJSON(t, filepath.Join(dir, "index.json"), &index)
	digest, _ := img.Digest()
	if len(index.Manifests) != 1 || index.Manifests[0].Digest != digest ||
		index.Manifests[0].Annotations[annotationRefName] != ref || index.Manifests[0].Annotations[annotationContainerd] != ref {
		t.Errorf("index.json = %+v, want one manifest %s named %s", index, digest, ref)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	back, err := lp.Image(digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(back); err != nil {
		t.Errorf("validate the archived image: %v", err)
	}
	if !strings.HasSuffix(ref, ":"+m.Version) || !strings.HasPrefix(ref, "ghcr.io/hsds-autoscaler/hsds-agent:") {
		t.Errorf("ref %s", ref)
	}
}

// untar extracts an archive into a temporary directory, checking every entry's mtime.
func untar(t *testing.T, path string, created time.Time) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(created) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, created)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, tr); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestBuildIsReproducible builds every shipped image twice from the sources (go build included)
// into two directories: the manifest digests and the archives' bytes are equal.
func TestBuildIsReproducible(t *testing.T) {
	first := testImages.get(t)
	second, err := buildAll(t.Context(), moduleRoot(t), t.TempDir(), testMeta(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range first {
		b := second[i]
		if a.Digest != b.Digest || a.Config != b.Config {
			t.Errorf("%s: digests %s and %s (configs %s and %s)", a.Ref, a.Digest, b.Digest, a.Config, b.Config)
		}
		if sa, sb := fileSHA256(t, a.Path), fileSHA256(t, b.Path); sa != sb {
			t.Errorf("%s: archives differ: sha256 %s and %s", a.Ref, sa, sb)
		}
		t.Logf("%s %s (twice)", a.Ref, a.Digest)
	}
}
