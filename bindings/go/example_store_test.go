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
