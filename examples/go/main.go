// Command gobuild builds a Go module with libgoaccel's step cache through the Go binding and
// prints what happened to each step: the first run does the work, a second run with nothing
// changed is served from the cache without starting go at all.
//
//	go run . -cache /tmp/goaccel-cache -o /tmp/out -proxy ../proxy ../app
//
// Ctrl-C cancels a running build (the context reaches the library through its progress
// callback, which stops the go process group).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"libgoaccel.dev/go/goaccel"
)

func main() {
	cache := flag.String("cache", "", "the cache (store) directory (default: $GOACCEL_CACHE or ~/.cache/goaccel)")
	out := flag.String("o", "", "write the binaries to this directory")
	proxy := flag.String("proxy", "", "a GOPROXY=file:// tree to take the modules from (examples/gen-proxy)")
	tags := flag.String("tags", "musl", "build tags")
	ldflags := flag.String("ldflags", "-s -w -X main.version=v1.0.0-gobuild", "linker flags")
	verbose := flag.Bool("v", false, "print go's output and the commands it runs")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: gobuild [flags] [MODULE_DIR]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	module := "."
	if flag.NArg() > 0 {
		module = flag.Arg(0)
	}

	env := os.Environ()
	if *proxy != "" {
		abs, err := filepath.Abs(*proxy)
		if err != nil {
			fail(err)
		}
		env = append(env, "GOPROXY=file://"+abs, "GOSUMDB=off")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	major, minor, patch := goaccel.Version()
	fmt.Printf("libgoaccel %d.%d.%d, building %s\n", major, minor, patch, module)
	start := time.Now()
	res, err := goaccel.Build(ctx, &goaccel.BuildOptions{
		ModuleDir: module,
		CacheDir:  *cache,
		Tags:      *tags,
		LDFlags:   *ldflags,
		Environ:   env,
		OutputDir: *out,
		Progress: func(e goaccel.BuildEvent) error {
			switch {
			case e.Type == goaccel.EventStepStart:
				fmt.Printf("  %-9s ... %s\n", e.Step, e.Message)
			case *verbose && e.Type == goaccel.EventCommand:
				fmt.Printf("  %-9s $ %s\n", e.Step, e.Message)
			case *verbose && e.Type == goaccel.EventOutput:
				os.Stdout.Write(e.Data)
			}
			return nil
		},
	})
	if errors.Is(err, context.Canceled) {
		fail(fmt.Errorf("cancelled: %w", err))
	}
	if err != nil {
		fail(err)
	}
	for _, s := range res.Steps {
		key := "-"
		if !s.Key.IsZero() {
			key = s.Key.String()[:12]
		}
		line := fmt.Sprintf("%-9s %-7s key %-12s %8s  %s", s.Step, s.Status, key, s.Duration.Round(time.Millisecond), s.Explanation)
		if s.Status == goaccel.StatusHit && s.Saved > 0 {
			line += fmt.Sprintf(" (saved %s)", s.Saved.Round(time.Millisecond))
		}
		fmt.Println(line)
	}
	for _, o := range res.Outputs {
		fmt.Printf("output    %s %d bytes sha256:%s %s\n", o.Name, o.Size, o.Digest.String()[:12], o.Path)
	}
	state := "miss"
	if res.Hit() {
		state = "hit"
	}
	fmt.Printf("result: %s in %s\n", state, time.Since(start).Round(time.Millisecond))
}

func fail(err error) {
	var e *goaccel.Error
	if errors.As(err, &e) {
		fmt.Fprintf(os.Stderr, "gobuild: %s: %s\n", e.Code, e.Message)
	} else {
		fmt.Fprintf(os.Stderr, "gobuild: %v\n", err)
	}
	os.Exit(1)
}
