package scaler

import (
	"context"
	"fmt"
)

// DryRunOnce reads the target once (scale subresource, HPAs, pods), asks the recommender and
// applies the guards, and returns what the controller would do, writing nothing: no scale write,
// no pod deletion, no Event. The rescale in progress is assumed settled (SettledAtStart), so the
// answer shows the recommendation rather than the start-up hold. A windowed recommender sees one
// snapshot only, so its Decision may be Valid=false ("not enough data"): that is the honest answer.
// It backs `hsds-autoscaler dry-run --live`.
func DryRunOnce(ctx context.Context, cfg ControllerConfig, deps Deps) (Outcome, error) {
	cfg.DryRun = true
	cfg.SettledAtStart = true
	c, err := NewController(cfg, deps)
	if err != nil {
		return Outcome{}, err
	}
	o, err := c.Step(ctx)
	if err != nil {
		return o, fmt.Errorf("dry run: %w", err)
	}
	return o, nil
}
