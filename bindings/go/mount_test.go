package goaccel

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The helper process: the test binary re-executed with GOACCEL_TEST_HELPER=mount:<mode>. It
// acquires a mount of the store in GOACCEL_TEST_STORE Locked and reports on stdout what happened.
func init() { testHelpers["mount"] = helperMain }

func helperMain(mode string) int {
	s, err := OpenStore(os.Getenv("GOACCEL_TEST_STORE"))
	if err != nil {
		fmt.Println("open:", err)
		return 2
	}
	defer s.Close()
	var opts MountOptions
	switch mode {
	case "nowait":
		opts.NoWait = true
	case "wait":
		opts.Timeout = time.Minute
	}
	fmt.Println("waiting")
	m, err := s.MountWithOptions("shared-cache", Locked, &opts)
	if errors.Is(err, ErrLocked) {
		fmt.Println("locked:", err)
		return 3
	}
	if err != nil {
		fmt.Println("error:", err)
		return 2
	}
	fmt.Println("acquired", m.Path())
	if err := m.Release(); err != nil {
		fmt.Println("release:", err)
		return 2
	}
	return 0
}

func helper(t *testing.T, store, mode string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GOACCEL_TEST_HELPER=mount:"+mode, "GOACCEL_TEST_STORE="+store)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// A mount held Locked in this process blocks another process: without waiting it gets
// ErrLocked; waiting, it gets the mount only once this process releases it.
func TestMountLockedAcrossProcesses(t *testing.T) {
	storeDir := filepath.Join(t.TempDir(), "store")
	s, err := OpenStore(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := s.Mount("shared-cache", Locked)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sharing() != Locked || m.ID() != "shared-cache" || m.Instance() != 0 || !strings.HasPrefix(m.Path(), s.Path()) {
		t.Fatalf("mount %s %s %d %s", m.Sharing(), m.ID(), m.Instance(), m.Path())
	}

	cmd, _ := helper(t, storeDir, "nowait")
	if code := exitCode(cmd.Wait()); code != 3 {
		t.Fatalf("helper without waiting exited %d, want 3 (ErrLocked)", code)
	}

	cmd, lines := helper(t, storeDir, "wait")
	if !lines.Scan() || lines.Text() != "waiting" {
		t.Fatalf("helper said %q", lines.Text())
	}
	acquired := make(chan string, 1)
	go func() {
		for lines.Scan() {
			acquired <- lines.Text()
		}
		close(acquired)
	}()
	select {
	case line := <-acquired:
		t.Fatalf("helper got past a held Locked mount: %q", line)
	case <-time.After(500 * time.Millisecond):
	}
	if err := m.Release(); err != nil {
		t.Fatal(err)
	}
	line := <-acquired
	if !strings.HasPrefix(line, "acquired ") {
		t.Fatalf("helper after release: %q", line)
	}
	if code := exitCode(cmd.Wait()); code != 0 {
		t.Fatalf("helper exited %d", code)
	}

	// In one process, two Locked acquisitions exclude each other too.
	a, err := s.Mount("shared-cache", Locked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MountWithOptions("shared-cache", Locked, &MountOptions{NoWait: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Locked in one process: %v", err)
	}
	a.Release()
}

func TestMountSharedAndPrivate(t *testing.T) {
	s := openTestStore(t)
	a, err := s.Mount("gobuild", Shared)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.MountWithOptions("gobuild", Shared, &MountOptions{NoWait: true})
	if err != nil {
		t.Fatalf("two Shared holders: %v", err)
	}
	if a.Path() != b.Path() {
		t.Fatalf("Shared holders see %s and %s", a.Path(), b.Path())
	}
	if _, err := s.MountWithOptions("gobuild", Locked, &MountOptions{NoWait: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("Locked while Shared is held: %v", err)
	}
	a.Release()
	b.Release()

	p1, err := s.Mount("scratch", Private)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.Mount("scratch", Private)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Path() == p2.Path() || p2.Instance() == 0 {
		t.Fatalf("Private holders share %s (instance %d)", p1.Path(), p2.Instance())
	}
	infos, err := s.Mounts(true)
	if err != nil {
		t.Fatal(err)
	}
	inUse := 0
	for _, in := range infos {
		if in.ID == "scratch" && in.InUse {
			inUse++
		}
	}
	if inUse != 2 {
		t.Fatalf("Mounts() = %+v", infos)
	}
	p1.Release()
	p2.Release()
	if err := s.RemoveMount("scratch", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMount("scratch", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RemoveMount twice: %v", err)
	}
	if _, err := s.Mount("../escape", Shared); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad mount id: %v", err)
	}
}
