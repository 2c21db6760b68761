package fakekubelet

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/realhsds/locate"
)

// Modes of a Kubelet (Config.Mode).
const (
	// ModeFake runs each pod as a fake HSDS and an in-process agent on a loopback address: fast,
	// no root. The default.
	ModeFake = "fake"
	// ModeReal runs each pod as real HSDS 0.9.4 in Kubernetes mode (../shared/real-hsds) and the
	// hsds-agent binary, in a network namespace of its own on a bridge the Kubelet makes. Root only.
	ModeReal = "real"
)

// Ports of a real pod: HSDS finds the other pods' data nodes at <pod IP>:6101 (its default).
const (
	RealSNPort = 5101
	RealDNPort = 6101
)

// Defaults of RealConfig.
const (
	DefaultRealCIDR          = "10.77.14.0/24"
	DefaultRealPrefix        = "hsdsk"
	DefaultRealStartTimeout  = 60 * time.Second
	DefaultRealProbeInterval = time.Second
	DefaultRealMaxStopGrace  = 10 * time.Second
	// EnvRealDir names the real-hsds directory (also read by internal/realhsds).
	EnvRealDir = locate.EnvDir
)

// RealConfig configures ModeReal. The zero value takes every default but AgentBin and the API
// server, which the caller must give.
type RealConfig struct {
	// Dir is the real-hsds directory (hsds-node, upstream/). Empty: $HSDS_REAL_DIR, else
	// ../shared/real-hsds beside the module root.
	Dir string
	// AgentBin is the hsds-agent binary (go build ./cmd/hsds-agent). Required.
	AgentBin string
	// AgentArgs are appended to the agent's flags, which Config.Agent gives (SN and DN URLs,
	// listen addresses and the task limit are set per pod).
	AgentArgs []string
	// APIServerURL is the API server on loopback (controlplane.Cluster.APIServerURL); the pods
	// reach it as https://kubernetes.default.svc through a forwarder on the bridge address, port
	// 443. Required.
	APIServerURL string
	// CAFile verifies the API server (controlplane.Cluster.PKI.ServingCA); its certificate must
	// name kubernetes.default.svc. Required.
	CAFile string
	// CIDR is the pod network, a private IPv4 /24: the bridge holds .1, pods get .2 up. Empty:
	// DefaultRealCIDR. Start fails if an interface already has an address in it.
	CIDR string
	// Prefix starts the name of everything a run makes (bridge, veth links, network namespaces,
	// run directory): 2-5 lowercase letters. Empty: DefaultRealPrefix.
	Prefix string
	// TempDir is the parent of the run directory. Empty: os.TempDir().
	TempDir string
	// DataDir is the storage root all pods share (the bucket). Empty: one in the run directory.
	DataDir string
	// LogDir keeps each pod's logs as <pod>-sn.log, <pod>-dn.log, <pod>-agent.log. Empty: they
	// live in the pod's directory and go with it.
	LogDir string
	// MaxTaskCount is HSDS's max_task_count, also the limit the agent exports. 0: 100.
	MaxTaskCount int
	// NodeSleepTime is HSDS's node_sleep_time in seconds (how often nodes list the pods). 0: HSDS's
	// default (10).
	NodeSleepTime int
	// LogLevel is HSDS's log level. Empty: INFO.
	LogLevel string
	// StartTimeout bounds the wait for a pod's SN, DN and agent to answer. 0: 60 s.
	StartTimeout time.Duration
	// ProbeInterval is how often the SN's /info is read for the pod's Ready condition. 0: 1 s.
	ProbeInterval time.Duration
	// MaxStopGrace caps a deleted pod's terminationGracePeriodSeconds (SIGTERM, then SIGKILL);
	// at least 2 s are always given, as the kubelet does. 0: 10 s.
	MaxStopGrace time.Duration
	// StartDelayAfterIP, when > 0, follows a real kubelet's order instead: the pod is written
	// Running (not Ready) with its IP first, and its SN, DN and agent start this much later. HSDS
	// 0.9.4's running nodes then see the new IP before its DN listens, and stay WAITING until the
	// pod set changes again (HSDS issue 423, ../shared/real-hsds/k8s.md: 15 s reproduces it). 0:
	// the nodes listen before the IP is published. Kubelet.SetStartDelayAfterIP changes it for
	// pods started later.
	StartDelayAfterIP time.Duration
	// StopOnSignal makes the Kubelet clean up on SIGINT or SIGTERM and then end the process with
	// that signal. Leave it off when the program handles the signals itself and calls Stop.
	StopOnSignal bool
}

var prefixRE = regexp.MustCompile(`^[a-z]{2,5}$`)

// withDefaults fills the empty fields.
func (r RealConfig) withDefaults() RealConfig {
	if r.Dir == "" {
		r.Dir, _ = RealDir()
	}
	if r.CIDR == "" {
		r.CIDR = DefaultRealCIDR
	}
	if r.Prefix == "" {
		r.Prefix = DefaultRealPrefix
	}
	if r.MaxTaskCount == 0 {
		r.MaxTaskCount = 100
	}
	if r.LogLevel == "" {
		r.LogLevel = "INFO"
	}
	if r.StartTimeout == 0 {
		r.StartTimeout = DefaultRealStartTimeout
	}
	if r.ProbeInterval == 0 {
		r.ProbeInterval = DefaultRealProbeInterval
	}
	if r.MaxStopGrace == 0 {
		r.MaxStopGrace = DefaultRealMaxStopGrace
	}
	return r
}

// validate returns every problem of the (defaulted) real-mode settings of c.
func (c Config) validateReal() error {
	r := c.Real.withDefaults()
	var errs []error
	if r.AgentBin == "" {
		errs = append(errs, errors.New("real: agentBin is required (go build ./cmd/hsds-agent)"))
	}
	if u, err := url.Parse(r.APIServerURL); err != nil || u.Scheme != "https" || u.Port() == "" {
		errs = append(errs, fmt.Errorf("real: apiServerURL %q: want https://host:port", r.APIServerURL))
	}
	if r.CAFile == "" {
		errs = append(errs, errors.New("real: caFile is required"))
	}
	if _, err := parsePodCIDR(r.CIDR); err != nil {
		errs = append(errs, fmt.Errorf("real: %w", err))
	}
	if !prefixRE.MatchString(r.Prefix) {
		errs = append(errs, fmt.Errorf("real: prefix %q: want 2-5 lowercase letters", r.Prefix))
	}
	if r.MaxTaskCount < 0 || r.NodeSleepTime < 0 || r.StartTimeout < 0 || r.ProbeInterval < 0 || r.MaxStopGrace < 0 || r.StartDelayAfterIP < 0 {
		errs = append(errs, errors.New("real: maxTaskCount, nodeSleepTime, startTimeout, probeInterval, maxStopGrace and startDelayAfterIP must be >= 0"))
	}
	if (c.SNPort != 0 && c.SNPort != RealSNPort) || (c.DNPort != 0 && c.DNPort != RealDNPort) {
		errs = append(errs, fmt.Errorf("real: snPort and dnPort must be 0 or %d and %d (HSDS finds data nodes on %d)", RealSNPort, RealDNPort, RealDNPort))
	}
	if c.Agent.Source == schema.SourceMetrics {
		errs = append(errs, errors.New("real: agent source metrics: HSDS 0.9.4 has no /metrics; use info or proxy"))
	}
	return errors.Join(errs...)
}

// RealDir returns the real-hsds directory: $HSDS_REAL_DIR, or ../shared/real-hsds beside the
// module root.
func RealDir() (string, error) { return locate.Dir() }

// CheckReal reports every reason real mode cannot run here: not root, a missing tool (ip,
// unshare, mount), no hsds-node in dir (empty: RealDir()), or HSDS's modules do not import with
// Debian's python3 (run ../shared/real-hsds/install.sh).
func CheckReal(dir string) error {
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, errors.New("real mode needs root (network namespaces, mounts)"))
	}
	for _, tool := range []string{"ip", "unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			errs = append(errs, fmt.Errorf("real mode needs %s: %w", tool, err))
		}
	}
	if dir == "" {
		d, err := RealDir()
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		dir = d
	}
	if _, err := os.Stat(filepath.Join(dir, "hsds-node")); err != nil {
		return errors.Join(append(errs, fmt.Errorf("real HSDS not found: %w (set %s)", err, EnvRealDir))...)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", "import hsds.servicenode, hsds.datanode")
	cmd.Dir = filepath.Join(dir, "upstream")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "upstream")+":"+filepath.Join(dir, "stub"))
	if out, err := cmd.CombinedOutput(); err != nil {
		errs = append(errs, fmt.Errorf("real HSDS modules do not import (run %s/install.sh as root): %w: %s", dir, err, out))
	}
	return errors.Join(errs...)
}
