// Package frontier builds bench's offline frontier: for one replay (a trace, scaled, and a seed)
// a family of replica schedules that know the whole trace in advance, each to be replayed in the
// same unmodified simulator with the same seed. Two kinds:
//   - DP schedules: a dynamic program over replica levels per control interval minimising
//     pod-seconds + λ·expected failures (Plan), one schedule per λ of a sweep, with the costs the
//     simulator itself shows (Costs, measured by MeasureCosts: its failure curve per pod load, the
//     failures a replica change costs in each direction, the pod start-up, and the VMs that
//     decide when a new pod can start, see Emit);
//   - fixed counts: every replica count from min to max, all along.
//
// Where the replayed points land (failures vs pod-seconds) is the frontier a policy is measured
// against (Distance). Everything here but MeasureCosts is a pure function of its arguments.
package frontier
