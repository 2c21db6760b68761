package image

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// imageRef matches a reference to one of our images: repository, then an optional :tag and an
// optional @digest.
var imageRef = regexp.MustCompile(`ghcr\.io/hsds-autoscaler/([a-z0-9][a-z0-9._-]*)(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?(@sha256:(?:[0-9a-f]{64})?)?`)

// helmRepository is a Helm values line naming an image's repository, whose tag is set apart.
var helmRepository = regexp.MustCompile(`^\s*repository:`)

// chartAppVersion is a Chart.yaml's appVersion line.
var chartAppVersion = regexp.MustCompile(`(?m)^appVersion:\s*["']?([^"'\s]+)["']?\s*$`)

// TestManifestsNameTheVersion: every file under deploy/ (manifests, examples, the chart, the
// demo) that names one of our images names it with the tag in VERSION or pins it by digest,
// never :latest or no tag (a Helm values `repository:` line excepted), and a Chart.yaml's
// appVersion is VERSION. This
// package is left out: it builds its references from VERSION.
func TestManifestsNameTheVersion(t *testing.T) {
	root := moduleRoot(t)
	version, err := ReadVersion(root)
	if err != nil {
		t.Fatal(err)
	}
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	refs := 0
	err = filepath.WalkDir(filepath.Join(root, "deploy"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if err == nil && path == self {
				return filepath.SkipDir
			}
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for i, line := range strings.Split(string(body), "\n") {
			for _, m := range imageRef.FindAllStringSubmatch(line, -1) {
				refs++
				switch tag := strings.TrimPrefix(m[2], ":"); {
				case tag == "" && m[3] == "" && helmRepository.MatchString(line):
				case tag == "" && m[3] != "": // pinned by digest (a Go test may build the digest at run time)
				case tag != version:
					t.Errorf("%s:%d: %s: want the tag %s (VERSION)", rel, i+1, m[0], version)
				}
			}
		}
		if d.Name() == "Chart.yaml" {
			if m := chartAppVersion.FindStringSubmatch(string(body)); m != nil && m[1] != version {
				t.Errorf("%s: appVersion %s, want %s (VERSION)", rel, m[1], version)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if refs == 0 {
		t.Error("no reference to our images under deploy/: the Deployments name them")
	}
}

// The check itself: what it accepts and refuses.
func TestImageRefCheck(t *testing.T) {
	for line, want := range map[string]string{
		"image: ghcr.io/hsds-autoscaler/hsds-agent:0.1.0":                                   ":0.1.0",
		"image: ghcr.io/hsds-autoscaler/hsds-autoscaler:latest":                             ":latest",
		`Image: "ghcr.io/hsds-autoscaler/hsds-agent",`:                                      "",
		"image: ghcr.io/hsds-autoscaler/hsds-agent:0.1.0@sha256:" + strings.Repeat("a", 64): ":0.1.0",
	} {
		m := imageRef.FindStringSubmatch(line)
		if m == nil || m[2] != want {
			t.Errorf("%q: match %q, want tag %q", line, m, want)
		}
	}
	if !helmRepository.MatchString("    repository: ghcr.io/hsds-autoscaler/hsds-agent") {
		t.Error("a Helm values repository line is not recognised")
	}
	if m := chartAppVersion.FindStringSubmatch("name: x\nappVersion: \"0.1.0\"\n"); m == nil || m[1] != "0.1.0" {
		t.Errorf("appVersion: %q", m)
	}
}
