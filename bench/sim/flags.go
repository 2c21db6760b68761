package sim

import "github.com/spf13/pflag"

// rescaleFlag sets a Rescale from a preset name (RescalePresets).
type rescaleFlag struct{ r *Rescale }

func (f rescaleFlag) String() string {
	if f.r == nil {
		return ""
	}
	for name, r := range RescalePresets() {
		if r == *f.r {
			return name
		}
	}
	return "custom"
}

func (f rescaleFlag) Set(name string) error {
	r, err := RescalePreset(name)
	if err == nil {
		*f.r = r
	}
	return err
}

func (rescaleFlag) Type() string { return "preset" }

// AddFlags binds every knob of s to a flag named "sim-<knob>" (the defaults are s's current
// values), so a command can load a scenario file first and let flags override it.
func (s *Scenario) AddFlags(fs *pflag.FlagSet) {
	f := func(p *float64, name, usage string) { fs.Float64Var(p, "sim-"+name, *p, usage) }
	i := func(p *int, name, usage string) { fs.IntVar(p, "sim-"+name, *p, usage) }
	f(&s.TickSeconds, "tick-seconds", "simulation step, seconds")
	i(&s.MaxTaskCount, "max-task-count", "SN task gate limit (HSDS max_task_count)")
	i(&s.TasksPerNodePerRequest, "tasks-per-node-per-request", "fan-out cap per DN (HSDS max_tasks_per_node_per_request)")
	i(&s.ChunksPerRequest, "chunks-per-request", "chunks one data request touches")
	i(&s.CrawlTasks, "crawl-tasks", "tasks of a domain crawl (h5pyd.File \"r\")")
	i(&s.OverheadTasks, "overhead-tasks", "tasks a request holds besides its workers (handler + connection)")
	f(&s.ServiceMedianSeconds, "service-median-seconds", "median request service time")
	f(&s.ServiceSigma, "service-sigma", "log-normal sigma of the service time")
	f(&s.ServiceMaxSeconds, "service-max-seconds", "cap of the service time")
	fs.Var(rescaleFlag{&s.Rescale}, "sim-rescale", "rescale cost preset: kubernetes (HSDS 0.9.4 in Kubernetes mode as deployed, no preStop sleep: scale-downs jam the gates ~30 s), kubernetes-prestop (with a preStop sleep: 500s instead of the jam), head (0.9.4 head node), notready (1.0.1)")
	f(&s.Rescale.NotReadySeconds, "not-ready-seconds", "cluster-wide not-ready 503s after each change (rescale notready)")
	f(&s.Rescale.StuckChance, "stuck-chance", "chance a pod starting leaves an old pod stuck WAITING (rescale partition)")
	i(&s.BackgroundTasks, "background-tasks", "SN tasks of its own, counted by the gate")
	f(&s.IdleConnectionsPerPod, "idle-connections-per-pod", "mean idle keep-alive connections per pod (each an SN task)")
	f(&s.LoadSkew, "load-skew", "log-normal sigma of the pods' shares of client connections")
	fs.StringVar(&s.AgentSource, "sim-agent-source", s.AgentSource, "what the policy reads: info (HSDS 0.9.x /info through the agent's classifier) or exact (1.x /metrics)")
	f(&s.AgentPollSeconds, "agent-poll-seconds", "agent poll period of /info (agent source info)")
	f(&s.Mix.ChunkGet, "mix-chunk-get", "fraction of GET chunk requests")
	f(&s.Mix.ChunkPut, "mix-chunk-put", "fraction of PUT chunk requests")
	f(&s.Mix.Post, "mix-post", "fraction of POST selections (never retried)")
	f(&s.Mix.Crawl, "mix-crawl", "fraction of domain crawls")
	f(&s.Mix.Small, "mix-small", "fraction of one-task GETs")
	f(&s.StartupSeconds, "startup-seconds", "pod start-up time once scheduled")
	i(&s.PodsPerNode, "pods-per-node", "HSDS pods one VM holds")
	f(&s.NodeAddSeconds, "node-add-seconds", "cluster autoscaler delay to add a VM for Pending pods")
	f(&s.NodeRemoveSeconds, "node-remove-seconds", "cluster autoscaler delay to remove an empty VM")
	fs.Int32Var(&s.MinReplicas, "sim-min-replicas", s.MinReplicas, "minimum replicas (every policy)")
	fs.Int32Var(&s.MaxReplicas, "sim-max-replicas", s.MaxReplicas, "maximum replicas (every policy)")
	i(&s.Retries, "retries", "h5pyd retries of GET/PUT on 503")
	f(&s.BackoffFactorSeconds, "backoff-factor-seconds", "urllib3 backoff_factor")
	f(&s.BackoffMaxSeconds, "backoff-max-seconds", "urllib3 backoff cap")
	f(&s.RetryAfterSeconds, "retry-after-seconds", "Retry-After sent with 503 (0: none, as HSDS)")
	f(&s.ControlIntervalSeconds, "control-interval-seconds", "scaler tick")
	f(&s.ScrapeIntervalSeconds, "scrape-interval-seconds", "agent scrape period")
	f(&s.RateWindowSeconds, "rate-window-seconds", "window of per-pod rates")
	f(&s.ShortRateWindowSeconds, "short-rate-window-seconds", "window of the short per-pod rates")
	f(&s.StaleAfterSeconds, "stale-after-seconds", "age past which a pod's figures no longer count")
	f(&s.MaxDurationSeconds, "max-duration-seconds", "longest replay: the busiest slice of a longer trace")
	f(&s.TimeCompression, "time-compression", "trace seconds replayed per simulated second")
	f(&s.PeakFactor, "peak-factor", "replay peak = factor x capacity of min replicas")
	f(&s.RatedUtilization, "rated-utilization", "share of the task-limit throughput counted as pod capacity (~1% gate rejections)")
}
