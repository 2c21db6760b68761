package dashboards

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Helpers for checking the dashboards and rules against a running Prometheus (the tests here and
// the end-to-end suite use them).

// SubstituteVariables replaces the dashboards' Grafana variables with values Prometheus accepts:
// every namespace, pod and target, and a 5 s rate interval (scrapes every second).
func SubstituteVariables(expr string) string {
	return strings.NewReplacer("$__rate_interval", "5s", "$namespace", ".*", "$pod", ".*", "$target", ".*").Replace(expr)
}

// SeriesCount runs expr as an instant query at `at` and returns how many series it returned (1 for
// a scalar); an expression that does not parse is an error.
func SeriesCount(ctx context.Context, p v1.API, expr string, at time.Time) (int, error) {
	v, _, err := p.Query(ctx, expr, at)
	if err != nil {
		return 0, fmt.Errorf("query %q: %w", expr, err)
	}
	switch r := v.(type) {
	case model.Vector:
		return len(r), nil
	case model.Matrix:
		return len(r), nil
	case *model.Scalar:
		return 1, nil
	}
	return 0, fmt.Errorf("query %q: unexpected result type %s", expr, v.Type())
}

// FiringAlerts returns the names of the alerts firing in Prometheus, sorted, without duplicates.
func FiringAlerts(ctx context.Context, p v1.API) ([]string, error) {
	res, err := p.Alerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	var out []string
	for _, a := range res.Alerts {
		if name := string(a.Labels[model.AlertNameLabel]); a.State == v1.AlertStateFiring && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}
