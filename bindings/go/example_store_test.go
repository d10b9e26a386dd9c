package goaccel_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"libgoaccel.dev/go/goaccel"
)

// Cache mounts are directories of the store kept across builds, shared between processes with
// BuildKit's sharing modes.
func ExampleStore_Mount() {
	dir, _ := os.MkdirTemp("", "store")
	defer os.RemoveAll(dir)
	store, err := goaccel.OpenStore(filepath.Join(dir, "cache"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	m, err := store.Mount("gobuild", goaccel.Locked)
	if err != nil {
		fmt.Println(err)
		return
	}
	// While this process holds it Locked, nobody else gets it.
	_, err = store.MountWithOptions("gobuild", goaccel.Locked, &goaccel.MountOptions{NoWait: true})
	fmt.Println(errors.Is(err, goaccel.ErrLocked))
	fmt.Println(strings.HasPrefix(m.Path(), store.Path()))
	m.Release()
	// Output:
	// true
	// true
}

// Carry a cache to another machine: export the mounts, actions and refs into one archive and
// import it there (the archive is checked like hostile input).
func ExampleStore_Export() {
	dir, _ := os.MkdirTemp("", "export")
	defer os.RemoveAll(dir)
	src, _ := goaccel.OpenStore(filepath.Join(dir, "ci-cache"))
	defer src.Close()
	key, _ := goaccel.DigestBytes([]byte("a step key"))
	src.PutAction(key, "gobuild", []goaccel.ActionOutput{{Name: "app", Data: []byte("binary")}}, nil)

	archive := filepath.Join(dir, "cache.tar.zst")
	if _, err := src.Export(archive, &goaccel.ExportOptions{AllMounts: true, Actions: true, Refs: true}); err != nil {
		fmt.Println(err)
		return
	}
	dst, _ := goaccel.OpenStore(filepath.Join(dir, "laptop-cache"))
	defer dst.Close()
	res, err := dst.Import(archive, nil)
	fmt.Println(res.Actions, err)
	act, err := dst.LookupAction("gobuild", key)
	fmt.Println(err == nil)
	act.Free()
	// Output:
	// 1 <nil>
	// true
}

// A hit restores a step's outputs in one pass: every blob is verified while it is copied, so a
// damaged one never reaches the directory. ListActions shows the records without counting.
func ExampleStore_FetchAction() {
	dir, _ := os.MkdirTemp("", "fetch")
	defer os.RemoveAll(dir)
	store, _ := goaccel.OpenStore(filepath.Join(dir, "cache"))
	defer store.Close()
	key, _ := goaccel.DigestBytes([]byte("go build ./cmd/app, tags=musl"))
	store.PutAction(key, "gobuild", []goaccel.ActionOutput{{Name: "app", Data: []byte("binary"), Mode: 0o755}}, nil)

	act, err := store.FetchAction("gobuild", key, filepath.Join(dir, "out"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	act.Free()
	b, _ := os.ReadFile(filepath.Join(dir, "out", "app"))
	fmt.Println(string(b))

	list, _ := store.ListActions(&goaccel.ListActionsOptions{Kind: "gobuild"})
	for _, e := range list.Entries {
		fmt.Println(e.Kind, e.Outputs[0].Name, e.TotalSize)
	}
	// Output:
	// binary
	// gobuild app 6
}
