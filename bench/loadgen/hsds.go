package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Real HSDS (0.9.4) requests as h5pyd sends them, for loads at real service nodes (the real-pod
// e2e tests and `make demo HSDS=real`). Every request goes as admin (HSDSAdmin).
const (
	// HSDSAdmin is the user (and password) of real-hsds's password file.
	HSDSAdmin = "admin"
	// HSDSPoints is the body of a POST point selection: 4 points in 4 chunks, 4 chunk tasks on
	// the SN.
	HSDSPoints = `{"points":[1,170,420,990]}`
	// HSDSPostShare is the share of POSTs in HSDSMix (point selections, never retried by h5pyd).
	HSDSPostShare = 0.15
)

// HSDSDomain is one domain of a real-HSDS load and the dataset its selections read.
type HSDSDomain struct{ Path, Dataset string }

// HSDSMix is h5pyd-like traffic over domains: 42.5 % domain GETs (`/?domain=`, h5pyd.File(...,
// "r"): the domain's JSON from its DN), 42.5 % dataset reads (`GET .../value?select=[0:1000]`,
// all 10 chunks: dset[:]) and 15 % POST point selections (4 chunks), spread evenly over domains.
func HSDSMix(domains []HSDSDomain) []Request {
	n := float64(len(domains))
	get := (1 - HSDSPostShare) / 2 / n
	out := make([]Request, 0, 3*len(domains))
	for _, d := range domains {
		out = append(out,
			Request{Method: http.MethodGet, Path: "/?domain=" + d.Path, Weight: get},
			Request{Method: http.MethodGet, Path: "/datasets/" + d.Dataset + "/value?select=[0:1000]&domain=" + d.Path, Weight: get},
			Request{Method: http.MethodPost, Path: "/datasets/" + d.Dataset + "/value?domain=" + d.Path, Body: HSDSPoints, Weight: HSDSPostShare / n})
	}
	return out
}

// CreateHSDSDomains writes n domains under dir (e.g. /home/real) through the SN at sn, each with
// a 1-D dataset of 1000 integers in chunks of 100 (unwritten: selections read fill values through
// the DNs), and checks that each request of HSDSMix answers 200 on each.
func CreateHSDSDomains(ctx context.Context, sn, dir string, n int) ([]HSDSDomain, error) {
	for _, folder := range []string{"/home", dir} {
		if err := HSDSDo(ctx, http.MethodPut, sn+"/?domain="+folder, `{"folder":true}`, nil); err != nil {
			return nil, err
		}
	}
	out := make([]HSDSDomain, 0, n)
	for i := range n {
		d := HSDSDomain{Path: fmt.Sprintf("%s/d%d.h5", dir, i)}
		if err := HSDSDo(ctx, http.MethodPut, sn+"/?domain="+d.Path, "", nil); err != nil {
			return nil, err
		}
		var ds struct {
			ID string `json:"id"`
		}
		body := `{"type":"H5T_STD_I32LE","shape":[1000],"creationProperties":{"layout":{"class":"H5D_CHUNKED","dims":[100]}}}`
		if err := HSDSDo(ctx, http.MethodPost, sn+"/datasets?domain="+d.Path, body, &ds); err != nil {
			return nil, err
		}
		d.Dataset = ds.ID
		for _, r := range HSDSMix([]HSDSDomain{d}) {
			if err := HSDSDo(ctx, r.Method, sn+r.Path, r.Body, nil); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// HSDSDo sends one request as admin on a fresh connection (HSDS counts idle connections as tasks)
// and returns an error unless it answers 200 or 201; the JSON answer is decoded into v when v is
// not nil.
func HSDSDo(ctx context.Context, method, url, body string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(HSDSAdmin, HSDSAdmin)
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%s %s: HTTP %d %s", method, url, resp.StatusCode, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%s %s: %w", method, url, err)
		}
	}
	return nil
}
