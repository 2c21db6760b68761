package scaler

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// isDuration reports whether t is one of the duration types of the policy file.
func isDuration(t reflect.Type) bool {
	return t == reflect.TypeFor[heuristics.Duration]()
}

// pathProblems walks a generic JSON document (from yaml.YAMLToJSON) along the Go type typ and
// reports, each with its field path, every duration field whose value is not a Go duration string
// and every unknown field. The JSON decoder stops at the first bad duration and does not say where
// it was; this names all of them, and the unknown fields it would not have reached.
func pathProblems(doc any, typ reflect.Type, path string) (durations, unknown []error) {
	obj, ok := doc.(map[string]any)
	if !ok || typ.Kind() != reflect.Struct {
		return nil, nil
	}
	known := make(map[string]bool, typ.NumField())
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		known[name] = true
		v, present := obj[name]
		if !present {
			continue
		}
		p := join(path, name)
		if isDuration(f.Type) {
			if err := checkDuration(v); err != nil {
				durations = append(durations, fmt.Errorf("%s: %w", p, err))
			}
			continue
		}
		d, u := pathProblems(v, f.Type, p)
		durations, unknown = append(durations, d...), append(unknown, u...)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		unknown = append(unknown, fmt.Errorf("unknown field %q", join(path, k)))
	}
	return durations, unknown
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func checkDuration(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("duration must be a string such as \"50s\" or \"5m\", got %v", v)
	}
	if _, err := time.ParseDuration(s); err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. \"50s\", \"5m\")", s)
	}
	return nil
}
