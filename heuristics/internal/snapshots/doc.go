// Package snapshots builds heuristics.Snapshots for the tests of the policies: ready pods with
// given figures, uniform clusters, and seeded random sequences with every pod state (for the
// property tests). The tests of heuristics/baseline and heuristics' external tests use it; an
// in-package heuristics test cannot (it would import heuristics twice), so heuristics keeps a
// minimal readyPod/uniform of its own for those.
package snapshots
