package docs

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hsds-autoscaler/hsds-autoscaler/"

// tablePackage matches a row of design.md's package table: | `path` | what |
var tablePackage = regexp.MustCompile("^\\| `([a-z0-9_./-]+)` \\|")

// designPackages returns the package paths design.md's "Packages" table names, in order.
func designPackages(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("design.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pkgs []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Packages"
			continue
		}
		if m := tablePackage.FindStringSubmatch(line); in && m != nil {
			pkgs = append(pkgs, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(pkgs) == 0 {
		t.Fatal(`design.md: no package table under "## Packages"`)
	}
	return pkgs
}

// modulePackages lists every package of the module, the e2e-tagged ones included.
func modulePackages(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags", "e2e", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if p = strings.TrimPrefix(p, module); p != "docs" {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

// TestDesignNamesEveryPackage: every package design.md names exists, and every package of the
// module is named there, so the page describes the tree as it is.
func TestDesignNamesEveryPackage(t *testing.T) {
	named, actual := designPackages(t), modulePackages(t)
	for _, p := range named {
		if !slices.Contains(actual, p) {
			t.Errorf("design.md names package %s, which go list does not know", p)
		}
	}
	for _, p := range actual {
		if !slices.Contains(named, p) {
			t.Errorf("package %s is missing from design.md's package table", p)
		}
	}
}

// sharedRef is a path into the shared environment outside the repository: a fresh clone has no
// such file, so documentation must point at docs/design.md and docs/hsds.md instead.
var sharedRef = regexp.MustCompile(`(\.\./|/work/)shared/(DESIGN|HSDS)\.md`)

// TestNoLinksOutsideTheRepository: README and docs do not send readers to the shared design
// notes outside the repository.
func TestNoLinksOutsideTheRepository(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := sharedRef.Find(b); m != nil {
			t.Errorf("%s points at %s (outside the repository): use docs/design.md or docs/hsds.md", f, m)
		}
	}
}
