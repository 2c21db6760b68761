package v1alpha1_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the CRD reference in docs/operations.md")

const (
	refBegin = "<!-- BEGIN generated CRD reference (go test ./api/v1alpha1 -update) -->"
	refEnd   = "<!-- END generated CRD reference -->"
)

// TestDocsCRDReference: docs/operations.md carries the field table generated from the CRD's
// schema (fix: go test ./api/v1alpha1 -run TestDocsCRDReference -update).
func TestDocsCRDReference(t *testing.T) {
	root := repoRoot(t)
	props := schemaProps(t) // the CRD schema's top level: spec, status
	var b strings.Builder
	b.WriteString(refBegin + "\n\n| field | type | default | validation | meaning |\n|---|---|---|---|---|\n")
	for _, top := range []string{"spec", "status"} {
		writeRows(&b, top, props[top])
	}
	b.WriteString("\n" + refEnd)
	want := b.String()

	path := filepath.Join(root, "docs/operations.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	i, j := strings.Index(text, refBegin), strings.Index(text, refEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/operations.md lacks the markers %q ... %q", refBegin, refEnd)
	}
	got := text[i : j+len(refEnd)]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(text[:i]+want+text[j+len(refEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/operations.md: the CRD reference is not the one the schema gives; run go test ./api/v1alpha1 -run TestDocsCRDReference -update")
}

// writeRows writes one row per field under path, depth first, in name order.
func writeRows(b *strings.Builder, path string, s map[string]any) {
	typ, _ := s["type"].(string)
	if items, ok := s["items"].(map[string]any); ok && typ == "array" {
		it, _ := items["type"].(string)
		typ = "[]" + it
	}
	if f, ok := s["format"].(string); ok {
		typ += " (" + f + ")"
	}
	def := ""
	if d, ok := s["default"]; ok {
		def = fmt.Sprintf("`%v`", d)
		if m, ok := d.(map[string]any); ok && len(m) == 0 {
			def = "`{}`"
		}
	}
	fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", path, typ, def, validation(s), firstSentence(s["description"]))
	if typ == "[]object" { // conditions: metav1.Condition, documented upstream
		return
	}
	props, _ := s["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		writeRows(b, path+"."+n, props[n].(map[string]any))
	}
}

func validation(s map[string]any) string {
	var parts []string
	if v, ok := s["minimum"]; ok {
		op := ">="
		if s["exclusiveMinimum"] == true {
			op = ">"
		}
		parts = append(parts, fmt.Sprintf("%s %v", op, v))
	}
	if v, ok := s["maximum"]; ok {
		op := "<="
		if s["exclusiveMaximum"] == true {
			op = "<"
		}
		parts = append(parts, fmt.Sprintf("%s %v", op, v))
	}
	if e, ok := s["enum"].([]any); ok {
		parts = append(parts, fmt.Sprintf("one of %v", e))
	}
	if req, ok := s["required"].([]any); ok {
		parts = append(parts, fmt.Sprintf("requires %v", req))
	}
	if rules, ok := s["x-kubernetes-validations"].([]any); ok {
		for _, r := range rules {
			m := r.(map[string]any)
			parts = append(parts, fmt.Sprintf("%v", m["message"]))
		}
	}
	return strings.ReplaceAll(strings.Join(parts, "; "), "|", "\\|")
}

func firstSentence(d any) string {
	s, _ := d.(string)
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return strings.ReplaceAll(s, "|", "\\|")
}
