// Command hsds-autoscaler keeps an HSDS Deployment sized to its load.
//
//	hsds-autoscaler serve    custom.metrics.k8s.io adapter + scaler (leader-elected)
//	hsds-autoscaler dry-run  what a policy would do: on a trace (--trace) or a live cluster (--live)
//	hsds-autoscaler version
//
// Wiring only: every piece lives in adapter/, scaler/, heuristics/ and bench/.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	klog.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hsds-autoscaler:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "hsds-autoscaler",
		Short:         "Autoscaler for HSDS on Kubernetes: 503s by cause and tasks in flight, not CPU",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newDryRunCommand(), newVersionCommand())
	return root
}
