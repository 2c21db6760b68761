package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// InfoSample is what the agent uses from one HSDS GET /info answer (docs/hsds.md, "What HSDS exposes").
type InfoSample struct {
	NodeType  string // "sn" or "dn" as HSDS reports it ("" when absent)
	State     string // node.state, one of schema.States
	NodeCount float64
	StartTime float64
	// Requests is the sum of req_count.{GET,POST,PUT,DELETE}: gated requests, those the task gate
	// rejected included, those rejected for not being READY excluded.
	Requests float64
	// NumTasks is req_count.num_tasks, the SN task count sampled at the last gated request (stale).
	NumTasks float64
	// Warnings is log_stats.WARN: every gate rejection logs one WARN line (plus other warnings).
	Warnings float64
}

// infoJSON mirrors the fields of /info the agent reads; pointers tell "missing" from 0.
type infoJSON struct {
	Node *struct {
		Type      *string  `json:"type"`
		State     *string  `json:"state"`
		NodeCount *float64 `json:"node_count"`
		StartTime *float64 `json:"start_time"`
	} `json:"node"`
	ReqCount map[string]*float64 `json:"req_count"`
	LogStats map[string]*float64 `json:"log_stats"`
}

// requestMethods are the req_count keys summed into InfoSample.Requests.
func requestMethods() []string { return []string{"GET", "POST", "PUT", "DELETE"} }

// parseInfo decodes an HSDS /info body. Syntax errors are ReadErrorParse; missing fields, unknown
// states, and negative or non-finite numbers are ReadErrorInvalid. It never returns a partial sample.
func parseInfo(body []byte) (InfoSample, error) {
	var in infoJSON
	if err := json.Unmarshal(body, &in); err != nil {
		return InfoSample{}, &ScrapeError{Reason: ReadErrorParse, URL: "/info", Err: fmt.Errorf("decode /info: %w", err)}
	}
	s, err := infoFromJSON(in)
	if err != nil {
		return InfoSample{}, &ScrapeError{Reason: ReadErrorInvalid, URL: "/info", Err: err}
	}
	return s, nil
}

// infoFromJSON validates a decoded /info answer and returns every error found.
func infoFromJSON(in infoJSON) (InfoSample, error) {
	if in.Node == nil {
		return InfoSample{}, errors.New("missing node")
	}
	var errs []error
	var s InfoSample
	if in.Node.Type != nil {
		s.NodeType = *in.Node.Type
	}
	switch {
	case in.Node.State == nil:
		errs = append(errs, errors.New("missing node.state"))
	case !slices.Contains(schema.States[:], *in.Node.State):
		errs = append(errs, fmt.Errorf("unknown node.state %q", *in.Node.State))
	default:
		s.State = *in.Node.State
	}
	num := func(name string, p *float64, dst *float64) {
		if err := checkCount(name, p); err != nil {
			errs = append(errs, err)
			return
		}
		*dst = *p
	}
	num("node.node_count", in.Node.NodeCount, &s.NodeCount)
	if in.Node.StartTime != nil {
		num("node.start_time", in.Node.StartTime, &s.StartTime)
	}
	for _, m := range requestMethods() {
		var v float64
		num("req_count."+m, in.ReqCount[m], &v)
		s.Requests += v
	}
	if math.IsInf(s.Requests, 0) {
		errs = append(errs, errors.New("req_count sum is not finite"))
	}
	num("req_count.num_tasks", in.ReqCount["num_tasks"], &s.NumTasks)
	num("log_stats.WARN", in.LogStats["WARN"], &s.Warnings)
	if err := errors.Join(errs...); err != nil {
		return InfoSample{}, err
	}
	return s, nil
}

// checkCount rejects a missing, negative or non-finite number.
func checkCount(name string, p *float64) error {
	switch {
	case p == nil:
		return fmt.Errorf("missing %s", name)
	case math.IsNaN(*p) || math.IsInf(*p, 0):
		return fmt.Errorf("%s is not finite", name)
	case *p < 0:
		return fmt.Errorf("%s is negative (%g)", name, *p)
	}
	return nil
}
