package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// ErrLeadershipLost is returned by RunWithLeaderElection when this candidate stopped leading
// while its context was still live. The process should exit (non-zero) and be restarted: a fresh
// start re-reads everything and holds for guards.settle before acting.
var ErrLeadershipLost = errors.New("leader election lost")

// LeaderElectionConfig configures RunWithLeaderElection.
type LeaderElectionConfig struct {
	Client  kubernetes.Interface
	Options scaler.LeaderElectionOptions
	// OnLeaderChange, if set, is called with true when this candidate starts leading and false
	// when it stops (wire it to scaler.Metrics.SetLeader).
	OnLeaderChange func(leading bool)
}

// RunWithLeaderElection runs run(ctx) only while this candidate holds the coordination.k8s.io
// Lease Options.Namespace/Options.Name; other candidates wait. The context passed to run ends
// when leadership is lost or ctx ends; RunWithLeaderElection returns only after run has returned,
// releasing the Lease on the way out (ReleaseOnCancel). With Options.Enabled false it calls
// run(ctx) at once (and reports leading). It returns nil when ctx ends, ErrLeadershipLost when
// the Lease was lost first.
func RunWithLeaderElection(ctx context.Context, cfg LeaderElectionConfig, run func(ctx context.Context)) error {
	notify := func(leading bool) {
		if cfg.OnLeaderChange != nil {
			cfg.OnLeaderChange(leading)
		}
	}
	o := cfg.Options
	if !o.Enabled {
		notify(true)
		defer notify(false)
		run(ctx)
		return nil
	}
	id, err := identity(o.Identity)
	if err != nil {
		return err
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name},
		Client:     cfg.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}
	// run is started by client-go in its own goroutine; track it so that we return only after it
	// has, and never start it once le.Run has returned.
	var (
		mu      sync.Mutex
		stopped bool
		wg      sync.WaitGroup
	)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   o.LeaseDuration,
		RenewDeadline:   o.RenewDeadline,
		RetryPeriod:     o.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            o.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leadCtx context.Context) {
				mu.Lock()
				if stopped {
					mu.Unlock()
					return
				}
				wg.Add(1)
				mu.Unlock()
				defer wg.Done()
				klog.InfoS("Started leading", "lease", o.Namespace+"/"+o.Name, "identity", id)
				notify(true)
				run(leadCtx)
			},
			OnStoppedLeading: func() {
				klog.InfoS("Stopped leading", "lease", o.Namespace+"/"+o.Name, "identity", id)
				notify(false)
			},
			OnNewLeader: func(leader string) {
				klog.InfoS("Leader observed", "lease", o.Namespace+"/"+o.Name, "leader", leader, "self", leader == id)
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	le.Run(ctx)
	mu.Lock()
	stopped = true
	mu.Unlock()
	wg.Wait()
	if ctx.Err() == nil {
		return ErrLeadershipLost
	}
	return nil
}

// identity is the configured identity or hostname_uuid.
func identity(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("leader election identity: %w", err)
	}
	return host + "_" + string(uuid.NewUUID()), nil
}
