package image

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
)

// containersConf is the podman configuration of the test: runc (this sandbox's crun-less
// Debian podman), ulimits that the sandbox allows, no systemd or journald.
const containersConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`

// podman runs podman with its configuration, storage (vfs: no overlay mounts), state and
// network configuration in a temporary directory, so the test neither reads nor changes the
// machine's images and containers.
type podman struct {
	bin  string
	args []string
	env  []string
}

// newPodman finds podman: missing, the test is skipped, or fails where $CI is set.
func newPodman(t *testing.T) *podman {
	t.Helper()
	bin, err := exec.LookPath("podman")
	if err == nil {
		_, err = exec.LookPath("runc")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("podman or runc not found and $CI is set (.ci/run installs them): %v", err)
		}
		t.Skipf("podman or runc not found (apt-get install podman runc): %v", err)
	}
	dir, err := os.MkdirTemp("", "hsds-podman-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// conmon runs `podman container cleanup` with these flags after a container stops; it
		// would recreate files in dir after RemoveAll.
		waitNoProcessNames(t, dir, 30*time.Second)
		_ = os.RemoveAll(dir)
	})
	sub := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte(containersConf), 0o600); err != nil {
		t.Fatal(err)
	}
	return &podman{bin: bin,
		args: []string{"--root", sub("root"), "--runroot", sub("runroot"), "--tmpdir", sub("tmp"),
			"--network-config-dir", sub("net"), "--volumepath", sub("volumes"), "--storage-driver", "vfs"},
		env: append(os.Environ(), "CONTAINERS_CONF="+conf, "TMPDIR="+sub("tmp"))}
}

// run runs one podman command and returns its trimmed standard output.
func (p *podman) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, append(append([]string{}, p.args...), args...)...)
	cmd.Env = p.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

func (p *podman) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hardened are the run flags of every container: what the Deployments' securityContext asks of
// Kubernetes (read-only root, every capability dropped, no privilege escalation), on the host's
// network so that the test reaches loopback ports and the containers reach the test's servers.
var hardened = []string{"--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges", "--network=host"}

// start runs image detached and returns the container ID; cleanup removes it (printing its log
// if the test failed).
func (p *podman) start(t *testing.T, runFlags []string, ref string, args ...string) string {
	t.Helper()
	cid := p.must(t, append(append(append([]string{"run", "-d"}, hardened...), runFlags...), append([]string{ref}, args...)...)...)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := p.run(t, "logs", cid)
			t.Logf("--- log of %s:\n%s", ref, logs)
		}
		if _, err := p.run(t, "rm", "-f", "-t", "0", cid); err != nil {
			t.Error(err)
		}
	})
	return cid
}

// TestImagesRunUnderPodman loads both archives into podman and runs each image read-only with
// every capability dropped: --version says the stamped version; hsds-agent serves /healthz,
// /readyz and /metrics reading a fake HSDS; hsds-autoscaler serve answers /healthz on its
// custom-metrics API port and /metrics against a stand-in Kubernetes API; both run as 65532.
func TestImagesRunUnderPodman(t *testing.T) {
	p := newPodman(t)
	start := time.Now()
	images := map[string]Built{}
	for _, b := range testImages.get(t) {
		images[b.Spec.Name] = b
		if out := p.must(t, "load", "-i", b.Path); !strings.Contains(out, "Loaded image: "+b.Ref) {
			t.Fatalf("podman load %s: %q, want the image named %s", b.Path, out, b.Ref)
		}
		if id := p.must(t, "image", "inspect", "--format", "{{.Id}}", b.Ref); "sha256:"+id != b.Config.String() {
			t.Errorf("%s: podman image ID %s, want the config digest %s", b.Ref, id, b.Config)
		}
		want := fmt.Sprintf("%s %s (revision test-revision, ", b.Spec.Name, testMeta(t).Version)
		if out := p.must(t, append(append([]string{"run", "--rm"}, hardened...), b.Ref, "--version")...); !strings.HasPrefix(out, want) {
			t.Errorf("%s --version: %q, want %q...", b.Ref, out, want)
		}
		if _, err := p.run(t, append(append([]string{"run", "--rm"}, hardened...), "--entrypoint", "/bin/sh", b.Ref, "-c", "true")...); err == nil {
			t.Errorf("%s: /bin/sh ran; the image must have no shell", b.Ref)
		}
	}
	t.Run("hsds-agent", func(t *testing.T) { testAgentContainer(t, p, images["hsds-agent"]) })
	t.Run("hsds-autoscaler", func(t *testing.T) { testAutoscalerContainer(t, p, images["hsds-autoscaler"]) })
	t.Logf("podman part took %s", time.Since(start).Round(time.Millisecond))
}

func testAgentContainer(t *testing.T, p *podman, b Built) {
	pod, err := fakehsds.New(fakehsds.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	snURL, dnURL, err := pod.ListenAndServe(ctx, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); pod.Wait() })
	addr := freeAddr(t)
	cid := p.start(t, nil, b.Ref, "--source=info", "--sn-url="+snURL, "--dn-url="+dnURL, "--listen="+addr)
	c := &http.Client{Timeout: 2 * time.Second}
	waitBody(t, c, "http://"+addr+"/healthz", "ok")
	waitBody(t, c, "http://"+addr+"/readyz", "ok") // it read the fake HSDS
	metrics := waitBody(t, c, "http://"+addr+"/metrics", "hsds_agent_up 1")
	wantBuild := fmt.Sprintf(`hsds_agent_build_info{goversion=%q,revision="test-revision",version=%q} 1`, runtime.Version(), testMeta(t).Version)
	if !strings.Contains(metrics, wantBuild) {
		t.Errorf("/metrics lacks %s", wantBuild)
	}
	checkUnprivileged(t, p, cid)
}

func testAutoscalerContainer(t *testing.T, p *podman, b Built) {
	dir := t.TempDir()
	kubeconfig := startFakeKubeAPI(t, dir)
	policy, err := os.ReadFile(filepath.Join(moduleRoot(t), "deploy", "policy", "hsds-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), policy, 0o644); err != nil {
		t.Fatal(err)
	}
	// The container's user 65532 reads them through the bind mount.
	for _, f := range []string{dir, kubeconfig, filepath.Join(dir, "policy.yaml")} {
		if err := os.Chmod(f, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secure, metricsAddr := freeAddr(t), freeAddr(t)
	_, port, _ := net.SplitHostPort(secure)
	kc := "/config/" + filepath.Base(kubeconfig)
	cid := p.start(t, []string{"-v", dir + ":/config:ro"}, b.Ref, "serve",
		"--policy=/config/policy.yaml", "--bind-address=127.0.0.1", "--secure-port="+port, "--cert-dir=/tmp/certs",
		"--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc, "--lister-kubeconfig="+kc,
		"--metrics-bind-address="+metricsAddr)
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the self-signed cert serve generated in /tmp
	waitBody(t, c, "https://"+secure+"/healthz", "ok")
	metrics := waitBody(t, c, "http://"+metricsAddr+"/metrics", "hsds_autoscaler_build_info")
	wantBuild := fmt.Sprintf(`hsds_autoscaler_build_info{goversion=%q,revision="test-revision",version=%q} 1`, runtime.Version(), testMeta(t).Version)
	if !strings.Contains(metrics, wantBuild) {
		t.Errorf("/metrics lacks %s", wantBuild)
	}
	checkUnprivileged(t, p, cid)
}

// checkUnprivileged: the container's process runs as 65532:65532 (named nonroot by the image's
// passwd), with no effective capability and no_new_privs set, as the kernel reports it.
func checkUnprivileged(t *testing.T, p *podman, cid string) {
	t.Helper()
	if out := p.must(t, "top", cid, "huser", "user"); !strings.Contains(out, "65532") || !strings.Contains(out, "nonroot") {
		t.Errorf("podman top: %q, want host user 65532 named nonroot", out)
	}
	pid := p.must(t, "inspect", "--format", "{{.State.Pid}}", cid)
	if _, err := strconv.Atoi(pid); err != nil {
		t.Fatalf("container PID %q: %v", pid, err)
	}
	status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Uid": "65532\t65532\t65532\t65532", "Gid": "65532\t65532\t65532\t65532",
		"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "NoNewPrivs": "1"}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if w, ok := want[k]; ok {
			if v = strings.TrimSpace(v); v != w {
				t.Errorf("/proc/%s/status %s: %q, want %q", pid, k, v, w)
			}
			delete(want, k)
		}
	}
	if len(want) > 0 {
		t.Errorf("/proc/%s/status lacks %v", pid, want)
	}
}

// waitNoProcessNames waits until no process has s in its command line.
func waitNoProcessNames(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		pids, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		var holders []string
		for _, f := range pids {
			if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(s)) {
				holders = append(holders, string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
			}
		}
		if len(holders) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes still use %s after %s: %q", s, timeout, holders)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitBody polls url until it answers 200 with a body containing want (within a minute: a
// container start on a loaded 2-core machine) and returns the body.
func waitBody(t *testing.T, c *http.Client, url, want string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last string
	for time.Now().Before(deadline) {
		rsp, err := c.Get(url)
		if err == nil {
			body, _ := io.ReadAll(rsp.Body)
			_ = rsp.Body.Close()
			if rsp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				return string(body)
			}
			last = fmt.Sprintf("HTTP %d: %.300s", rsp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("GET %s: no 200 with %q within a minute; last: %s", url, want, last)
	return ""
}

// freeAddr is a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}
