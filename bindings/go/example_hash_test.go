package goaccel_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"libgoaccel.dev/go/goaccel"
)

// Two checkouts of the same files have the same tree digest, whatever their paths and
// timestamps; .dockerignore-style patterns leave files out.
func ExampleHashTree() {
	a, _ := os.MkdirTemp("", "tree-a")
	b, _ := os.MkdirTemp("", "tree-b")
	defer os.RemoveAll(a)
	defer os.RemoveAll(b)
	for _, dir := range []string{a, b} {
		os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644)
	}
	os.WriteFile(filepath.Join(b, "debug.log"), []byte("noise\n"), 0o644)

	ctx := context.Background()
	da, err := goaccel.HashTree(ctx, a, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	db, _ := goaccel.HashTree(ctx, b, &goaccel.HashOptions{Exclude: []string{"*.log"}})
	fmt.Println("same digest:", da == db)
	// Output:
	// same digest: true
}
