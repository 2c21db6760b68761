package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestResolve(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const full = "41a5d6a0c1e2b3f4a5b6c7d8e9f00112233445566"
	for _, tc := range []struct {
		name              string
		version, revision string
		settings          []debug.BuildSetting
		wantVer, wantRev  string
	}{
		{"stamped", "0.1.0", "41a5d6a-dirty", vcs(full, "false"), "0.1.0", "41a5d6a-dirty"},
		{"version only: revision from vcs", "0.1.0", "", vcs(full, "false"), "0.1.0", "41a5d6a0c1e2"},
		{"unstamped, clean tree", "", "", vcs(full, "false"), Dev, "41a5d6a0c1e2"},
		{"unstamped, dirty tree", "", "", vcs(full, "true"), Dev, "41a5d6a0c1e2-dirty"},
		{"unstamped, no vcs (go test, go run)", "", "", nil, Dev, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.version, tc.revision, tc.settings)
			want := Info{Version: tc.wantVer, Revision: tc.wantRev, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("resolve (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetIsUnstampedUnderGoTest(t *testing.T) {
	if got := Get(); got.Version != Dev || got.GoVersion != runtime.Version() {
		t.Errorf("Get() = %+v, want version %q and %s", got, Dev, runtime.Version())
	}
}

func TestString(t *testing.T) {
	i := Info{Version: "0.1.0", Revision: "41a5d6a", GoVersion: "go1.26.8", Platform: "linux/amd64"}
	if got, want := i.String("hsds-agent"), "hsds-agent 0.1.0 (revision 41a5d6a, go1.26.8, linux/amd64)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func TestCollector(t *testing.T) {
	i := Info{Version: "0.1.0", Revision: "41a5d6a", GoVersion: "go1.26.8", Platform: "linux/amd64"}
	c := i.NewCollector("hsds_agent_build_info", "Always 1: the build.")
	want := `# HELP hsds_agent_build_info Always 1: the build.
# TYPE hsds_agent_build_info gauge
hsds_agent_build_info{goversion="go1.26.8",revision="41a5d6a",version="0.1.0"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if probs, err := testutil.CollectAndLint(c); err != nil || len(probs) > 0 {
		t.Errorf("lint: %v %v", probs, err)
	}
}
