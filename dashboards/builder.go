package dashboards

import (
	"fmt"
	"strings"
)

// Query is one PromQL query of a panel and its legend. Queries may use the template variables
// $namespace, $pod, $target and Grafana's $__rate_interval.
type Query struct {
	Expr   string
	Legend string
}

// Panel kinds.
const (
	KindTimeseries = "timeseries"
	KindStat       = "stat"
	KindTable      = "table"
)

// PanelSpec is one panel before layout.
type PanelSpec struct {
	Title string
	// Description is shown in Grafana's panel info and in docs/dashboards.md ("what to look for").
	Description string
	Kind        string // KindTimeseries (default), KindStat or KindTable
	Unit        string
	Width       int  // grid columns out of 24; default 12
	Stack       bool // stack the series (timeseries)
	Min, Max    *float64
	Queries     []Query
	Overrides   []Override
}

// RowSpec is a titled row of panels.
type RowSpec struct {
	Title  string
	Panels []PanelSpec
}

// Spec is a dashboard before layout.
type Spec struct {
	UID, Title, Description string
	Tags                    []string
	Variables               []Variable
	Annotations             []Annotation
	Rows                    []RowSpec
}

// panel heights by kind.
func height(kind string) int {
	if kind == KindStat {
		return 4
	}
	return 8
}

// Build lays the rows out on the grid and returns the dashboard.
func (s Spec) Build() Dashboard {
	d := Dashboard{
		Annotations:   Annotations{List: append([]Annotation{builtinAnnotation()}, s.Annotations...)},
		Description:   s.Description,
		Editable:      true,
		GraphTooltip:  1,
		Links:         []any{},
		Refresh:       "30s",
		SchemaVersion: SchemaVersion,
		Tags:          s.Tags,
		Templating:    Templating{List: s.Variables},
		Time:          TimeRange{From: "now-6h", To: "now"},
		Title:         s.Title,
		UID:           s.UID,
		Version:       1,
	}
	id, y := 1, 0
	for _, row := range s.Rows {
		collapsed := false
		d.Panels = append(d.Panels, Panel{Collapsed: &collapsed, GridPos: GridPos{H: 1, W: 24, Y: y}, ID: id,
			Title: row.Title, Type: "row"})
		id, y = id+1, y+1
		x, lineH := 0, 0
		for _, ps := range row.Panels {
			w := ps.Width
			if w == 0 {
				w = 12
			}
			if x+w > 24 {
				x, y, lineH = 0, y+lineH, 0
			}
			h := height(ps.Kind)
			d.Panels = append(d.Panels, ps.panel(id, GridPos{H: h, W: w, X: x, Y: y}))
			id, x, lineH = id+1, x+w, max(lineH, h)
		}
		y += lineH
	}
	return d
}

func (ps PanelSpec) panel(id int, pos GridPos) Panel {
	kind := ps.Kind
	if kind == "" {
		kind = KindTimeseries
	}
	p := Panel{Datasource: promDS(), Description: ps.Description, GridPos: pos, ID: id, Title: ps.Title, Type: kind}
	fc := &FieldConfig{Defaults: FieldDefaults{Unit: ps.Unit, Min: ps.Min, Max: ps.Max}, Overrides: ps.Overrides}
	if fc.Overrides == nil {
		fc.Overrides = []Override{}
	}
	switch kind {
	case KindTimeseries:
		stacking := "none"
		if ps.Stack {
			stacking = "normal"
		}
		fc.Defaults.Custom = map[string]any{"drawStyle": "line", "fillOpacity": 10, "lineWidth": 1,
			"showPoints": "never", "spanNulls": false, "stacking": map[string]any{"group": "A", "mode": stacking}}
		p.Options = map[string]any{"legend": map[string]any{"calcs": []string{"lastNotNull", "max"},
			"displayMode": "table", "placement": "bottom", "showLegend": true},
			"tooltip": map[string]any{"mode": "multi", "sort": "desc"}}
	case KindStat:
		p.Options = map[string]any{"colorMode": "value", "graphMode": "area", "justifyMode": "auto",
			"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
			"textMode":      "auto"}
	case KindTable:
		p.Options = map[string]any{"showHeader": true}
	}
	p.FieldConfig = fc
	for i, q := range ps.Queries {
		t := Target{Datasource: promDS(), Expr: q.Expr, LegendFormat: q.Legend, Range: true, RefID: refID(i)}
		if kind == KindTable {
			t.Format, t.Instant, t.Range = "table", true, false
		}
		p.Targets = append(p.Targets, t)
	}
	return p
}

func refID(i int) string { return string(rune('A' + i)) }

func builtinAnnotation() Annotation {
	return Annotation{BuiltIn: 1, Datasource: &Datasource{Type: "grafana", UID: "-- Grafana --"}, Enable: true,
		Hide: true, IconColor: "rgba(0, 211, 255, 1)", Name: "Annotations & Alerts", Type: "dashboard"}
}

// promAnnotation is an annotation drawn wherever expr returns a sample.
func promAnnotation(name, expr, title, text, color string) Annotation {
	return Annotation{Datasource: promDS(), Enable: true, Expr: expr, IconColor: color, Name: name, Step: "1m",
		TextFormat: text, TitleFormat: title}
}

func datasourceVariable() Variable {
	return Variable{Current: map[string]any{}, Label: "Data source", Name: DatasourceVar, Options: []any{},
		Query: "prometheus", Type: "datasource"}
}

// queryVariable is a multi-value variable filled by label_values(series, label).
func queryVariable(name, label, series, labelName string) Variable {
	def := fmt.Sprintf("label_values(%s, %s)", series, labelName)
	return Variable{AllValue: ".*", Current: map[string]any{}, Datasource: promDS(), Definition: def,
		IncludeAll: true, Label: label, Multi: true, Name: name, Options: []any{},
		Query:   map[string]any{"qryType": 1, "query": def, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
		Refresh: 2, Sort: 1, Type: "query"}
}

// sel returns a label matcher list: the given variables as regex matchers, then extra matchers.
func sel(vars []string, extra ...string) string {
	ms := make([]string, 0, len(vars)+len(extra))
	for _, v := range vars {
		ms = append(ms, fmt.Sprintf(`%s=~"$%s"`, v, v))
	}
	return "{" + strings.Join(append(ms, extra...), ", ") + "}"
}

func ptr[T any](v T) *T { return &v }

// dashedOverride draws the series whose display name matches re as dashed lines without fill.
func dashedOverride(re string) Override {
	return Override{
		Matcher: map[string]any{"id": "byRegexp", "options": re},
		Properties: []map[string]any{
			{"id": "custom.lineStyle", "value": map[string]any{"dash": []int{10, 10}, "fill": "dash"}},
			{"id": "custom.fillOpacity", "value": 0},
			{"id": "custom.stacking", "value": map[string]any{"group": "A", "mode": "none"}},
		},
	}
}
