package goaccel_test

import (
	"context"
	"fmt"
	"time"

	"libgoaccel.dev/go/goaccel"
)

// Build a Go module with the step cache: a second call with nothing changed starts no go
// process. Cancelling the context stops a running build.
func ExampleBuild() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := goaccel.Build(ctx, &goaccel.BuildOptions{
		ModuleDir: "examples/app",
		OutputDir: "out",
		Tags:      "musl",
		LDFlags:   "-s -w",
		Progress: func(e goaccel.BuildEvent) error {
			if e.Type == goaccel.EventStepEnd {
				fmt.Printf("%-9s %s\n", e.Step, e.Status)
			}
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("served from the cache:", res.Hit())
	for _, o := range res.Outputs {
		fmt.Println(o.Path, o.Digest)
	}
}
