package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const docsPath = "../docs/dashboards.md"

// TestGeneratedFilesAreCurrent fails when a generated file or the docs reference is stale.
// Regenerate with `go generate ./dashboards` (or go test ./dashboards -run Current -update).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	o := DefaultRuleOptions()
	files, err := Files(o)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	wantDoc, err := Splice(doc, Reference(o))
	if err != nil {
		t.Fatal(err)
	}
	files[docsPath] = wantDoc
	for _, name := range SortedNames(files) {
		if *update {
			if err := os.WriteFile(name, files[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run go generate ./dashboards)", err)
		}
		if diff := cmp.Diff(string(files[name]), string(got)); diff != "" {
			t.Errorf("%s is stale; run go generate ./dashboards (-want +got):\n%s", name, diff)
		}
	}
}

// TestDashboardFiles checks what Grafana needs to provision each file.
func TestDashboardFiles(t *testing.T) {
	for _, file := range []string{FileLoad, FileAutoscaler} {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var d Dashboard
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&d); err != nil {
				t.Fatalf("decode: %v", err)
			}
			checkDashboard(t, d)
		})
	}
}

func checkDashboard(t *testing.T, d Dashboard) {
	t.Helper()
	if d.UID == "" || d.Title == "" || d.SchemaVersion != SchemaVersion || d.ID != nil {
		t.Errorf("uid %q title %q schemaVersion %d id %v: want uid, title, schemaVersion %d and id null",
			d.UID, d.Title, d.SchemaVersion, d.ID, SchemaVersion)
	}
	vars := map[string]Variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if ds := vars[DatasourceVar]; ds.Type != "datasource" || ds.Query != "prometheus" {
		t.Errorf("variable %s = %+v, want type datasource, query prometheus", DatasourceVar, ds)
	}
	for _, name := range []string{"namespace", "pod"} {
		if v := vars[name]; v.Type != "query" || v.Datasource == nil || v.Datasource.UID != "${datasource}" {
			t.Errorf("variable %s = %+v, want a query variable on ${datasource}", name, v)
		}
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X < 0 || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q gridPos %+v outside the 24 columns", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 || p.Description == "" {
			t.Errorf("panel %q: want datasource ${datasource}, a description and at least one query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" || tg.Expr == "" {
				t.Errorf("panel %q target %s: want datasource ${datasource} and an expression", p.Title, tg.RefID)
			}
		}
	}
	checkNoOverlap(t, d.Panels)
}

func checkNoOverlap(t *testing.T, ps []Panel) {
	t.Helper()
	for i, a := range ps {
		for _, b := range ps[i+1:] {
			ga, gb := a.GridPos, b.GridPos
			if ga.X < gb.X+gb.W && gb.X < ga.X+ga.W && ga.Y < gb.Y+gb.H && gb.Y < ga.Y+ga.H {
				t.Errorf("panels %q %+v and %q %+v overlap", a.Title, ga, b.Title, gb)
			}
		}
	}
}

func TestBuildLayout(t *testing.T) {
	s := Spec{UID: "u", Title: "t", Rows: []RowSpec{{Title: "r", Panels: []PanelSpec{
		{Title: "a", Kind: KindStat, Width: 20}, {Title: "b", Width: 8}, {Title: "c"}, {Title: "d", Width: 24},
	}}}}
	var got []GridPos
	for _, p := range s.Build().Panels {
		got = append(got, p.GridPos)
	}
	want := []GridPos{{H: 1, W: 24}, {H: 4, W: 20, Y: 1}, {H: 8, W: 8, Y: 5}, {H: 8, W: 12, X: 8, Y: 5}, {H: 8, W: 24, Y: 13}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
}

func TestRuleOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*RuleOptions)
		want   []string
	}{
		{"defaults", func(*RuleOptions) {}, nil},
		{"every error at once", func(o *RuleOptions) {
			o.RateWindow, o.NoLeaderFor, o.OverloadFor = 0, 1500*time.Millisecond, -time.Minute
			o.OverloadThreshold, o.AdapterErrorRatio, o.RunbookBase = -1, 1, ""
		}, []string{"RateWindow 0s", "OverloadFor -1m0s", "NoLeaderFor 1.5s", "OverloadThreshold -1", "AdapterErrorRatio 1", "RunbookBase is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultRuleOptions()
			tc.modify(&o)
			err := o.Validate()
			var got []string
			if err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					got = append(got, strings.SplitN(line, ":", 2)[0])
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
			if _, ferr := Files(o); (ferr != nil) != (err != nil) {
				t.Errorf("Files error %v, Validate error %v: want both or neither", ferr, err)
			}
		})
	}
}

func TestSplice(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
		err             error
	}{
		{"replaces", "a\n" + RefBegin + "\nold\n" + RefEnd + "\nb\n", "a\n" + RefBegin + "\n\nNEW\n" + RefEnd + "\nb\n", nil},
		{"no markers", "a\n", "", ErrNoMarkers},
		{"end before begin", RefEnd + RefBegin, "", ErrNoMarkers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Splice([]byte(tc.doc), []byte("NEW\n"))
			if !errors.Is(err, tc.err) || string(got) != tc.want {
				t.Errorf("Splice = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// TestDocsMentionEveryPanelAndAlert guards the hand-written part of docs/dashboards.md too: every
// alert has a section in the generated reference, and the docs name both dashboard files.
func TestDocsMentionEveryPanelAndAlert(t *testing.T) {
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{FileLoad, FileAutoscaler, FileAlerts, "go generate ./dashboards", filepath.Join("provisioning", "grafana")}
	for _, a := range Alerts(DefaultRuleOptions()) {
		want = append(want, "#### "+a.Name)
	}
	for _, s := range Specs() {
		for _, a := range s.Annotations {
			want = append(want, "Annotation **"+a.Name+"**")
		}
		for _, row := range s.Rows {
			for _, p := range row.Panels {
				want = append(want, "- **"+p.Title+"**")
			}
		}
	}
	for _, w := range want {
		if !bytes.Contains(doc, []byte(w)) {
			t.Errorf("docs/dashboards.md does not mention %q", w)
		}
	}
}

// TestRunbooksResolve: every alert's runbook_url anchor is a heading of docs/operations.md.
func TestRunbooksResolve(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "#") {
			anchors[strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))] = true
		}
	}
	o := DefaultRuleOptions()
	for _, a := range Alerts(o) {
		url := o.Runbook(a.Name)
		i := strings.LastIndex(url, "#")
		if i < 0 || !strings.Contains(url, "operations.md") || !anchors[url[i+1:]] {
			t.Errorf("alert %s: runbook %q has no matching heading in docs/operations.md", a.Name, url)
		}
	}
}

func BenchmarkFiles(b *testing.B) {
	o := DefaultRuleOptions()
	for b.Loop() {
		if _, err := Files(o); err != nil {
			b.Fatal(err)
		}
	}
}
