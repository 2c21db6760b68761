// Package crdschema reads the HSDSAutoscaler CRD's OpenAPI schema as generated into deploy/base,
// for the tests that hold the Go types, the defaults and the docs against it (one reader of the
// file, used by api/v1alpha1's and scaler/autoscalers' tests).
package crdschema

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// File is the generated CRD, relative to the repository root.
const File = "deploy/base/crd/hsds-autoscaler.io_hsdsautoscalers.yaml"

// Props returns the properties of the object at path (property names from the schema's top
// level, e.g. "spec", "guards") in the CRD under the repository root, each as its schema map
// ("type", "default", "description", ...).
func Props(root string, path ...string) (map[string]map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(root, File))
	if err != nil {
		return nil, err
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", File, err)
	}
	if len(crd.Spec.Versions) == 0 {
		return nil, fmt.Errorf("%s: no versions", File)
	}
	node := crd.Spec.Versions[0].Schema.OpenAPIV3Schema
	props, err := properties(node, "the top level")
	if err != nil {
		return nil, err
	}
	for i, p := range path {
		next, ok := props[p]
		if !ok {
			return nil, fmt.Errorf("%s: no property %q at %v", File, p, path[:i])
		}
		if props, err = properties(next, fmt.Sprint(path[:i+1])); err != nil {
			return nil, err
		}
	}
	return props, nil
}

// properties returns the schema node's "properties", each as a map.
func properties(node map[string]any, where string) (map[string]map[string]any, error) {
	raw, ok := node["properties"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: no properties at %s", File, where)
	}
	out := make(map[string]map[string]any, len(raw))
	for k, v := range raw {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: property %s at %s is not an object", File, k, where)
		}
		out[k] = m
	}
	return out, nil
}
