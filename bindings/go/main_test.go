package goaccel

import (
	"os"
	"strings"
	"testing"
)

// testHelpers are the helper processes a test can start by re-executing the test binary with
// GOACCEL_TEST_HELPER=<name>:<mode>; testCleanups run after all tests.
var (
	testHelpers  = map[string]func(mode string) int{}
	testCleanups []func()
)

func TestMain(m *testing.M) {
	if spec := os.Getenv("GOACCEL_TEST_HELPER"); spec != "" {
		name, mode := spec, ""
		if i := strings.IndexByte(spec, ':'); i >= 0 {
			name, mode = spec[:i], spec[i+1:]
		}
		fn, ok := testHelpers[name]
		if !ok {
			os.Exit(125)
		}
		os.Exit(fn(mode))
	}
	code := m.Run()
	for _, fn := range testCleanups {
		fn()
	}
	os.Exit(code)
}
