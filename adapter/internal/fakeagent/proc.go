package fakeagent

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPUTime is the CPU time (user + system) this process has used.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// StatusKB reads a field (VmRSS, VmHWM) of /proc/<pid>/status in KiB; pid 0 is this process.
// It returns -1 when the field cannot be read.
func StatusKB(pid int, field string) float64 {
	p := "/proc/self/status"
	if pid != 0 {
		p = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return -1
			}
			return v
		}
	}
	return -1
}

// ProcCPU is the CPU time (user + system) process pid has used, from /proc/<pid>/stat; -1 when
// it cannot be read. Clock ticks are taken as 100 Hz (USER_HZ on Linux).
func ProcCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// The fields after the command (which may hold spaces) start after the last ") ".
	i := strings.LastIndex(string(data), ") ")
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(data)[i+2:])
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14 of stat: utime
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15: stime
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}
