package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/version"
)

// binaryName is this command's name in --version and in its build-info metric.
const binaryName = "hsds-autoscaler"

// buildInfoMetric is the gauge on serve's /metrics that carries version.Get() (docs/metrics.md).
const buildInfoMetric = "hsds_autoscaler_build_info"

func versionString() string { return version.Get().String(binaryName) }

// addVersionFlag makes `hsds-autoscaler --version` print what `hsds-autoscaler version` prints
// (no -v shorthand: serve's klog flags own -v).
func addVersionFlag(root *cobra.Command) {
	root.Version = versionString()
	root.SetVersionTemplate("{{.Version}}\n")
	root.Flags().Bool("version", false, "Print the version and exit")
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionString())
			return err
		},
	}
}
