package scaler

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// The policy file's type (docs/policy.md, "Policy file").
const (
	PolicyAPIVersion = "hsds-autoscaler.io/v1alpha1"
	PolicyKind       = "ScalingPolicy"
)

// PolicyFile is the versioned policy file read by serve, dry-run and bench.
type PolicyFile struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   PolicyMetadata `json:"metadata"`
	Spec       PolicySpec     `json:"spec"`
}

// PolicyMetadata names the policy (optional).
type PolicyMetadata struct {
	Name string `json:"name,omitempty"`
}

// PolicySpec is the body of the policy file.
type PolicySpec struct {
	// Target is the object to scale (apiVersion, kind, namespace, name: all required).
	Target Target `json:"target"`
	// Selector selects the target's pods; empty: the scale subresource's status.selector.
	Selector string `json:"selector,omitempty"`
	// Policy is the "hsds" policy (heuristics.Policy), defaults from heuristics.DefaultPolicy.
	Policy heuristics.Policy `json:"policy"`
	// Guards configures the control loop's guards, defaults from DefaultGuards.
	Guards Guards `json:"guards"`
}

// PolicyError lists every problem of a policy file, one per line, each naming its field path.
type PolicyError struct {
	// Source is the file name ("" when decoded from bytes).
	Source   string
	Problems []error
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		fmt.Fprintf(&b, "policy file %s", e.Source)
	} else {
		b.WriteString("policy file")
	}
	fmt.Fprintf(&b, ": %d problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap gives errors.Is/As access to every problem.
func (e *PolicyError) Unwrap() []error { return e.Problems }

// DefaultPolicyFile returns a policy file holding every default and no target.
// Guards.MaxSampleAge is left 0 here: after decoding, 0 means "same as spec.policy.maxSampleAge".
func DefaultPolicyFile() PolicyFile {
	g := DefaultGuards()
	g.MaxSampleAge = heuristics.D(0)
	return PolicyFile{
		APIVersion: PolicyAPIVersion,
		Kind:       PolicyKind,
		Spec:       PolicySpec{Policy: heuristics.DefaultPolicy(), Guards: g},
	}
}

// TargetRule says whether a policy file must name the workload it scales (spec.target).
type TargetRule bool

// Target rules.
const (
	// TargetRequired: serve and dry-run --live scale (or would scale) spec.target.
	TargetRequired TargetRule = true
	// TargetOptional: bench and dry-run --trace run the policy on a simulated cluster, which is
	// the target; a spec.target given anyway is still validated.
	TargetOptional TargetRule = false
)

// LoadPolicyFile reads, strictly decodes and validates the policy file at path. The error, if
// any, is a *PolicyError naming every problem (the file's own read error aside).
func LoadPolicyFile(path string, target TargetRule) (*PolicyFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	pf, err := DecodePolicyFile(data, target)
	var pe *PolicyError
	if errors.As(err, &pe) {
		pe.Source = path
	}
	return pf, err
}

// DecodePolicyFile strictly decodes a policy file (YAML or JSON, DecodeStrict): unknown and
// duplicate fields are errors naming their path; absent fields take their defaults; the result is
// validated, spec.target as target says.
func DecodePolicyFile(data []byte, target TargetRule) (*PolicyFile, error) {
	pf := DefaultPolicyFile()
	pf.APIVersion, pf.Kind = "", ""
	problems, decoded := DecodeStrict(data, &pf)
	if !decoded {
		return nil, &PolicyError{Problems: problems}
	}
	if pf.Spec.Guards.MaxSampleAge.Duration == 0 {
		pf.Spec.Guards.MaxSampleAge = pf.Spec.Policy.MaxSampleAge
	}
	problems = append(problems, pf.problems(target)...)
	if len(problems) > 0 {
		return nil, &PolicyError{Problems: problems}
	}
	return &pf, nil
}

// Validate returns every problem of the policy file in one *PolicyError, or nil.
func (pf *PolicyFile) Validate(target TargetRule) error {
	if p := pf.problems(target); len(p) > 0 {
		return &PolicyError{Problems: p}
	}
	return nil
}

func (pf *PolicyFile) problems(target TargetRule) []error {
	var errs []error
	if pf.APIVersion != PolicyAPIVersion {
		errs = append(errs, fmt.Errorf("apiVersion: must be %q, got %q", PolicyAPIVersion, pf.APIVersion))
	}
	if pf.Kind != PolicyKind {
		errs = append(errs, fmt.Errorf("kind: must be %q, got %q", PolicyKind, pf.Kind))
	}
	if target == TargetRequired || pf.Spec.Target != (Target{}) {
		errs = append(errs, pf.Spec.Target.validate("spec.target")...)
	}
	if pf.Spec.Selector != "" {
		if _, err := labels.Parse(pf.Spec.Selector); err != nil {
			errs = append(errs, fmt.Errorf("spec.selector: %w", err))
		}
	}
	errs = append(errs, prefixAll("spec.policy.", pf.Spec.Policy.Validate())...)
	errs = append(errs, pf.Spec.Guards.validate("spec.guards")...)
	return errs
}

// prefixAll splits a joined error and prefixes each part with the field path prefix.
func prefixAll(prefix string, err error) []error {
	if err == nil {
		return nil
	}
	parts := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	out := make([]error, 0, len(parts))
	for _, p := range parts {
		out = append(out, fmt.Errorf("%s%w", prefix, p))
	}
	return out
}

// ControllerConfig is the loop configuration the policy file describes.
func (pf *PolicyFile) ControllerConfig(dryRun bool) ControllerConfig {
	return ControllerConfig{
		Target:      pf.Spec.Target,
		Selector:    pf.Spec.Selector,
		MinReplicas: pf.Spec.Policy.MinReplicas,
		MaxReplicas: pf.Spec.Policy.MaxReplicas,
		Guards:      pf.Spec.Guards,
		DryRun:      dryRun,
	}
}
