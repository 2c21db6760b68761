package sim

import (
	"fmt"
	"math"
)

// pod is one HSDS pod (an SN and a DN).
type pod struct {
	name        string
	created     float64
	node        *node   // nil while unschedulable (Pending, waiting for a VM)
	scheduledAt float64 // valid when node != nil
	startedAt   float64 // -1 until the containers serve
	stuckSince  float64 // -1 unless stuck WAITING (issue 423) since then

	// weight is the pod's share of client connections relative to the others (kube-proxy
	// spreads connections, not requests, and keep-alive clients stay on one pod).
	weight float64
	// idle are the tasks the SN holds whatever the load: its own background tasks and one per
	// idle keep-alive client connection (docs/hsds.md).
	idle int

	inFlight int // SN task count, idle and hung tasks included
	// hung are tasks of requests hanging on a departed DN's vanished IP until hungUntil (a gate
	// jam after a scale-down, Window.GateJamFraction).
	hung      int
	hungUntil float64
	release   []int32 // tasks finishing at tick (index = tick mod len)
	counts    counters
	agent     podAgent
}

func (p *pod) started() bool { return p.startedAt >= 0 }

// stuck reports whether the pod's nodes are stuck WAITING.
func (p *pod) stuck() bool { return p.stuckSince >= 0 }

// node is one VM with room for PodsPerNode pods.
type node struct {
	readyAt    float64 // when the VM joins (cluster autoscaler delay)
	pods       int
	emptySince float64 // -1 while it hosts a pod
}

func (s *Sim) newPod(t float64) *pod {
	sigma := s.sc.LoadSkew
	w := math.Exp(sigma*s.rng.NormFloat64() - sigma*sigma/2) // mean 1
	p := &pod{
		name:       fmt.Sprintf("hsds-%d", s.nextPod),
		created:    t,
		startedAt:  -1,
		stuckSince: -1,
		weight:     w,
		idle:       s.sc.BackgroundTasks + poisson(s.rng, s.sc.IdleConnectionsPerPod*w),
		release:    make([]int32, s.releaseLen),
	}
	p.inFlight = p.idle
	s.nextPod++
	return p
}

// setReplicas is what the Deployment controller does with a new spec.replicas: create Pending
// pods, or delete pods in ReplicaSet order (unscheduled, not started, not Ready, then newest).
func (s *Sim) setReplicas(to int32) {
	t := s.Seconds()
	if to != s.spec {
		s.stats.ReplicaChanges++
	}
	s.spec = to
	for int32(len(s.pods)) < to {
		s.pods = append(s.pods, s.newPod(t))
	}
	for int32(len(s.pods)) > to {
		s.removePod(s.victim())
	}
}

// removePod deletes the pod at index i; a serving pod leaving changes the HSDS roster.
func (s *Sim) removePod(i int) {
	p := s.pods[i]
	s.pods = append(s.pods[:i], s.pods[i+1:]...)
	if p.node != nil {
		p.node.pods--
	}
	s.store.DeletePod(Namespace, p.name)
	if p.started() {
		s.rosterChanged(s.Seconds(), 0, 1)
	}
}

// victim is the index of the pod a ReplicaSet deletes first: unscheduled, then scheduled but
// not started, then started but not Ready (a stuck pod), then Ready; newest first within each
// group (the ReplicaSet controller's ranking, k8s.io/kubernetes pkg/controller ActivePods: not
// assigned < assigned, Pending < Running, not ready < ready, ..., newer < older).
func (s *Sim) victim() int {
	t := s.Seconds()
	rank := func(p *pod) int {
		switch {
		case p.node == nil:
			return 0
		case !p.started():
			return 1
		case !s.podReady(p, t):
			return 2
		}
		return 3
	}
	best := len(s.pods) - 1
	for i := len(s.pods) - 1; i >= 0; i-- {
		if rank(s.pods[i]) < rank(s.pods[best]) {
			best = i
		}
	}
	return best
}

// stepCluster runs the scheduler, the kubelets (start-up) and the cluster autoscaler at t.
func (s *Sim) stepCluster(t float64) {
	s.schedule(t)
	started := 0
	for _, p := range s.pods {
		if p.node != nil && !p.started() && t >= p.scheduledAt+s.sc.StartupSeconds {
			p.startedAt = t
			started++
		}
	}
	if started > 0 {
		s.rosterChanged(t, started, 0)
	}
	s.autoscaleNodes(t)
}

// schedule binds unscheduled pods, oldest first, to ready nodes with room.
func (s *Sim) schedule(t float64) {
	for _, p := range s.pods {
		if p.node != nil {
			continue
		}
		for _, n := range s.nodes {
			if t >= n.readyAt && n.pods < s.sc.PodsPerNode {
				n.pods++
				p.node, p.scheduledAt = n, t
				break
			}
		}
	}
}

// autoscaleNodes is the cluster autoscaler: it orders enough VMs for the unschedulable pods
// (each ready NodeAddSeconds later) and removes a VM empty for NodeRemoveSeconds, keeping enough
// VMs for MinReplicas.
func (s *Sim) autoscaleNodes(t float64) {
	unschedulable, provisioning := 0, 0
	for _, p := range s.pods {
		if p.node == nil {
			unschedulable++
		}
	}
	for _, n := range s.nodes {
		if t < n.readyAt {
			provisioning++
		}
	}
	k := s.sc.PodsPerNode
	for range (unschedulable+k-1)/k - provisioning {
		s.nodes = append(s.nodes, &node{readyAt: t + s.sc.NodeAddSeconds, emptySince: -1})
	}
	minNodes := (int(s.sc.MinReplicas) + k - 1) / k
	remaining := len(s.nodes)
	kept := s.nodes[:0]
	for _, n := range s.nodes {
		switch {
		case n.pods > 0 || t < n.readyAt:
			n.emptySince = -1
		case n.emptySince < 0:
			n.emptySince = t
		case t-n.emptySince >= s.sc.NodeRemoveSeconds && remaining > minNodes:
			remaining--
			continue // removed
		}
		kept = append(kept, n)
	}
	s.nodes = kept
}
