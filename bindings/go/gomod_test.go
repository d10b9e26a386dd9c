package goaccel

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

const sampleGoMod = `module example.com/app

go 1.22.3

toolchain go1.22.4

require (
	github.com/google/uuid v1.6.0
	golang.org/x/text v0.14.0 // indirect
)

replace example.com/lib => ../lib

retract v1.0.0 // published by mistake
`

func TestParseGoMod(t *testing.T) {
	m, err := ParseGoMod("app/go.mod", []byte(sampleGoMod))
	if err != nil {
		t.Fatal(err)
	}
	if m.Module != "example.com/app" || m.Go != "1.22.3" || m.Toolchain != "go1.22.4" {
		t.Fatalf("parsed %+v", m)
	}
	if len(m.Require) != 2 || m.Require[0].Path != "github.com/google/uuid" || m.Require[0].Indirect ||
		!m.Require[1].Indirect || m.Require[1].Version != "v0.14.0" || m.Require[0].Line != 8 {
		t.Fatalf("require %+v", m.Require)
	}
	if len(m.Replace) != 1 || !m.Replace[0].IsDir || m.Replace[0].NewPath != "../lib" || m.Replace[0].OldVersion != "" {
		t.Fatalf("replace %+v", m.Replace)
	}
	if len(m.Retract) != 1 || m.Retract[0].Low != "v1.0.0" || m.Retract[0].High != "v1.0.0" {
		t.Fatalf("retract %+v", m.Retract)
	}
	_, err = ParseGoMod("bad/go.mod", []byte("module x\nfrobnicate y\n"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "bad/go.mod:2") {
		t.Fatalf("malformed go.mod: %v", err)
	}
	if _, err := ParseGoModFile(filepath.Join(t.TempDir(), "go.mod")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing go.mod: %v", err)
	}

	w, err := ParseGoWork("", []byte("go 1.22\n\nuse (\n\t./app\n\t./lib\n)\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w.Go != "1.22" || len(w.Use) != 2 || w.Use[1] != "./lib" {
		t.Fatalf("go.work %+v", w)
	}
}

func TestInputs(t *testing.T) {
	app := filepath.Join(repoRoot(t), "examples", "app")
	roots, err := InputRoots(app, append(os.Environ(), "GOWORK=off"))
	if err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(app)
	if len(roots) != 1 || roots[0] != real {
		t.Fatalf("InputRoots = %v, want [%s]", roots, real)
	}
	files, err := BuildInputs(roots[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, f := range files {
		has[f] = true
	}
	for _, want := range []string{"go.mod", "go.sum", "main.go", "internal/static/banner.txt"} {
		if !has[want] {
			t.Errorf("BuildInputs lacks %s: %v", want, files)
		}
	}
	for _, not := range []string{"README.md", "api/handler_test.go", ".gitignore"} {
		if has[not] {
			t.Errorf("BuildInputs has %s, which go build does not read", not)
		}
	}
	if !sort.StringsAreSorted(files) {
		t.Errorf("BuildInputs not sorted: %v", files)
	}
	withTests, err := BuildInputs(roots[0], &BuildInputsOptions{Tests: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range withTests {
		found = found || f == "api/handler_test.go"
	}
	if !found {
		t.Errorf("BuildInputs(Tests) lacks api/handler_test.go: %v", withTests)
	}
}

// The h1: hashes agree with the ones Go wrote into examples/app/go.sum, computed over the
// module zips and .mod files of the GOPROXY tree, and over a module cache that `go mod
// download` filled from it; a damaged cache is reported by GoSumVerify.
func TestH1AndGoSum(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the go command and the example proxy")
	}
	proxy := exampleProxy(t)
	app := filepath.Join(repoRoot(t), "examples", "app")
	gosum := filepath.Join(app, "go.sum")

	if h, err := H1GoModBytes(nil); err != nil || h != "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=" {
		t.Fatalf("H1GoModBytes(empty) = %q, %v", h, err)
	}
	f, err := os.Open(gosum)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type line struct{ path, version, hash string }
	var dirs []line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		mod, ver, want := fields[0], fields[1], fields[2]
		if strings.HasSuffix(ver, "/go.mod") {
			ver = strings.TrimSuffix(ver, "/go.mod")
			got, err := H1GoMod(filepath.Join(proxy, mod, "@v", ver+".mod"))
			if err != nil || got != want {
				t.Errorf("H1GoMod(%s@%s) = %q, %v; go.sum has %s", mod, ver, got, err, want)
			}
			continue
		}
		got, err := H1Zip(filepath.Join(proxy, mod, "@v", ver+".zip"))
		if err != nil || got != want {
			t.Errorf("H1Zip(%s@%s) = %q, %v; go.sum has %s", mod, ver, got, err, want)
		}
		dirs = append(dirs, line{mod, ver, want})
	}
	if len(dirs) == 0 {
		t.Fatal("no module lines in go.sum")
	}

	modcache := filepath.Join(t.TempDir(), "mod")
	cmd := exec.Command("go", "mod", "download")
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "GOMODCACHE="+modcache, "GOPROXY=file://"+proxy, "GOSUMDB=off",
		"GOFLAGS=-modcacherw", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	for _, d := range dirs {
		got, err := H1Dir(filepath.Join(modcache, d.path+"@"+d.version), d.path, d.version)
		if err != nil || got != d.hash {
			t.Errorf("H1Dir(%s@%s) = %q, %v; go.sum has %s", d.path, d.version, got, err, d.hash)
		}
	}
	report, err := GoSumVerify(modcache, gosum, nil)
	if err != nil {
		t.Fatalf("GoSumVerify of a fresh cache: %v (%+v)", err, report)
	}
	if report.Checked == 0 || len(report.Problems) != 0 {
		t.Fatalf("report %+v", report)
	}
	victim := filepath.Join(modcache, dirs[0].path+"@"+dirs[0].version, "go.mod")
	if err := os.WriteFile(victim, []byte("module tampered\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	report, err = GoSumVerify(modcache, gosum, nil)
	if !errors.Is(err, ErrMismatch) || report == nil || len(report.Problems) == 0 {
		t.Fatalf("GoSumVerify of a damaged cache: %v, %+v", err, report)
	}
	p := report.Problems[0]
	if p.Kind != GoSumMismatch || p.Object != GoSumDir || p.ModulePath != dirs[0].path || p.Expected != dirs[0].hash {
		t.Fatalf("problem %+v", p)
	}
}

func TestGoToolchain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	tc, err := GoToolchain(filepath.Join(repoRoot(t), "examples", "app"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tc.Fields["GOOS"] != runtime.GOOS || tc.Fields["GOARCH"] != runtime.GOARCH || !strings.HasPrefix(tc.Fields["GOVERSION"], "go1.") {
		t.Fatalf("toolchain %+v", tc)
	}
	if tc.Digest.IsZero() || !sort.StringsAreSorted(tc.Names) || len(tc.Names) != len(tc.Fields) {
		t.Fatalf("toolchain %+v", tc)
	}
	_, err = GoToolchain("", []string{"PATH=/nonexistent"}, &ToolchainOptions{NoCache: true})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("no go in PATH: %v", err)
	}
}
