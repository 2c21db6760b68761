package fakehsds

import (
	"fmt"
	"strings"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Strings HSDS's /about returns by default (admin/config/config.yml).
const (
	aboutName     = "Highly Scalable Data Service (HSDS)"
	aboutGreeting = "Welcome to HSDS!"
	aboutAbout    = "HSDS is a webservice for HDF data"
)

// infoResponse is GET /info (hsds/basenode.py info()). Field names, nesting, JSON types and key
// order follow the real HSDS 0.9.4 (compared field by field in TestInfoAbout_MatchRealHSDS); the
// host-level psutil figures are fixed fake values.
type infoResponse struct {
	Node             infoNode   `json:"node"`
	CPU              infoCPU    `json:"cpu"`
	DiskIO           infoDiskIO `json:"diskio"`
	NetIO            infoNetIO  `json:"netio"`
	Memory           infoMemory `json:"memory"`
	Disk             infoDisk   `json:"disk"`
	LogStats         logCount   `json:"log_stats"`
	ReqCount         reqCount   `json:"req_count"`
	MetaCacheStats   cacheStat  `json:"meta_cache_stats"`
	ChunkCacheStats  cacheStat  `json:"chunk_cache_stats"`
	DomainCacheStats cacheStat  `json:"domain_cache_stats"`
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
	Percent pyFloat `json:"percent"`
	Cores   int     `json:"cores"`
}

type infoDiskIO struct {
	ReadCount  int64 `json:"read_count"`
	ReadTime   int64 `json:"read_time"`
	ReadBytes  int64 `json:"read_bytes"`
	WriteCount int64 `json:"write_count"`
	WriteTime  int64 `json:"write_time"`
	WriteBytes int64 `json:"write_bytes"`
}

// infoNetIO keeps HSDS's bug: bytes_sent is assigned twice (the second time from bytes_recv) and
// bytes_recv never set.
type infoNetIO struct {
	BytesSent   int64 `json:"bytes_sent"`
	PacketsSent int64 `json:"packets_sent"`
	PacketsRecv int64 `json:"packets_recv"`
	ErrIn       int64 `json:"errin"`
	ErrOut      int64 `json:"errout"`
	DropIn      int64 `json:"dropin"`
	DropOut     int64 `json:"dropout"`
}

type infoMemory struct {
	PhysTotal     int64   `json:"phys_total"`
	PhysAvailable int64   `json:"phys_available"`
	SwapTotal     int64   `json:"swap_total"`
	SwapUsed      int64   `json:"swap_used"`
	SwapFree      int64   `json:"swap_free"`
	Percent       pyFloat `json:"percent"`
}

type infoDisk struct {
	Total   int64   `json:"total"`
	Used    int64   `json:"used"`
	Free    int64   `json:"free"`
	Percent pyFloat `json:"percent"`
}

// cacheStat is one of the *_cache_stats objects; the zero value (no MemTarget) marshals as {}:
// HSDS writes an empty dict for a cache the node does not have. HSDS's key is spelled
// "utililization_per".
type cacheStat struct {
	Count          int   `json:"count"`
	DirtyCount     int   `json:"dirty_count"`
	UtilizationPer int   `json:"utililization_per"`
	MemUsed        int64 `json:"mem_used"`
	MemTarget      int64 `json:"mem_target"`
}

// MarshalJSON writes every field of a cache the node has (zeros included), {} for none.
func (c cacheStat) MarshalJSON() ([]byte, error) {
	if c.MemTarget == 0 {
		return []byte("{}"), nil
	}
	return []byte(fmt.Sprintf(`{"count":%d,"dirty_count":%d,"utililization_per":%d,"mem_used":%d,"mem_target":%d}`,
		c.Count, c.DirtyCount, c.UtilizationPer, c.MemUsed, c.MemTarget)), nil
}

// cacheMemTarget is HSDS's default cache size (128 MiB).
const cacheMemTarget = 128 << 20

// info builds GET /info for n. req_count.num_tasks is the stale sample of the last gated request.
// Caches as on the real 0.9.4: the SN has a meta and a domain cache, the DN a meta and a chunk
// cache; the other one is {}.
func (p *Pod) info(n *node) infoResponse {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := infoNode{ID: n.id, Type: n.kind, StartTime: n.startTime, State: n.state, NodeCount: p.dnCount}
	meta := cacheStat{MemTarget: cacheMemTarget}
	var chunk, domain cacheStat
	if n.kind == schema.NodeDN {
		number := 0 // the pod's DN is node 0 of the fake roster
		in.NodeNumber = &number
		chunk = cacheStat{MemTarget: cacheMemTarget}
	} else {
		domain = cacheStat{Count: len(p.domains), MemUsed: 1024 * int64(len(p.domains)), MemTarget: cacheMemTarget}
	}
	return infoResponse{
		Node: in,
		CPU:  infoCPU{Percent: 12.5, Cores: 2},
		DiskIO: infoDiskIO{ReadCount: 1000, ReadTime: 500, ReadBytes: 4096000,
			WriteCount: 1000, WriteTime: 500, WriteBytes: 4096000},
		NetIO:            infoNetIO{BytesSent: 2048000, PacketsSent: 2000, PacketsRecv: 2000},
		Memory:           infoMemory{PhysTotal: 8 << 30, PhysAvailable: 6 << 30},
		Disk:             infoDisk{Total: 100 << 30, Used: 25 << 30, Free: 75 << 30, Percent: 25.5},
		LogStats:         n.logs,
		ReqCount:         n.req,
		MetaCacheStats:   meta,
		ChunkCacheStats:  chunk,
		DomainCacheStats: domain,
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
	if p.dnURL != "" {
		urls[0] = strings.Replace(p.dnURL, "127.0.0.1", "localhost", 1) // as the head registers it
	}
	return aboutResponse{
		StartTime: n.startTime, State: n.state, HSDSVersion: p.cfg.Version,
		Name: aboutName, Greeting: aboutGreeting, About: aboutAbout,
		NodeCount: p.dnCount, DNURLs: urls, DNIDs: ids, Username: "anonymous",
	}
}
