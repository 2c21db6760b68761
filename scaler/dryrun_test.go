package scaler

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

func TestWriteDryRunSteps(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := Outcome{Time: start.Add(90 * time.Second), Current: 2, Desired: 3, Reason: "overload", Guards: []string{"a", "b"},
		Acted: true, Ready: 2, Pending: 1, Decision: heuristics.Decision{Replicas: 4, Message: `say "hi"`}}
	var b bytes.Buffer
	steps := []DryRunStep{NewDryRunStep(o, start, false), NewDryRunStep(o, start, true)}
	if err := WriteDryRunSteps(&b, "text", steps); err != nil {
		t.Fatal(err)
	}
	want := `t=90 current=2 recommended=4 desired=3 reason=overload guards=a,b acted=true ready=2 pending=1 message="say \"hi\""` + "\n" +
		`t=90 time=2026-01-01T00:01:30Z current=2 recommended=4 desired=3 reason=overload guards=a,b acted=true ready=2 pending=1 message="say \"hi\""` + "\n"
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteDryRunSteps(&b, "json", nil); err != nil || b.String() != "[]\n" {
		t.Errorf("json of no steps = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := WriteDryRunSteps(&b, "json", steps); err != nil {
		t.Fatal(err)
	}
	var back []DryRunStep
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back) != 2 || back[0].Time != "" || back[1].Time == "" {
		t.Errorf("json round trip: %v %+v", err, back)
	}
}
