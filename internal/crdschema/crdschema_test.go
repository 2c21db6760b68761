package crdschema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The generated CRD has spec.guards with defaults; a missing property or file is an error naming
// it, not a panic.
func TestProps(t *testing.T) {
	root := filepath.Join("..", "..")
	g, err := Props(root, "spec", "guards")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g["settle"]["default"]; !ok {
		t.Errorf("spec.guards.settle = %v, want a default", g["settle"])
	}
	if _, err := Props(root, "spec", "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing property: %v", err)
	}
	if _, err := Props(t.TempDir()); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(File)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, File), []byte("spec: {versions: []}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Props(dir); err == nil || !strings.Contains(err.Error(), "no versions") {
		t.Errorf("no versions: %v", err)
	}
}
