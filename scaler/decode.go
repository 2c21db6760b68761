package scaler

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// ErrEmptyDocument is DecodeStrict's problem for a document with nothing in it (empty, only
// comments, or null).
var ErrEmptyDocument = errors.New("file is empty")

// DecodeStrict decodes a YAML or JSON document into the struct into points to, over the values
// it already holds (the caller's defaults), strictly: an unknown or duplicate field is a problem
// naming its path, and so is every duration field that is not a Go duration string ("50s"). It
// returns every problem it can find, or nil, and whether into was decoded through: when it was,
// the problems are unknown or duplicate fields only, and the caller may validate the value and
// report those problems beside its own. An empty document leaves into as it was and returns
// ErrEmptyDocument alone (not decoded), which a caller whose defaults make a complete value may
// ignore.
//
// It is the one decoder of the project's configuration files: the policy file (DecodePolicyFile)
// and the bench scenario (bench/sim.DecodeScenario).
func DecodeStrict(data []byte, into any) (problems []error, decoded bool) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return []error{fmt.Errorf("not valid YAML: %w", err)}, false
	}
	if strings.TrimSpace(string(j)) == "null" {
		return []error{ErrEmptyDocument}, false
	}
	var generic any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &generic); err != nil {
		return []error{fmt.Errorf("not valid YAML: %w", err)}, false
	}
	strict, err := kjson.UnmarshalStrict(j, into, kjson.DisallowUnknownFields, kjson.DisallowDuplicateFields)
	problems = append(problems, strict...)
	durations, unknown := pathProblems(generic, reflect.TypeOf(into).Elem(), "")
	if err != nil || len(durations) > 0 {
		// A value of the wrong type stops decoding: the rest cannot be judged, but every bad
		// duration and unknown field can (a bad duration is that error, reported with its path).
		problems = mergeUnique(problems, unknown)
		problems = append(problems, durations...)
		if len(durations) == 0 {
			problems = append(problems, err)
		}
		return problems, false
	}
	return problems, true
}

// mergeUnique appends to a the errors of b whose text a does not hold yet.
func mergeUnique(a, b []error) []error {
	seen := make(map[string]bool, len(a))
	for _, e := range a {
		seen[e.Error()] = true
	}
	for _, e := range b {
		if !seen[e.Error()] {
			a = append(a, e)
		}
	}
	return a
}

// isDuration reports whether t is the duration type of the configuration files.
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
	for _, f := range jsonFields(typ) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
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

// jsonFields lists the struct fields that carry a JSON name, those of embedded structs without a
// name of their own included (their fields sit in the same JSON object, as encoding/json reads
// them).
func jsonFields(typ reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct:
			out = append(out, jsonFields(f.Type)...)
		case name != "":
			out = append(out, f)
		}
	}
	return out
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
