package scaler

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/spf13/pflag"
)

func readOperationsDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDocsListEveryMetric: docs/operations.md and the registry name the same metrics.
func TestDocsListEveryMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := newRig(t, testConfig(), want(3))
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	r.c.deps.Metrics = m
	m.SetLeader(true)
	m.actuationError("default/hsds", "get-scale")
	m.observe("default/hsds", Outcome{DryRun: true, Direction: "up", DeletedPod: "x", Released: true, Reason: "r"})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var code []string
	for _, f := range families {
		code = append(code, f.GetName())
	}
	doc := regexp.MustCompile("`(hsds_scaler_[a-z_]+)`").FindAllStringSubmatch(readOperationsDoc(t), -1)
	var documented []string
	for _, d := range doc {
		if !slices.Contains(documented, d[1]) {
			documented = append(documented, d[1])
		}
	}
	sort.Strings(code)
	sort.Strings(documented)
	if diff := cmp.Diff(code, documented); diff != "" {
		t.Errorf("metrics (-registry +docs/operations.md):\n%s", diff)
	}
}

// TestDocsListEveryFlagGuardAndEvent: every flag with its default, guard and Event reason is in
// docs/operations.md.
func TestDocsListEveryFlagGuardAndEvent(t *testing.T) {
	doc := readOperationsDoc(t)
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	NewOptions().AddFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		row := "| `--" + f.Name + "` | "
		i := strings.Index(doc, row)
		if i < 0 {
			t.Errorf("flag --%s not in the flags table", f.Name)
			return
		}
		line := doc[i : i+strings.Index(doc[i:], "\n")]
		if f.DefValue != "" && !strings.Contains(line, f.DefValue) {
			t.Errorf("flag --%s: default %q not in %q", f.Name, f.DefValue, line)
		}
	})
	for _, g := range AllGuards {
		if !strings.Contains(doc, "`"+g+"`") {
			t.Errorf("guard %s not documented", g)
		}
	}
	for _, r := range []string{EventReasonRescaled, EventReasonScaleFailed, EventReasonWaitingForCapacity, EventReasonHPAConflict, EventReasonPodStuckNotReady, EventReasonStuckPodDeleted, EventReasonStuckRelease} {
		if !strings.Contains(doc, "| `"+r+"` |") {
			t.Errorf("event reason %s not in the events table", r)
		}
	}
	g := DefaultGuards()
	for name, d := range map[string]heuristics.Duration{"hpaCheckInterval": g.HPACheckInterval, "stuckNotReady": g.StuckNotReady, "stuckAfterReady": g.StuckAfterReady,
		"stuckRemedyInterval": g.StuckRemedyInterval, "settle": g.Settle, "pendingTimeout": g.PendingTimeout,
		"maxSampleAge": g.MaxSampleAge} {
		want := "`" + name + "` (" + shortDuration(d.Duration) + ")"
		if !strings.Contains(doc, want) {
			t.Errorf("guard default %s not documented as %q", name, want)
		}
	}
}

// shortDuration writes 300s as "5m", 60s as "60s" and 50s as "50s", as the docs do.
func shortDuration(d time.Duration) string {
	if d%time.Minute == 0 && d > time.Minute {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// TestPolicyDocListsEveryFieldWithItsDefault: the "Policy fields" table of docs/policy.md has one
// row per field of spec.policy (bounds and heuristics.Policy) with the code's default, and no row
// for a field that moved out (movedFields).
func TestPolicyDocListsEveryFieldWithItsDefault(t *testing.T) {
	b, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### Policy fields")
	end := strings.Index(doc[start:], "\n### ")
	if start < 0 || end < 0 {
		t.Fatal(`docs/policy.md has no "### Policy fields" section`)
	}
	table := doc[start : start+end]
	def := reflect.ValueOf(DefaultPolicyFile().Spec.Policy)
	var names []string
	for _, f := range jsonFields(def.Type()) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		names = append(names, name)
		row := regexp.MustCompile("(?m)^\\| `" + name + "` \\| [^|]+ \\| ([^|]+) \\|").FindStringSubmatch(table)
		if row == nil {
			t.Errorf("spec.policy.%s: no row in the Policy fields table", name)
			continue
		}
		v := def.FieldByIndex(fieldIndex(t, def.Type(), name))
		if got := strings.TrimSpace(row[1]); !sameDefault(v.Interface(), got) {
			t.Errorf("spec.policy.%s: docs say default %q, code has %v", name, got, v.Interface())
		}
	}
	for path := range movedFields {
		name := strings.TrimPrefix(path, "spec.policy.")
		if strings.Contains(table, "| `"+name+"` |") {
			t.Errorf("%s moved out of spec.policy but still has a row in the Policy fields table", name)
		}
	}
	if len(names) < 20 {
		t.Errorf("only %d fields found in spec.policy: %v", len(names), names)
	}
}

// fieldIndex finds the (possibly promoted) field of typ with JSON name name.
func fieldIndex(t *testing.T, typ reflect.Type, name string) []int {
	t.Helper()
	f, ok := typ.FieldByNameFunc(func(n string) bool {
		sf, ok := typ.FieldByName(n)
		json, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		return ok && json == name
	})
	if !ok {
		t.Fatalf("no field %s in %s", name, typ)
	}
	return f.Index
}

// sameDefault compares a code default with the docs' text ("60s", "10m", "0.01", "10").
func sameDefault(v any, doc string) bool {
	switch v := v.(type) {
	case heuristics.Duration:
		d, err := time.ParseDuration(doc)
		return err == nil && d == v.Duration
	default:
		f, err := strconv.ParseFloat(doc, 64)
		return err == nil && fmt.Sprint(f) == fmt.Sprint(v)
	}
}
