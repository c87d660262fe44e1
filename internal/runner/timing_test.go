package runner

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/internal/results"
)

func TestWriteTimes(t *testing.T) {
	var b bytes.Buffer
	WriteTimes(&b, []results.ScenarioTime{
		{Scenario: "steady/tokens=100", WallS: 100.4, EstimatedS: 95, Turns: 33},
		{Scenario: "cluster", WallS: 50, EstimatedS: 53.5},
	}, 200*time.Second)
	got := b.String()
	for _, want := range []string{
		"time per scenario (wall clock of this run, one measurement each, 1 s resolution",
		"  scenario              wall     plan  turns  share\n",
		"  steady/tokens=100    1m40s    1m35s     33   50 %\n",
		"  cluster                50s      54s      0   25 %\n",
		"  all scenarios        2m30s    2m29s\n",
		"  run total            3m20s\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	b.Reset()
	WriteTimes(&b, nil, time.Second)
	if b.Len() != 0 {
		t.Errorf("a run without scenarios printed %q", b.String())
	}
}
