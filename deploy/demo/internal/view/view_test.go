package view

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func snapshot() Snapshot {
	nan := math.NaN()
	return Snapshot{
		Elapsed: 72 * time.Second, Duration: 3 * time.Minute,
		Offered: 38.25, Attempts: 45.5,
		Rejected:  map[string]float64{"overload": 4.5, "not_ready": 1},
		Client500: 2.5, Client503: 5.25,
		Clients:  Clients{Requests: 2412, Succeeded: 2390, Failed: 22, Dropped: 0},
		Capacity: 90.4,
		Desired:  6, Spec: 6, Ready: 4, Pending: 2,
		Decision: "overload/up", Guards: []string{"pending-pods"},
		LastChange: "t=61s 4 -> 6: (4 ready, 0 pending): overload: sustained overload",
		Pods: []Pod{
			{Name: "hsds-6d4f9c7b8d-2xk4p", IP: "127.0.0.2", Phase: "Running", State: "READY", InFlight: 48, Limit: 60},
			{Name: "hsds-6d4f9c7b8d-9qwer", IP: "127.0.0.3", Phase: "Running", State: "WAITING", InFlight: 0, Limit: 60},
			{Name: "hsds-6d4f9c7b8d-abcde", IP: "127.0.0.4", Phase: "Running", InFlight: nan, Limit: nan},
			{Name: "hsds-6d4f9c7b8d-zz9zz", Phase: "Pending", Unschedulable: true, InFlight: nan, Limit: nan},
		},
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestFrameGolden(t *testing.T) {
	h := Header{"replay: trace worldcup98, 60x", "try:   kubectl get --raw '/apis/custom.metrics.k8s.io/...'"}
	golden(t, "frame.golden", Frame(h, snapshot(), 120))
}

func TestFrameBeforeScalerRuns(t *testing.T) {
	nan := math.NaN()
	s := Snapshot{Elapsed: -20 * time.Second, Duration: time.Minute, Desired: nan, Spec: nan, Ready: nan, Pending: nan}
	golden(t, "frame-empty.golden", Frame(nil, s, 120))
}

func TestLineGolden(t *testing.T) {
	golden(t, "line.golden", Line(snapshot())+"\n")
}

func TestFrameClipsFiguresNotHeader(t *testing.T) {
	long := "try:   kubectl --kubeconfig=/tmp/x/admin.kubeconfig get --raw '/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/hsds_503_rate'"
	lines := strings.Split(strings.TrimSuffix(Frame(Header{long}, snapshot(), 40), "\n"), "\n")
	if lines[1] != long {
		t.Errorf("header clipped: %q", lines[1])
	}
	for _, l := range lines[2:] {
		if len(l) > 40 {
			t.Errorf("line longer than 40 columns: %q", l)
		}
	}
}

func TestRedraw(t *testing.T) {
	got := Redraw("a\nb\n")
	want := "\x1b[Ha\x1b[K\nb\x1b[K\n\x1b[J"
	if got != want {
		t.Errorf("Redraw = %q, want %q", got, want)
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		v, limit float64
		want     string
	}{
		{30, 60, "[#####.....]  50%"},
		{90, 60, "[##########] 150%"},
		{0, 60, "[..........]   0%"},
		{1, 0, ""},
		{math.NaN(), 60, ""},
	}
	for _, tt := range tests {
		if got := bar(tt.v, tt.limit, 10); got != tt.want {
			t.Errorf("bar(%g, %g) = %q, want %q", tt.v, tt.limit, got, tt.want)
		}
	}
}

func BenchmarkFrame(b *testing.B) {
	s := snapshot()
	for b.Loop() {
		Frame(nil, s, 120)
	}
}
