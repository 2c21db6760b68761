package realhsds

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestParseProcStat: utime + stime in 1/100 s, counted from the command name's last ')' (a
// name may hold spaces and parentheses); malformed lines are errors, not zeros.
func TestParseProcStat(t *testing.T) {
	const tail = " S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 1 0 100 1000 10"
	for _, tc := range []struct {
		name, line string
		want       time.Duration
		err        bool
	}{
		{"plain", "42 (python3)" + tail, 1750 * time.Millisecond, false},
		{"name with spaces and parens", "42 (a) b (c d)" + tail, 1750 * time.Millisecond, false},
		{"no name", "42 python3" + tail, 0, true},
		{"too short", "42 (python3) S 1 2 3", 0, true},
		{"not a number", "42 (python3) S 1 2 3 4 5 6 7 8 9 10 x 25", 0, true},
		{"negative", "42 (python3) S 1 2 3 4 5 6 7 8 9 10 -1 25", 0, true},
		{"huge", "42 (python3) S 1 2 3 4 5 6 7 8 9 10 9223372036854775807 25", 0, true},
	} {
		got, err := parseProcStat([]byte(tc.line))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestProcessCPUOfThisProcess: the test's own process has used some CPU, and a missing process
// is an error.
func TestProcessCPUOfThisProcess(t *testing.T) {
	d, err := ProcessCPU(os.Getpid())
	if err != nil || d < 0 {
		t.Fatalf("ProcessCPU(self) = %v, %v", d, err)
	}
	if _, err := ProcessCPU(1 << 30); err == nil {
		t.Error("ProcessCPU of a pid that cannot exist: no error")
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("42 (python3) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 1 0 100 1000 10"))
	f.Add([]byte("1 (a) b)) S 0 0 0 0 0 0 0 0 0 0 0 0"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := parseProcStat(raw)
		if err == nil && d < 0 {
			t.Fatalf("negative CPU time %v from %q", d, raw)
		}
	})
}

// TestLoadAverage: a number on Linux, where every real test runs.
func TestLoadAverage(t *testing.T) {
	if v, err := strconv.ParseFloat(LoadAverage(), 64); err != nil || v < 0 {
		t.Errorf("LoadAverage() = %q: want a non-negative number", LoadAverage())
	}
}
