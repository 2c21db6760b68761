// Package locate finds the real HSDS 0.9.4 of ../shared/real-hsds. It imports nothing of the
// testing package, so binaries (the fake kubelet's real mode in the demo) use it as tests do.
package locate

import (
	"errors"
	"os"
	"path/filepath"
)

// EnvDir names an environment variable that overrides the real-hsds directory.
const EnvDir = "HSDS_REAL_DIR"

// Dir returns the real-hsds directory: $HSDS_REAL_DIR, or ../shared/real-hsds beside the module
// root (found by walking up from the working directory to go.mod).
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared", "real-hsds"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.mod above the working directory")
		}
	}
}
