package fakehsds

import (
	"fmt"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Strings HSDS's /about returns by default (admin/config/config.yml).
const (
	aboutName     = "Highly Scalable Data Service (HSDS)"
	aboutGreeting = "Welcome to HSDS!"
	aboutAbout    = "HSDS is a webservice for HDF data"
)

// infoResponse is GET /info (hsds/basenode.py info()). Field names and JSON types follow HSDS;
// the host-level psutil figures are fixed fake values.
type infoResponse struct {
	Node             infoNode       `json:"node"`
	CPU              infoCPU        `json:"cpu"`
	DiskIO           map[string]int `json:"diskio"`
	NetIO            map[string]int `json:"netio"`
	Memory           infoMemory     `json:"memory"`
	Disk             infoDisk       `json:"disk"`
	LogStats         logCount       `json:"log_stats"`
	ReqCount         reqCount       `json:"req_count"`
	MetaCacheStats   map[string]int `json:"meta_cache_stats"`
	ChunkCacheStats  map[string]int `json:"chunk_cache_stats"`
	DomainCacheStats map[string]int `json:"domain_cache_stats"`
}

// infoNode is /info "node". HSDS sets node_number on DN nodes only.
type infoNode struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	StartTime  int64  `json:"start_time"`
	State      string `json:"state"`
	NodeNumber *int   `json:"node_number,omitempty"`
	NodeCount  int    `json:"node_count"`
}

type infoCPU struct {
	Percent float64 `json:"percent"`
	Cores   int     `json:"cores"`
}

type infoMemory struct {
	PhysTotal     int64   `json:"phys_total"`
	PhysAvailable int64   `json:"phys_available"`
	SwapTotal     int64   `json:"swap_total"`
	SwapUsed      int64   `json:"swap_used"`
	SwapFree      int64   `json:"swap_free"`
	Percent       float64 `json:"percent"`
}

type infoDisk struct {
	Total   int64   `json:"total"`
	Used    int64   `json:"used"`
	Free    int64   `json:"free"`
	Percent float64 `json:"percent"`
}

// info builds GET /info for n. req_count.num_tasks is the stale sample of the last gated request.
func (p *Pod) info(n *node) infoResponse {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := infoNode{ID: n.id, Type: n.kind, StartTime: n.startTime, State: n.state, NodeCount: p.dnCount}
	cache := map[string]int{}
	if n.kind == schema.NodeDN {
		number := 0 // the pod's DN is node 0 of the fake roster
		in.NodeNumber = &number
		// HSDS's key is spelled "utililization_per".
		cache = map[string]int{"count": 0, "dirty_count": 0, "utililization_per": 0, "mem_used": 0, "mem_target": 128 << 20}
	}
	return infoResponse{
		Node: in,
		CPU:  infoCPU{Percent: 12.5, Cores: 2},
		DiskIO: map[string]int{"read_count": 1000, "read_time": 500, "read_bytes": 4096000,
			"write_count": 1000, "write_time": 500, "write_bytes": 4096000},
		// HSDS assigns bytes_sent twice (the second time from bytes_recv) and never sets bytes_recv.
		NetIO: map[string]int{"bytes_sent": 2048000, "packets_sent": 2000, "packets_recv": 2000,
			"errin": 0, "errout": 0, "dropin": 0, "dropout": 0},
		Memory:           infoMemory{PhysTotal: 8 << 30, PhysAvailable: 6 << 30, Percent: 0.5},
		Disk:             infoDisk{Total: 100 << 30, Used: 25 << 30, Free: 75 << 30, Percent: 25.5},
		LogStats:         n.logs,
		ReqCount:         n.req,
		MetaCacheStats:   cache,
		ChunkCacheStats:  cache,
		DomainCacheStats: cache,
	}
}

// aboutResponse is GET /about (hsds/basenode.py about()).
type aboutResponse struct {
	StartTime   int64    `json:"start_time"`
	State       string   `json:"state"`
	HSDSVersion string   `json:"hsds_version"`
	Name        string   `json:"name"`
	Greeting    string   `json:"greeting"`
	About       string   `json:"about"`
	NodeCount   int      `json:"node_count"`
	DNURLs      []string `json:"dn_urls"`
	DNIDs       []string `json:"dn_ids"`
	Username    string   `json:"username"`
	IsAdmin     bool     `json:"isadmin"`
}

// about builds GET /about for n. dn_urls and dn_ids list dn_count data nodes: this pod's DN first,
// then made-up peers (10.0.0.x, never contacted).
func (p *Pod) about(n *node) aboutResponse {
	p.mu.Lock()
	defer p.mu.Unlock()
	urls := make([]string, p.dnCount)
	ids := make([]string, p.dnCount)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://10.0.0.%d:6101", i+1)
		ids[i] = fmt.Sprintf("%s-peer%d", p.dn.id, i)
	}
	ids[0] = p.dn.id
	return aboutResponse{
		StartTime: n.startTime, State: n.state, HSDSVersion: p.cfg.Version,
		Name: aboutName, Greeting: aboutGreeting, About: aboutAbout,
		NodeCount: p.dnCount, DNURLs: urls, DNIDs: ids, Username: "anonymous",
	}
}
