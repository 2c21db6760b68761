package locate

import (
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	t.Setenv(EnvDir, "/x/real-hsds")
	if d, err := Dir(); err != nil || d != "/x/real-hsds" {
		t.Errorf("Dir() with %s set = %q, %v", EnvDir, d, err)
	}
	t.Setenv(EnvDir, "")
	d, err := Dir()
	if err != nil || filepath.Base(d) != "real-hsds" || filepath.Base(filepath.Dir(d)) != "shared" {
		t.Errorf("Dir() = %q, %v: want <beside the module root>/shared/real-hsds", d, err)
	}
}
