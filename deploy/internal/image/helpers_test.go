package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testImages.cleanup()
	os.Exit(code)
}

// testMeta is the build every test uses: the real VERSION, a fixed revision and time.
func testMeta(t testing.TB) Meta {
	t.Helper()
	v, err := ReadVersion(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	return Meta{Version: v, Revision: "test-revision", Created: time.Unix(1700000000, 0).UTC(), GOARCH: runtime.GOARCH}
}

// moduleRoot is the directory holding go.mod above the test's working directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// imageSet is every shipped image built once per test binary, shared by the reproducibility
// and podman tests (a cold build compiles the module with -trimpath and CGO_ENABLED=0: minutes).
type imageSet struct {
	once  sync.Once
	dir   string
	built []Built
	err   error
}

var testImages = &imageSet{}

func (s *imageSet) get(t *testing.T) []Built {
	t.Helper()
	s.once.Do(func() {
		if s.dir, s.err = os.MkdirTemp("", "hsds-images-"); s.err != nil {
			return
		}
		s.built, s.err = buildAll(context.Background(), moduleRoot(t), s.dir, testMeta(t))
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.built
}

func (s *imageSet) cleanup() {
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

func buildAll(ctx context.Context, root, dir string, m Meta) ([]Built, error) {
	var out []Built
	for _, s := range Shipped() {
		start := time.Now()
		b, err := Build(ctx, root, dir, s, m)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, ">>> built %s (%s) in %s\n", b.Ref, b.Digest, time.Since(start).Round(time.Millisecond))
		out = append(out, b)
	}
	return out, nil
}
