package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// TestDocsListEveryName: docs/metrics.md names every metric, label, error reason and flag, so code
// and docs cannot drift apart.
func TestDocsListEveryName(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	want := append(schemaNames(), schema.BuildInfo, schema.LabelCode, schema.LabelCause, schema.LabelNode, schema.LabelState,
		schema.LabelReason, schema.LabelSource, schema.LabelExact, schema.LabelVersion)
	want = append(want, ReadErrorReasons()...)
	want = append(want, schema.Causes[:]...)
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	NewOptions().AddFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) { want = append(want, "`--"+f.Name+"`") })
	for _, w := range want {
		if !strings.Contains(doc, w) {
			t.Errorf("docs/metrics.md does not mention %s", w)
		}
	}
	if strings.Contains(doc, "PLACEHOLDER") {
		t.Errorf("docs/metrics.md still has a placeholder")
	}
}
