package fakekubelet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
)

// ownerAlias is the start of the alias of every bridge a real-mode Kubelet makes; the rest is the
// owner's process id, so that a later run tells a killed run's leftovers from a live run's objects.
const ownerAlias = "hsds-fakekubelet pid="

// network is the pod network of one real-mode Kubelet: a bridge holding the host end of a private
// IPv4 /24 and, per pod, a network namespace joined to it by a veth pair (host end on the bridge,
// pod end eth0 with the pod's address). Every name it makes starts with its run id (the prefix and
// 4 hex digits, then "-"): the bridge <run>-br, the veth host ends <run>-v<last octet>, the
// namespaces <run>-<pod name>.
type network struct {
	runID  string
	bridge string
	pods   netip.Prefix // the /24
	hostIP netip.Addr   // .1 on the bridge: the node, and kubernetes.default.svc for the pods

	mu   sync.Mutex
	used map[netip.Addr]string // pod address -> its namespace
}

// newRunID returns prefix followed by 4 random hex digits.
func newRunID(prefix string) (string, error) {
	b := make([]byte, 2)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a run id: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}

// runIDOf returns the run id that name starts with (prefix, 4 hex digits, then "-"), or "".
func runIDOf(prefix, name string) string {
	n := len(prefix) + 4
	if len(name) <= n || !strings.HasPrefix(name, prefix) || name[n] != '-' {
		return ""
	}
	if _, err := hex.DecodeString(name[len(prefix):n]); err != nil {
		return ""
	}
	return name[:n]
}

// ip runs iproute2's ip with args; the error carries its output.
func ip(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// ipSteps runs each ip command in turn and stops at the first error.
func ipSteps(ctx context.Context, steps ...[]string) error {
	for _, s := range steps {
		if _, err := ip(ctx, s...); err != nil {
			return err
		}
	}
	return nil
}

// parsePodCIDR accepts an IPv4 /24 and returns it masked.
func parsePodCIDR(cidr string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("pod network %q: %w", cidr, err)
	}
	if !p.Addr().Is4() || p.Bits() != 24 || !p.Addr().IsPrivate() {
		return netip.Prefix{}, fmt.Errorf("pod network %q: want a private IPv4 /24 (e.g. 10.77.14.0/24)", cidr)
	}
	return p.Masked(), nil
}

// newNetwork checks that no interface of the host has an address in cidr (another run, or
// anything else, owns it), then makes the bridge with the .1 address, owned by pid.
func newNetwork(ctx context.Context, prefix, cidr string, pid int) (*network, error) {
	pods, err := parsePodCIDR(cidr)
	if err != nil {
		return nil, err
	}
	if err := checkUnused(ctx, pods); err != nil {
		return nil, err
	}
	runID, err := newRunID(prefix)
	if err != nil {
		return nil, err
	}
	n := &network{runID: runID, bridge: runID + "-br", pods: pods, hostIP: pods.Addr().Next(), used: map[netip.Addr]string{}}
	err = ipSteps(ctx,
		[]string{"link", "add", n.bridge, "type", "bridge"},
		[]string{"link", "set", "dev", n.bridge, "alias", fmt.Sprintf("%s%d", ownerAlias, pid)},
		[]string{"addr", "add", n.hostPrefix(n.hostIP), "dev", n.bridge},
		[]string{"link", "set", n.bridge, "up"},
	)
	if err != nil {
		_, _ = ip(context.WithoutCancel(ctx), "link", "del", n.bridge)
		return nil, fmt.Errorf("making the pod network bridge: %w", err)
	}
	return n, nil
}

// checkUnused fails when an interface already has an address inside pods.
func checkUnused(ctx context.Context, pods netip.Prefix) error {
	out, err := ip(ctx, "-o", "-4", "addr", "show")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] != "inet" {
				continue
			}
			if a, err := netip.ParsePrefix(f[i+1]); err == nil && (pods.Contains(a.Addr()) || a.Contains(pods.Addr())) {
				return fmt.Errorf("pod network %s is in use here (%s on %s): pick another (RealConfig.CIDR)", pods, f[i+1], strings.TrimSuffix(f[1], ":"))
			}
		}
	}
	return nil
}

func (n *network) hostPrefix(a netip.Addr) string { return netip.PrefixFrom(a, 24).String() }

// vethName is the host end of the veth pair of the pod on a.
func (n *network) vethName(a netip.Addr) string { return fmt.Sprintf("%s-v%d", n.runID, a.As4()[3]) }

// addPod gives pod a namespace and the next free address, and joins it to the bridge.
func (n *network) addPod(ctx context.Context, pod string) (string, netip.Addr, error) {
	ns := n.runID + "-" + pod
	a, err := n.allocate(ns)
	if err != nil {
		return "", netip.Addr{}, err
	}
	veth := n.vethName(a)
	err = ipSteps(ctx,
		[]string{"netns", "add", ns},
		[]string{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		[]string{"link", "set", veth, "master", n.bridge, "up"},
		[]string{"-n", ns, "addr", "add", n.hostPrefix(a), "dev", "eth0"},
		[]string{"-n", ns, "link", "set", "eth0", "up"},
		[]string{"-n", ns, "link", "set", "lo", "up"},
	)
	if err != nil {
		return "", netip.Addr{}, errors.Join(fmt.Errorf("network of pod %s: %w", pod, err), n.delPod(context.WithoutCancel(ctx), ns, a))
	}
	return ns, a, nil
}

func (n *network) allocate(ns string) (netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for a := n.hostIP.Next(); n.pods.Contains(a) && a.As4()[3] < 255; a = a.Next() {
		if _, ok := n.used[a]; !ok {
			n.used[a] = ns
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address left in %s", n.pods)
}

// delPod removes the namespace (which takes the veth pair with it) and frees the address.
func (n *network) delPod(ctx context.Context, ns string, a netip.Addr) error {
	var errs []error
	if _, err := ip(ctx, "netns", "del", ns); err != nil && !missing(err) {
		errs = append(errs, err)
	}
	if _, err := ip(ctx, "link", "del", n.vethName(a)); err != nil && !missing(err) {
		errs = append(errs, err)
	}
	n.mu.Lock()
	delete(n.used, a)
	n.mu.Unlock()
	return errors.Join(errs...)
}

// close removes every namespace still in use, then the bridge.
func (n *network) close(ctx context.Context) error {
	n.mu.Lock()
	left := make(map[netip.Addr]string, len(n.used))
	for a, ns := range n.used {
		left[a] = ns
	}
	n.mu.Unlock()
	var errs []error
	for a, ns := range left {
		errs = append(errs, n.delPod(ctx, ns, a))
	}
	if _, err := ip(ctx, "link", "del", n.bridge); err != nil && !missing(err) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// missing reports whether an ip error says the object does not exist (already removed).
func missing(err error) bool {
	s := err.Error()
	return strings.Contains(s, "No such file") || strings.Contains(s, "Cannot find device") || strings.Contains(s, "does not exist")
}
