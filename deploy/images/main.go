// Command images writes the OCI archives of hsds-autoscaler and hsds-agent (package
// deploy/internal/image) into --out, and prints each reference, manifest digest and file.
// `make images` runs it from the module root with the version from VERSION, the revision from
// `git describe --always --dirty` and SOURCE_DATE_EPOCH from the last commit's time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/image"
)

type options struct {
	root, out, version, revision, arch string
	epoch                              int64
}

func main() {
	o := options{root: ".", out: "bin/images", arch: runtime.GOARCH, epoch: -1}
	flag.StringVar(&o.root, "module-root", o.root, "module root to build from")
	flag.StringVar(&o.out, "out", o.out, "directory for the archives")
	flag.StringVar(&o.version, "version", "", "release version (default: the file VERSION)")
	flag.StringVar(&o.revision, "revision", "", "source revision (default: git describe --always --dirty)")
	flag.Int64Var(&o.epoch, "source-date-epoch", o.epoch, "creation time of every file and of the images, Unix seconds (default: $SOURCE_DATE_EPOCH, else the last commit's time, else 0)")
	flag.StringVar(&o.arch, "arch", o.arch, "GOARCH of the images")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	m, err := o.meta(ctx)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	for _, s := range image.Shipped() {
		b, err := image.Build(ctx, o.root, o.out, s, m)
		if err != nil {
			return err
		}
		fmt.Printf("%s %s %s\n", b.Ref, b.Digest, b.Path)
	}
	return nil
}

// meta fills in what the flags left out from VERSION, git and $SOURCE_DATE_EPOCH.
func (o options) meta(ctx context.Context) (image.Meta, error) {
	m := image.Meta{Version: o.version, Revision: o.revision, GOARCH: o.arch}
	var errs []error
	if m.Version == "" {
		v, err := image.ReadVersion(o.root)
		m.Version = v
		errs = append(errs, err)
	}
	if m.Revision == "" {
		m.Revision = git(ctx, o.root, "unknown", "describe", "--always", "--dirty")
	}
	epoch := o.epoch
	if epoch < 0 {
		s := os.Getenv("SOURCE_DATE_EPOCH")
		if s == "" {
			s = git(ctx, o.root, "0", "log", "-1", "--format=%ct")
		}
		var err error
		if epoch, err = strconv.ParseInt(s, 10, 64); err != nil || epoch < 0 {
			errs = append(errs, fmt.Errorf("source date epoch %q: not a Unix time", s))
		}
	}
	m.Created = time.Unix(epoch, 0).UTC()
	return m, errors.Join(errs...)
}

// git runs git in dir and returns its trimmed output, or fallback when git fails (no git, not a
// work tree).
func git(ctx context.Context, dir, fallback string, args ...string) string {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if s := strings.TrimSpace(string(out)); err == nil && s != "" {
		return s
	}
	return fallback
}
