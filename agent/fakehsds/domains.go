package fakehsds

import (
	"net/http"
)

// domainOutcome is the status of an admitted SN request once the DN has answered, for requests
// that name a domain (?domain=): a missing domain is 404 (docs/hsds.md, measured: GET
// /?domain=/does/not/exist answers 404), PUT /?domain=X creates X (201), DELETE /?domain=X
// removes it. Log lines as the real 0.9.4 SN and DN wrote them: a 404 logs 2 WARNs on the SN
// ("Object: .../domains not found", "domain: ... not found") and 2 on the DN; a served domain GET
// logs 5 INFO lines on the SN and 1 on the DN, a 404 4 on the SN. Requests without ?domain=
// keep their old status (successStatus).
func (p *Pod) domainOutcome(r *http.Request, domain string) int {
	if domain == "" {
		return successStatus(r)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.URL.Path == "/" {
		switch r.Method {
		case http.MethodPut:
			p.domains[domain] = true
			p.sn.logs.Info += 5
			return http.StatusCreated
		case http.MethodDelete:
			if p.domains[domain] {
				delete(p.domains, domain)
				return http.StatusOK
			}
		}
	}
	if !p.domains[domain] {
		p.sn.logs.Warn += 2
		p.sn.logs.Info += 4
		p.dn.logs.Warn += 2
		return http.StatusNotFound
	}
	p.sn.logs.Info += 5
	p.dn.logs.Info++
	return successStatus(r)
}
