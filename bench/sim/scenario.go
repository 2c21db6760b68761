package sim

import (
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// Scenario holds every knob of the simulator. Durations are in seconds. docs/bench.md gives the
// source of every default (mostly docs/hsds.md).
type Scenario struct {
	// TickSeconds is the simulation step.
	TickSeconds float64 `json:"tickSeconds"`

	// HSDS service node.
	MaxTaskCount           int `json:"maxTaskCount"`           // SN task gate limit (max_task_count)
	TasksPerNodePerRequest int `json:"tasksPerNodePerRequest"` // max_tasks_per_node_per_request
	ChunksPerRequest       int `json:"chunksPerRequest"`       // chunks a data request touches
	CrawlTasks             int `json:"crawlTasks"`             // tasks of a domain crawl
	// OverheadTasks are the tasks every request holds besides its workers, from arrival until
	// its last item ends: its aiohttp handler task and its connection's task (HSDS's gate
	// counts every unfinished asyncio task). The gate counts them for the arriving request too.
	OverheadTasks        int     `json:"overheadTasks"`
	ServiceMedianSeconds float64 `json:"serviceMedianSeconds"` // median request service time
	ServiceSigma         float64 `json:"serviceSigma"`         // log-normal sigma of service time
	ServiceMaxSeconds    float64 `json:"serviceMaxSeconds"`    // service time cap
	Mix                  Mix     `json:"mix"`
	// BackgroundTasks are the SN's own asyncio tasks, counted by its gate (0.9.4: 2, measured).
	BackgroundTasks int `json:"backgroundTasks"`
	// IdleConnectionsPerPod is the mean number of idle keep-alive client connections per pod;
	// each holds an SN task (docs/hsds.md). A pod's count is drawn once, Poisson with mean
	// IdleConnectionsPerPod x its weight.
	IdleConnectionsPerPod float64 `json:"idleConnectionsPerPod"`
	// LoadSkew is the log-normal sigma of the pods' shares of client connections (kube-proxy
	// spreads connections at random and keep-alive clients stay): 0 spreads load evenly.
	LoadSkew float64 `json:"loadSkew"`
	// Rescale is what a change of the pod set costs (RescalePresets).
	Rescale Rescale `json:"rescale"`
	// AgentSource is what the policy reads: AgentInfo (0.9.x, the agent's inferred causes) or
	// AgentExact (1.x /metrics). AgentPollSeconds is the agent's poll of /info.
	AgentSource      string  `json:"agentSource"`
	AgentPollSeconds float64 `json:"agentPollSeconds"`

	// Kubernetes.
	StartupSeconds    float64 `json:"startupSeconds"`    // scheduled -> serving
	PodsPerNode       int     `json:"podsPerNode"`       // HSDS pods one VM holds
	NodeAddSeconds    float64 `json:"nodeAddSeconds"`    // cluster autoscaler: Pending pod -> new VM ready
	NodeRemoveSeconds float64 `json:"nodeRemoveSeconds"` // cluster autoscaler: empty VM -> removed
	MinReplicas       int32   `json:"minReplicas"`
	MaxReplicas       int32   `json:"maxReplicas"`

	// h5pyd clients.
	Retries              int     `json:"retries"`              // retries of GET/PUT (POST: none)
	BackoffFactorSeconds float64 `json:"backoffFactorSeconds"` // urllib3 backoff_factor
	BackoffMaxSeconds    float64 `json:"backoffMaxSeconds"`    // urllib3 backoff cap
	RetryAfterSeconds    float64 `json:"retryAfterSeconds"`    // Retry-After the server sends; 0 = none (HSDS)

	// Control loop and metrics pipeline.
	// The scrape period, rate windows and staleness default to serve's (adapter.DefaultOptions:
	// --scrape-interval 1s, --rate-window 30s, --short-rate-window 10s, --stale-after 5s), so the
	// policy sees the figures it sees when deployed.
	ControlIntervalSeconds float64 `json:"controlIntervalSeconds"` // scaler tick
	ScrapeIntervalSeconds  float64 `json:"scrapeIntervalSeconds"`  // agent scrape period
	RateWindowSeconds      float64 `json:"rateWindowSeconds"`      // window of the per-pod rates
	ShortRateWindowSeconds float64 `json:"shortRateWindowSeconds"` // window of the short per-pod rates
	StaleAfterSeconds      float64 `json:"staleAfterSeconds"`      // age past which a pod's figures no longer count

	// Replay.
	MaxDurationSeconds float64 `json:"maxDurationSeconds"` // longest replay: the busiest slice of the trace
	TimeCompression    float64 `json:"timeCompression"`    // trace seconds per simulated second
	PeakFactor         float64 `json:"peakFactor"`         // replay peak = PeakFactor x capacity(MinReplicas)

	// RatedUtilization is the share of a pod's task-limit throughput counted as its capacity:
	// the rate at which the SN gate rejects about 1% of attempts in steady state (calibrated by
	// TestRatedCapacityCalibration). The oracle plans for it; PeakFactor is relative to it.
	RatedUtilization float64 `json:"ratedUtilization"`
}

// Mix is the request mix: fractions of logical requests by kind (they must sum to 1).
type Mix struct {
	ChunkGet float64 `json:"chunkGet"` // GET dataset value: fan-out, retried
	ChunkPut float64 `json:"chunkPut"` // PUT dataset value: fan-out, retried
	Post     float64 `json:"post"`     // POST point/hyperslab selection: fan-out, never retried
	Crawl    float64 `json:"crawl"`    // GET / domain crawl (h5pyd.File "r"): CrawlTasks, retried
	Small    float64 `json:"small"`    // other GETs: 1 task, retried
}

// DefaultScenario returns the defaults documented in docs/bench.md.
func DefaultScenario() Scenario {
	return Scenario{
		TickSeconds:            0.02,
		MaxTaskCount:           100,
		TasksPerNodePerRequest: 16,
		ChunksPerRequest:       32,
		CrawlTasks:             40,
		OverheadTasks:          2,
		ServiceMedianSeconds:   0.05,
		ServiceSigma:           0.5,
		ServiceMaxSeconds:      5,
		Mix:                    Mix{ChunkGet: 0.5, ChunkPut: 0.1, Post: 0.2, Crawl: 0.1, Small: 0.1},
		BackgroundTasks:        2,
		IdleConnectionsPerPod:  2,
		LoadSkew:               0.25,
		Rescale:                RescalePresets()["kubernetes"],
		AgentSource:            AgentInfo,
		AgentPollSeconds:       agent.DefaultPollInterval.Seconds(),
		StartupSeconds:         30,
		PodsPerNode:            4,
		NodeAddSeconds:         90,
		NodeRemoveSeconds:      600,
		MinReplicas:            2,
		MaxReplicas:            30,
		Retries:                10,
		BackoffFactorSeconds:   1,
		BackoffMaxSeconds:      120,
		RetryAfterSeconds:      0,
		ControlIntervalSeconds: 15,
		ScrapeIntervalSeconds:  1,
		RateWindowSeconds:      30,
		ShortRateWindowSeconds: 10,
		StaleAfterSeconds:      5,
		MaxDurationSeconds:     24 * 3600,
		TimeCompression:        1,
		PeakFactor:             3,
		RatedUtilization:       0.14,
	}
}

// Validate returns every problem with the scenario.
func (s Scenario) Validate() error {
	var errs []error
	pos := func(name string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			errs = append(errs, fmt.Errorf("%s %g: must be > 0", name, v))
		}
	}
	nonNeg := func(name string, v float64) {
		if !(v >= 0) || math.IsInf(v, 0) {
			errs = append(errs, fmt.Errorf("%s %g: must be >= 0", name, v))
		}
	}
	for _, k := range []struct {
		n string
		v float64
	}{
		{"tickSeconds", s.TickSeconds}, {"maxTaskCount", float64(s.MaxTaskCount)},
		{"tasksPerNodePerRequest", float64(s.TasksPerNodePerRequest)}, {"chunksPerRequest", float64(s.ChunksPerRequest)},
		{"crawlTasks", float64(s.CrawlTasks)}, {"serviceMedianSeconds", s.ServiceMedianSeconds},
		{"serviceMaxSeconds", s.ServiceMaxSeconds}, {"podsPerNode", float64(s.PodsPerNode)},
		{"minReplicas", float64(s.MinReplicas)}, {"backoffMaxSeconds", s.BackoffMaxSeconds},
		{"controlIntervalSeconds", s.ControlIntervalSeconds}, {"scrapeIntervalSeconds", s.ScrapeIntervalSeconds},
		{"rateWindowSeconds", s.RateWindowSeconds}, {"shortRateWindowSeconds", s.ShortRateWindowSeconds},
		{"staleAfterSeconds", s.StaleAfterSeconds}, {"maxDurationSeconds", s.MaxDurationSeconds},
		{"timeCompression", s.TimeCompression}, {"peakFactor", s.PeakFactor}, {"ratedUtilization", s.RatedUtilization},
		{"agentPollSeconds", s.AgentPollSeconds},
	} {
		pos(k.n, k.v)
	}
	for _, k := range []struct {
		n string
		v float64
	}{
		{"serviceSigma", s.ServiceSigma}, {"startupSeconds", s.StartupSeconds},
		{"backgroundTasks", float64(s.BackgroundTasks)}, {"idleConnectionsPerPod", s.IdleConnectionsPerPod}, {"loadSkew", s.LoadSkew},
		{"nodeAddSeconds", s.NodeAddSeconds}, {"nodeRemoveSeconds", s.NodeRemoveSeconds}, {"retries", float64(s.Retries)},
		{"backoffFactorSeconds", s.BackoffFactorSeconds}, {"retryAfterSeconds", s.RetryAfterSeconds},
		{"overheadTasks", float64(s.OverheadTasks)},
	} {
		nonNeg(k.n, k.v)
	}
	if s.AgentSource != AgentInfo && s.AgentSource != AgentExact {
		errs = append(errs, fmt.Errorf("agentSource %q: want %s or %s", s.AgentSource, AgentInfo, AgentExact))
	}
	if float64(s.BackgroundTasks)+s.IdleConnectionsPerPod >= float64(s.MaxTaskCount) {
		errs = append(errs, fmt.Errorf("backgroundTasks %d + idleConnectionsPerPod %g: must leave room under maxTaskCount %d",
			s.BackgroundTasks, s.IdleConnectionsPerPod, s.MaxTaskCount))
	}
	errs = append(errs, s.Rescale.validate())
	if s.MaxReplicas < s.MinReplicas {
		errs = append(errs, fmt.Errorf("maxReplicas %d: must be >= minReplicas %d", s.MaxReplicas, s.MinReplicas))
	}
	if s.Retries > 100 {
		errs = append(errs, fmt.Errorf("retries %d: must be <= 100", s.Retries))
	}
	if s.RatedUtilization > 1 {
		errs = append(errs, fmt.Errorf("ratedUtilization %g: must be <= 1", s.RatedUtilization))
	}
	if s.ServiceMaxSeconds < s.TickSeconds {
		errs = append(errs, fmt.Errorf("serviceMaxSeconds %g: must be >= tickSeconds %g", s.ServiceMaxSeconds, s.TickSeconds))
	}
	if s.ShortRateWindowSeconds > s.RateWindowSeconds {
		errs = append(errs, fmt.Errorf("shortRateWindowSeconds %g: must be <= rateWindowSeconds %g", s.ShortRateWindowSeconds, s.RateWindowSeconds))
	}
	if s.StaleAfterSeconds < s.ScrapeIntervalSeconds {
		errs = append(errs, fmt.Errorf("staleAfterSeconds %g: must be >= scrapeIntervalSeconds %g", s.StaleAfterSeconds, s.ScrapeIntervalSeconds))
	}
	if s.TickSeconds > s.ScrapeIntervalSeconds || s.TickSeconds > s.ControlIntervalSeconds {
		errs = append(errs, fmt.Errorf("tickSeconds %g: must be <= scrape and control intervals", s.TickSeconds))
	}
	return errors.Join(append(errs, s.Mix.validate())...)
}

func (m Mix) validate() error {
	var errs []error
	sum := 0.0
	for _, f := range m.fractions() {
		if !(f >= 0 && f <= 1) {
			errs = append(errs, fmt.Errorf("mix fraction %g: must be in [0, 1]", f))
		}
		sum += f
	}
	if math.Abs(sum-1) > 1e-9 {
		errs = append(errs, fmt.Errorf("mix fractions sum to %g: must sum to 1", sum))
	}
	return errors.Join(errs...)
}

// fractions is the mix in kind order (see kind).
func (m Mix) fractions() [numKinds]float64 {
	return [numKinds]float64{m.ChunkGet, m.ChunkPut, m.Post, m.Crawl, m.Small}
}

// DecodeScenario decodes a YAML or JSON scenario strictly (scaler.DecodeStrict: unknown and
// duplicate fields are errors naming their path) over the defaults, and validates it.
func DecodeScenario(data []byte) (Scenario, error) {
	s := DefaultScenario()
	problems, _ := scaler.DecodeStrict(data, &s)
	if len(problems) == 1 && errors.Is(problems[0], scaler.ErrEmptyDocument) {
		problems = nil // an empty scenario is the defaults
	}
	if len(problems) > 0 {
		return Scenario{}, fmt.Errorf("decode scenario: %w", errors.Join(problems...))
	}
	if err := s.Validate(); err != nil {
		return Scenario{}, fmt.Errorf("invalid scenario: %w", err)
	}
	return s, nil
}

// LoadScenario reads and decodes a scenario file.
func LoadScenario(path string) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario: %w", err)
	}
	s, err := DecodeScenario(data)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
