package dashboards

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Markers of the generated part of docs/dashboards.md.
const (
	RefBegin = "<!-- BEGIN GENERATED REFERENCE (go generate ./dashboards) -->"
	RefEnd   = "<!-- END GENERATED REFERENCE -->"
)

// Reference renders the panel and alert reference of docs/dashboards.md as Markdown.
func Reference(o RuleOptions) []byte {
	var b bytes.Buffer
	for _, f := range []string{FileLoad, FileAutoscaler} {
		writeDashboardRef(&b, f, Specs()[f])
	}
	b.WriteString("### Alerts (`dashboards/alerts.yaml`)\n\n")
	for _, a := range Alerts(o) {
		fmt.Fprintf(&b, "#### %s\n\nSeverity `%s`, for `%s`. %s\n\n```promql\n%s\n```\n\n",
			a.Name, a.Severity, dur(a.For), readable(a.Description), a.Expr)
		fmt.Fprintf(&b, "First response: %s Runbook: [docs/operations.md#%s](operations.md#%s).\n\n",
			a.Response, strings.ToLower(a.Name), strings.ToLower(a.Name))
	}
	b.WriteString("### Recording rules\n\n")
	for _, r := range RecordingRules(o) {
		fmt.Fprintf(&b, "- `%s` = `%s`\n", r.Record, r.Expr)
	}
	b.WriteString("\n")
	return b.Bytes()
}

func writeDashboardRef(b *bytes.Buffer, file string, s Spec) {
	fmt.Fprintf(b, "### %s (`dashboards/%s`, uid `%s`)\n\n%s\n\n", s.Title, file, s.UID, s.Description)
	for _, a := range s.Annotations {
		fmt.Fprintf(b, "Annotation **%s**: `%s`.\n\n", a.Name, a.Expr)
	}
	for _, row := range s.Rows {
		fmt.Fprintf(b, "#### Row: %s\n\n", row.Title)
		for _, p := range row.Panels {
			kind := p.Kind
			if kind == "" {
				kind = KindTimeseries
			}
			fmt.Fprintf(b, "- **%s** (%s). %s\n", p.Title, kind, p.Description)
			for _, q := range p.Queries {
				fmt.Fprintf(b, "  - `%s`\n", q.Expr)
			}
		}
		b.WriteString("\n")
	}
}

// readable replaces {{ $labels.x }} with <x> for prose.
func readable(s string) string {
	return labelRefRE.ReplaceAllStringFunc(s, func(ref string) string {
		return "<" + labelRefRE.FindStringSubmatch(ref)[1] + ">"
	})
}

// ErrNoMarkers is returned when a document lacks the reference markers.
var ErrNoMarkers = errors.New("document lacks the generated reference markers")

// Splice replaces what lies between RefBegin and RefEnd in doc with ref.
func Splice(doc, ref []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte(RefBegin))
	j := bytes.Index(doc, []byte(RefEnd))
	if i < 0 || j < i {
		return nil, ErrNoMarkers
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(RefBegin)])
	out.WriteString("\n\n")
	out.Write(ref)
	out.Write(doc[j:])
	return out.Bytes(), nil
}
