package fakekubelet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"k8s.io/klog/v2"
)

// Leftovers are the objects of real-mode runs found on this machine, by name.
type Leftovers struct {
	Links, Namespaces, Dirs []string
}

// Empty reports whether nothing was found.
func (l Leftovers) Empty() bool { return len(l.Links)+len(l.Namespaces)+len(l.Dirs) == 0 }

// FindLeftovers lists the links, network namespaces and run directories (in tempDir; empty:
// os.TempDir()) whose names start with a run id of prefix and whose run is not alive: its bridge
// is gone, or the process named in the bridge's alias has ended. With all, live runs' objects are
// listed too (what a test asserts is gone after its own run).
func FindLeftovers(ctx context.Context, prefix, tempDir string, all bool) (Leftovers, error) {
	links, live, err := listLinks(ctx, prefix)
	if err != nil {
		return Leftovers{}, err
	}
	stale := func(name string) bool {
		id := runIDOf(prefix, name)
		return id != "" && (all || !live[id])
	}
	var l Leftovers
	for _, name := range links {
		if stale(name) {
			l.Links = append(l.Links, name)
		}
	}
	out, err := ip(ctx, "netns", "list")
	if err != nil {
		return Leftovers{}, err
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && stale(f[0]) {
			l.Namespaces = append(l.Namespaces, f[0])
		}
	}
	if tempDir == "" {
		tempDir = os.TempDir()
	}
	entries, err := os.ReadDir(tempDir)
	if err != nil {
		return Leftovers{}, err
	}
	for _, e := range entries {
		if e.IsDir() && stale(e.Name()) {
			l.Dirs = append(l.Dirs, filepath.Join(tempDir, e.Name()))
		}
	}
	sort.Strings(l.Namespaces)
	return l, nil
}

// listLinks returns the names of the links that start with prefix, and which run ids have a live
// bridge (alias ownerAlias<pid> with pid running).
func listLinks(ctx context.Context, prefix string) ([]string, map[string]bool, error) {
	out, err := ip(ctx, "-o", "link", "show")
	if err != nil {
		return nil, nil, err
	}
	var names []string
	live := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		names = append(names, name)
		if _, alias, ok := strings.Cut(line, "alias "+ownerAlias); ok && strings.HasSuffix(name, "-br") {
			pid, err := strconv.Atoi(strings.TrimSpace(alias))
			if err == nil && alive(pid) {
				live[runIDOf(prefix, name)] = true
			}
		}
	}
	return names, live, nil
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// RemoveLeftovers removes what FindLeftovers(ctx, prefix, tempDir, false) finds: the leftovers
// of runs that were killed before they could clean up. Live runs are left alone.
func RemoveLeftovers(ctx context.Context, prefix, tempDir string) error {
	l, err := FindLeftovers(ctx, prefix, tempDir, false)
	if err != nil || l.Empty() {
		return err
	}
	klog.InfoS("Fake kubelet removes the leftovers of an earlier run", "namespaces", l.Namespaces, "links", l.Links, "dirs", l.Dirs)
	var errs []error
	for _, ns := range l.Namespaces {
		if _, err := ip(ctx, "netns", "del", ns); err != nil && !missing(err) {
			errs = append(errs, err)
		}
	}
	// Veth host ends go with their namespace; bridges last.
	sort.Slice(l.Links, func(i, j int) bool {
		return !strings.HasSuffix(l.Links[i], "-br") && strings.HasSuffix(l.Links[j], "-br")
	})
	for _, name := range l.Links {
		if _, err := ip(ctx, "link", "del", name); err != nil && !missing(err) {
			errs = append(errs, err)
		}
	}
	for _, d := range l.Dirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
