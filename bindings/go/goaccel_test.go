package goaccel

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	major, minor, patch := Version()
	if major < 0 || minor < 0 || patch < 0 {
		t.Fatalf("Version() = %d.%d.%d", major, minor, patch)
	}
	s := VersionString()
	if want := fmt.Sprintf("%d.%d.%d", major, minor, patch); s != want {
		t.Fatalf("VersionString() = %q, Version() = %d.%d.%d", s, major, minor, patch)
	}
	if HeaderVersion != s {
		t.Fatalf("compiled against headers %s, running %s", HeaderVersion, s)
	}
	if pc, err := exec.Command("pkg-config", "--modversion", "goaccel").Output(); err == nil {
		if got := strings.TrimSpace(string(pc)); got != s {
			t.Fatalf("pkg-config says %s, library says %s", got, s)
		}
	}
}

// The test binary's dynamic dependencies show how libgoaccel was linked: a shared build needs
// libgoaccel.so, a goaccel_static build must not (but still needs its dependencies' .so files).
func TestLinkage(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	has := func(prefix string) bool {
		for _, l := range libs {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	}
	if LinkedStatically() {
		if has("libgoaccel.so") {
			t.Fatalf("built with goaccel_static but needs %v", libs)
		}
		if !has("libcrypto.so") {
			t.Fatalf("static libgoaccel should take its dependencies from shared libraries: %v", libs)
		}
		// libgit2, libarchive and SQLite are loaded with dlopen() by the calls that need them
		// (docs/dependencies.md), never linked.
		if has("libgit2.so") || has("libarchive.so") || has("libsqlite3.so") {
			t.Fatalf("static libgoaccel links libgit2/libarchive/SQLite instead of loading them lazily: %v", libs)
		}
	} else if !has("libgoaccel.so") {
		t.Fatalf("shared build does not need libgoaccel.so: %v", libs)
	}
}

// The static build names goaccel.pc's private requirements by hand (cgo directives cannot run
// pkg-config --print-requires-private); this keeps the two lists equal.
func TestStaticDependencies(t *testing.T) {
	out, err := exec.Command("pkg-config", "--print-requires-private", "goaccel").Output()
	if err != nil {
		t.Fatalf("pkg-config --print-requires-private goaccel: %v", err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if fields := strings.Fields(line); len(fields) > 0 {
			got = append(got, fields[0])
		}
	}
	if !reflect.DeepEqual(got, staticDeps) {
		t.Fatalf("goaccel.pc requires %v privately; link_static.go links %v", got, staticDeps)
	}
}

func TestDedupEnv(t *testing.T) {
	got := dedupEnv([]string{"A=1", "GOPROXY=off", "B=2", "GOPROXY=file:///p", "A=3", "NOEQ"})
	want := []string{"A=3", "GOPROXY=file:///p", "B=2", "NOEQ"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("dedupEnv = %q, want %q", got, want)
	}
	if dedupEnv(nil) != nil {
		t.Fatal("dedupEnv(nil) is not nil")
	}
}
