package dashboards

// Queries returns every PromQL expression of the dashboards (panels and annotations) keyed by a
// readable name ("<file>: <panel title>: <ref>"). Grafana variables ($namespace, $pod, $target,
// $__rate_interval) are left in; see SubstituteVariables.
func Queries() map[string]string {
	out := map[string]string{}
	for file, s := range Specs() {
		for _, a := range s.Annotations {
			out[file+": annotation "+a.Name] = a.Expr
		}
		for _, row := range s.Rows {
			for _, p := range row.Panels {
				for i, q := range p.Queries {
					out[file+": "+p.Title+": "+refID(i)] = q.Expr
				}
			}
		}
	}
	return out
}

// RuleExprs returns every recording and alerting rule expression keyed by the rule's name.
func RuleExprs(o RuleOptions) map[string]string {
	out := map[string]string{}
	for _, g := range Rules(o).Groups {
		for _, r := range g.Rules {
			out[r.Record+r.Alert] = r.Expr
		}
	}
	return out
}

// RulesYAML renders the rule file for o (what alerts.yaml holds for DefaultRuleOptions).
func RulesYAML(o RuleOptions) ([]byte, error) { return marshalYAML(Rules(o)) }
