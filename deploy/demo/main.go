package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/term"
)

func main() {
	o := NewOptions()
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	o.ApplyModeDefaults(fs.Changed)
	if err := o.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: invalid flags:\n%v\n", err)
		os.Exit(2)
	}
	os.Exit(mainErr(o))
}

func mainErr(o *Options) int {
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		return 1
	}
	logf, err := setupLogging(filepath.Join(o.Out, "demo.log"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		return 1
	}
	defer logf.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, terminal(o)); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		return 1
	}
	return 0
}

// terminal redraws on a terminal (unless --plain) at its width, else appends lines.
func terminal(o *Options) Terminal {
	t := Terminal{W: os.Stdout, Width: 120}
	fd := int(os.Stdout.Fd())
	t.TTY = !o.Plain && term.IsTerminal(fd)
	if w, _, err := term.GetSize(fd); err == nil && w > 0 {
		t.Width = w
	} else if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		t.Width = c
	}
	return t
}
