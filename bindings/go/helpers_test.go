package goaccel

import (
	"os"
	"path/filepath"
	"testing"
)

// repoRoot is the libgoaccel checkout: $GOACCEL_ROOT, or two levels above this package.
func repoRoot(t testing.TB) string {
	if r := os.Getenv("GOACCEL_ROOT"); r != "" {
		return r
	}
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// exampleProxy is the GOPROXY=file:// tree examples/gen-proxy generates for examples/app.
func exampleProxy(t testing.TB) string {
	dir := os.Getenv("GOACCEL_EXAMPLE_PROXY")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "examples", "proxy")
	}
	if _, err := os.Stat(filepath.Join(dir, "github.com")); err != nil {
		t.Fatalf("no module proxy tree at %s: run examples/gen-proxy first (scripts/test.d/70-go does)", dir)
	}
	return dir
}

// writeTree creates files (name → content; a name ending in "*" is made executable) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		mode := os.FileMode(0o644)
		if name[len(name)-1] == '*' {
			name, mode = name[:len(name)-1], 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// copyTree copies a directory of regular files and directories (the example module).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
