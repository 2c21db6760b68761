package dashboards

// The subset of Grafana's dashboard JSON model (schemaVersion 39, Grafana 10/11) that the
// generated dashboards use. Field order is the JSON order, so the files diff well.

// SchemaVersion is the Grafana dashboard schema version written into every dashboard.
const SchemaVersion = 39

// DatasourceVar is the name of the Prometheus data source template variable.
const DatasourceVar = "datasource"

// Datasource refers to the data source chosen in the ${datasource} variable.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func promDS() *Datasource { return &Datasource{Type: "prometheus", UID: "${" + DatasourceVar + "}"} }

// Dashboard is one Grafana dashboard.
type Dashboard struct {
	Annotations   Annotations `json:"annotations"`
	Description   string      `json:"description"`
	Editable      bool        `json:"editable"`
	GraphTooltip  int         `json:"graphTooltip"`
	ID            *int        `json:"id"`
	Links         []any       `json:"links"`
	Panels        []Panel     `json:"panels"`
	Refresh       string      `json:"refresh"`
	SchemaVersion int         `json:"schemaVersion"`
	Tags          []string    `json:"tags"`
	Templating    Templating  `json:"templating"`
	Time          TimeRange   `json:"time"`
	Timezone      string      `json:"timezone"`
	Title         string      `json:"title"`
	UID           string      `json:"uid"`
	Version       int         `json:"version"`
}

// Annotations holds the dashboard's annotation queries.
type Annotations struct {
	List []Annotation `json:"list"`
}

// Annotation is one annotation query (built-in or Prometheus).
type Annotation struct {
	BuiltIn     int         `json:"builtIn,omitempty"`
	Datasource  *Datasource `json:"datasource"`
	Enable      bool        `json:"enable"`
	Expr        string      `json:"expr,omitempty"`
	Hide        bool        `json:"hide"`
	IconColor   string      `json:"iconColor"`
	Name        string      `json:"name"`
	Step        string      `json:"step,omitempty"`
	TagKeys     string      `json:"tagKeys,omitempty"`
	TextFormat  string      `json:"textFormat,omitempty"`
	TitleFormat string      `json:"titleFormat,omitempty"`
	Type        string      `json:"type,omitempty"`
	UseValueFor bool        `json:"useValueForTime,omitempty"`
}

// TimeRange is the default time range.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Templating holds the template variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Variable is one template variable (data source or query).
type Variable struct {
	AllValue   string         `json:"allValue,omitempty"`
	Current    map[string]any `json:"current"`
	Datasource *Datasource    `json:"datasource,omitempty"`
	Definition string         `json:"definition,omitempty"`
	Hide       int            `json:"hide"`
	IncludeAll bool           `json:"includeAll"`
	Label      string         `json:"label"`
	Multi      bool           `json:"multi"`
	Name       string         `json:"name"`
	Options    []any          `json:"options"`
	Query      any            `json:"query"`
	Refresh    int            `json:"refresh"`
	Regex      string         `json:"regex"`
	Sort       int            `json:"sort,omitempty"`
	Type       string         `json:"type"`
}

// GridPos places a panel on the 24-column grid.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Panel is a row or a visualization.
type Panel struct {
	Collapsed   *bool        `json:"collapsed,omitempty"`
	Datasource  *Datasource  `json:"datasource,omitempty"`
	Description string       `json:"description,omitempty"`
	FieldConfig *FieldConfig `json:"fieldConfig,omitempty"`
	GridPos     GridPos      `json:"gridPos"`
	ID          int          `json:"id"`
	Options     any          `json:"options,omitempty"`
	Panels      []Panel      `json:"panels,omitempty"`
	Targets     []Target     `json:"targets,omitempty"`
	Title       string       `json:"title"`
	Type        string       `json:"type"`
}

// FieldConfig sets units, ranges and per-series overrides.
type FieldConfig struct {
	Defaults  FieldDefaults `json:"defaults"`
	Overrides []Override    `json:"overrides"`
}

// FieldDefaults are the defaults of every field of a panel.
type FieldDefaults struct {
	Custom   map[string]any `json:"custom,omitempty"`
	Decimals *int           `json:"decimals,omitempty"`
	Mappings []any          `json:"mappings,omitempty"`
	Max      *float64       `json:"max,omitempty"`
	Min      *float64       `json:"min,omitempty"`
	Unit     string         `json:"unit,omitempty"`
}

// Override changes the properties of the series a matcher selects.
type Override struct {
	Matcher    map[string]any   `json:"matcher"`
	Properties []map[string]any `json:"properties"`
}

// Target is one PromQL query of a panel.
type Target struct {
	Datasource   *Datasource `json:"datasource"`
	Expr         string      `json:"expr"`
	Format       string      `json:"format,omitempty"`
	Instant      bool        `json:"instant,omitempty"`
	LegendFormat string      `json:"legendFormat"`
	Range        bool        `json:"range"`
	RefID        string      `json:"refId"`
}
