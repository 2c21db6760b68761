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
	// Policy is the target's bounds and the "hsds" policy's tunables.
	Policy PolicySection `json:"policy"`
	// Guards configures the control loop's guards, defaults from DefaultGuards.
	Guards Guards `json:"guards"`
}

// PolicySection is spec.policy: the target's replica bounds, which belong to the safety envelope
// (the scaler enforces them, guard "bounds", and passes them to the policy in the Snapshot for
// sizing), and the "hsds" policy's tunables (heuristics.Policy, defaults from
// heuristics.DefaultPolicy), side by side in one YAML map as before.
type PolicySection struct {
	// MinReplicas and MaxReplicas bound every write (defaults 1 and 10).
	MinReplicas       int32 `json:"minReplicas"`
	MaxReplicas       int32 `json:"maxReplicas"`
	heuristics.Policy `json:",inline"`
}

// Default bounds (docs/policy.md).
const (
	DefaultMinReplicas = 1
	DefaultMaxReplicas = 10
)

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
func DefaultPolicyFile() PolicyFile {
	return PolicyFile{
		APIVersion: PolicyAPIVersion,
		Kind:       PolicyKind,
		Spec: PolicySpec{
			Policy: PolicySection{MinReplicas: DefaultMinReplicas, MaxReplicas: DefaultMaxReplicas, Policy: heuristics.DefaultPolicy()},
			Guards: DefaultGuards(),
		},
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
	problems = explainMoved(problems)
	if !decoded {
		return nil, &PolicyError{Problems: problems}
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
	p := pf.Spec.Policy
	if p.MinReplicas < 1 {
		errs = append(errs, fmt.Errorf("spec.policy.minReplicas: must be >= 1, got %d", p.MinReplicas))
	}
	if p.MaxReplicas < p.MinReplicas {
		errs = append(errs, fmt.Errorf("spec.policy.maxReplicas: must be >= minReplicas (%d), got %d", p.MinReplicas, p.MaxReplicas))
	}
	errs = append(errs, prefixAll("spec.policy.", pf.Spec.Policy.Validate())...)
	errs = append(errs, pf.Spec.Guards.validate("spec.guards")...)
	return errs
}

// movedFields are the policy file fields that moved, with where to: each rule has one owner
// (docs/policy.md, "Who owns what"), so the policy's copies of the scaler's settings are gone.
var movedFields = map[string]string{
	"spec.policy.settleTime":          "moved to spec.guards.settle (one settle time, owned by the scaler; default 50s)",
	"spec.policy.maxSampleAge":        "moved to spec.guards.maxSampleAge (one sample-age limit, owned by the scaler; default 60s)",
	"spec.guards.stuckDeleteInterval": "renamed spec.guards.stuckRemedyInterval (it also spaces the changes releaseStuck makes; default 5m)",
}

// explainMoved replaces the "unknown field" problem of a moved field with one that says where it
// went.
func explainMoved(problems []error) []error {
	out := problems[:0:0]
	seen := map[string]bool{}
	for _, p := range problems {
		moved := false
		for path, hint := range movedFields {
			if strings.Contains(p.Error(), `unknown field "`+path+`"`) {
				moved = true
				if !seen[path] {
					seen[path] = true
					out = append(out, fmt.Errorf("%s: %s", path, hint))
				}
			}
		}
		if !moved {
			out = append(out, p)
		}
	}
	return out
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
