package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/dashboards"
)

func main() {
	dir := flag.String("dir", "dashboards", "directory to write the dashboards and rules into")
	docs := flag.String("docs", "docs/dashboards.md", "Markdown file whose generated reference section to update; empty skips it")
	flag.Parse()
	if err := run(*dir, *docs); err != nil {
		klog.ErrorS(err, "Generation failed")
		os.Exit(1)
	}
}

func run(dir, docs string) error {
	o := dashboards.DefaultRuleOptions()
	files, err := dashboards.Files(o)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	for _, name := range dashboards.SortedNames(files) {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		klog.InfoS("Wrote file", "path", filepath.Join(dir, name))
	}
	if docs == "" {
		return nil
	}
	doc, err := os.ReadFile(docs)
	if err != nil {
		return fmt.Errorf("read %s: %w", docs, err)
	}
	out, err := dashboards.Splice(doc, dashboards.Reference(o))
	if err != nil {
		return fmt.Errorf("%s: %w", docs, err)
	}
	if err := os.WriteFile(docs, out, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", docs, err)
	}
	klog.InfoS("Wrote file", "path", docs)
	return nil
}
