package goaccel

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The build tests share one store, so that Go's build cache (a mount in it) is compiled once:
// $GOACCEL_GO_TEST_CACHE when set (scripts/test.d/70-go shares it with examples/go), else a
// temporary directory removed when the tests end.
var buildCache struct {
	once sync.Once
	dir  string
	temp bool
	err  error
}

func sharedBuildCache(t *testing.T) string {
	buildCache.once.Do(func() {
		if dir := os.Getenv("GOACCEL_GO_TEST_CACHE"); dir != "" {
			buildCache.dir = dir
			return
		}
		buildCache.dir, buildCache.err = os.MkdirTemp("", "goaccel-go-test-")
		buildCache.temp = true
	})
	if buildCache.err != nil {
		t.Fatal(buildCache.err)
	}
	return buildCache.dir
}

func init() { testCleanups = append(testCleanups, cleanupBuildCache) }

func cleanupBuildCache() {
	if !buildCache.temp {
		return
	}
	// Go's module cache is read-only.
	filepath.Walk(buildCache.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.RemoveAll(buildCache.dir)
}

// exampleModule copies examples/app into a temporary directory (the tests edit it) and returns
// build options for it against the shared store and the file:// module proxy.
func exampleModule(t *testing.T) *BuildOptions {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the example module with the go command")
	}
	proxy := exampleProxy(t)
	dir := filepath.Join(t.TempDir(), "app")
	copyTree(t, filepath.Join(repoRoot(t), "examples", "app"), dir)
	return &BuildOptions{
		ModuleDir: dir,
		CacheDir:  sharedBuildCache(t),
		Tags:      "musl",
		LDFlags:   "-s -w -X main.version=v1.2.3-go-test",
		Environ: append(os.Environ(), "GOPROXY=file://"+proxy, "GOSUMDB=off", "GOWORK=off",
			"GOTOOLCHAIN=local", "GOFLAGS=-modcacherw"),
		OutputDir: filepath.Join(t.TempDir(), "out"),
		Target:    "go-binding-test",
	}
}

type eventLog struct {
	mu     sync.Mutex
	events []BuildEvent
}

func (l *eventLog) record(e BuildEvent) error {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	return nil
}

func (l *eventLog) commands() []string {
	var out []string
	for _, e := range l.events {
		if e.Type == EventCommand {
			out = append(out, e.Message)
		}
	}
	return out
}

func runBinary(t *testing.T, path string, args ...string) string {
	t.Helper()
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", path, args, err, out)
	}
	return string(out)
}

// A real build of the example module; the second identical call is served from the store with
// no go process started; an edit to a file go build does not read still hits; an edit to one it
// reads misses and says which file.
func TestBuildHitsOnSecondCall(t *testing.T) {
	opts := exampleModule(t)
	ctx := context.Background()
	store, err := OpenStore(opts.CacheDir)
	if err != nil {
		t.Fatal(err)
	}
	usage, err := store.Usage()
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	fresh := usage.Actions == 0

	var first eventLog
	opts.Progress = first.record
	r1, err := Build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if fresh && (r1.Step(StepBuild).Status != StatusMiss || r1.Step(StepDeps).Status != StatusMiss) {
		t.Fatalf("first build in a fresh store: deps %s, build %s", r1.Step(StepDeps).Status, r1.Step(StepBuild).Status)
	}
	if fresh && len(first.commands()) == 0 {
		t.Fatal("a cold build started no go command")
	}
	if len(r1.Outputs) != 1 || r1.Outputs[0].Name != "orders" || r1.Step(StepBuild).Key.IsZero() {
		t.Fatalf("first build: %+v", r1)
	}
	bin := filepath.Join(opts.OutputDir, "orders")
	if got := runBinary(t, bin, "--version"); !strings.Contains(got, "v1.2.3-go-test") {
		t.Fatalf("orders --version: %q", got)
	}
	if d, _ := DigestFile(bin); d != r1.Outputs[0].Digest {
		t.Fatalf("output digest %s, file %s", r1.Outputs[0].Digest, d)
	}

	var second eventLog
	opts.Progress = second.record
	opts.OutputDir = filepath.Join(t.TempDir(), "out2")
	r2, err := Build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Step(StepDeps).Status != StatusHit || r2.Step(StepBuild).Status != StatusHit || !r2.Hit() {
		t.Fatalf("second build: deps %s, build %s (%s)", r2.Step(StepDeps).Status, r2.Step(StepBuild).Status,
			r2.Step(StepBuild).Explanation)
	}
	if cmds := second.commands(); len(cmds) != 0 {
		t.Fatalf("a cached build started go: %q", cmds)
	}
	if r2.Step(StepBuild).Key != r1.Step(StepBuild).Key || r2.Outputs[0].Digest != r1.Outputs[0].Digest {
		t.Fatal("the hit restored another binary")
	}
	if got := runBinary(t, filepath.Join(opts.OutputDir, "orders"), "--self-test"); got == "" {
		t.Fatal("restored binary printed nothing")
	}
	if !strings.Contains(r2.JSON, `"hit"`) {
		t.Fatalf("result JSON: %s", r2.JSON)
	}

	// README.md is not read by go build: still a hit.
	writeTree(t, opts.ModuleDir, map[string]string{"README.md": "edited\n"})
	opts.Progress = nil
	r3, err := Build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r3.Step(StepBuild).Status != StatusHit {
		t.Fatalf("README edit: build %s (%s)", r3.Step(StepBuild).Status, r3.Step(StepBuild).Explanation)
	}

	// main.go is: a miss that names it.
	main := filepath.Join(opts.ModuleDir, "main.go")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, opts.ModuleDir, map[string]string{"main.go": string(src) + "\n// edited by the Go binding's test\n"})
	r4, err := Build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	step := r4.Step(StepBuild)
	named := false
	for _, c := range step.Changes {
		named = named || (c.Kind == ChangeFile && c.Name == "main.go")
	}
	if step.Status != StatusMiss || !named || r4.Step(StepDeps).Status != StatusHit {
		t.Fatalf("main.go edit: deps %s, build %s, changes %+v (%s)", r4.Step(StepDeps).Status, step.Status,
			step.Changes, step.Explanation)
	}
}

// Cancelling the context while go build runs stops it; nothing is saved for the step.
func TestBuildCancel(t *testing.T) {
	opts := exampleModule(t)
	// Flags no other test uses, so the build step misses and go has real work to do.
	opts.GCFlags = "all=-N -l"
	opts.Target = "go-binding-cancel"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	goStarted := make(chan struct{})
	var once sync.Once
	opts.Progress = func(e BuildEvent) error {
		if e.Type == EventCommand && e.Step == StepBuild {
			once.Do(func() { close(goStarted) })
		}
		return nil
	}
	go func() {
		select {
		case <-goStarted:
			time.Sleep(200 * time.Millisecond)
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	res, err := Build(ctx, opts)
	if res != nil || !errors.Is(err, ErrUser) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled build: %+v, %v", res, err)
	}
	t.Logf("cancelled after %v: %v", time.Since(start), err)

	opts.Progress = nil
	opts.DryRun = true
	dry, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Step(StepBuild).Status != StatusMiss {
		t.Fatalf("the cancelled step was saved: %s", dry.Step(StepBuild).Status)
	}
}

func TestBuildErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	ctx := context.Background()
	cache := sharedBuildCache(t)
	if _, err := Build(ctx, &BuildOptions{ModuleDir: t.TempDir(), CacheDir: cache}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no go.mod: %v", err)
	}
	if _, err := Build(ctx, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nil options: %v", err)
	}

	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":  "module example.com/broken\n\ngo 1.22\n",
		"main.go": "package main\n\nfunc main() { notDefined() }\n",
	})
	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off", "GOPROXY=off")
	_, err := Build(ctx, &BuildOptions{ModuleDir: dir, CacheDir: cache, Environ: env})
	if !errors.Is(err, ErrBuild) || !strings.Contains(err.Error(), "notDefined") {
		t.Fatalf("compile error: %v", err)
	}

	// A panic in the progress callback does not unwind through C: it is re-raised by Build.
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the callback's panic", r)
			}
		}()
		Build(ctx, &BuildOptions{ModuleDir: dir, CacheDir: cache, Environ: env,
			Progress: func(BuildEvent) error { panic("boom") }})
		t.Fatal("Build returned after its callback panicked")
	}()

	// An error from the callback cancels and is the cause.
	stop := errors.New("stop here")
	_, err = Build(ctx, &BuildOptions{ModuleDir: dir, CacheDir: cache, Environ: env,
		Progress: func(BuildEvent) error { return stop }})
	if !errors.Is(err, ErrUser) || !errors.Is(err, stop) {
		t.Fatalf("callback error: %v", err)
	}
}

// ociImageConfig is the "config" object of the only image in an OCI layout, read through
// index.json → manifest → config blob.
type ociImageConfig struct {
	Env        []string          `json:"Env"`
	Entrypoint []string          `json:"Entrypoint"`
	Cmd        []string          `json:"Cmd"`
	WorkingDir string            `json:"WorkingDir"`
	User       string            `json:"User"`
	Labels     map[string]string `json:"Labels"`
}

func readOCIConfig(t *testing.T, layout string) ociImageConfig {
	t.Helper()
	readJSON := func(path string, v interface{}) {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	blob := func(digest string) string {
		return filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
	}
	var idx ociIndex
	readJSON(filepath.Join(layout, "index.json"), &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("%s holds %d manifests", layout, len(idx.Manifests))
	}
	var manifest struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	readJSON(blob(idx.Manifests[0].Digest), &manifest)
	var config struct {
		Config ociImageConfig `json:"config"`
	}
	readJSON(blob(manifest.Config.Digest), &config)
	return config.Config
}

func hasAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, s := range list {
			found = found || s == w
		}
		if !found {
			return false
		}
	}
	return true
}

// The image options reach the image's config: ENV, ENTRYPOINT, CMD, WORKDIR, USER and LABEL;
// an empty (non-nil) entrypoint clears it, none given makes it the binary. They are part of no
// key: the later builds hit and still write their own configuration.
func TestBuildImageConfig(t *testing.T) {
	opts := exampleModule(t)
	ctx := context.Background()
	opts.ImageDir = filepath.Join(t.TempDir(), "oci")
	opts.ImageEnv = []string{"TZ=Asia/Shanghai", "MODE=prod"}
	opts.ImageEntrypoint = []string{"/orders", "--serve"}
	opts.ImageCmd = []string{"--port", "8080"}
	opts.ImageWorkdir = "/srv"
	opts.ImageUser = "65534:65534"
	opts.ImageLabels = map[string]string{"org.opencontainers.image.title": "orders", "team": "ci"}
	if _, err := Build(ctx, opts); err != nil {
		t.Fatal(err)
	}
	c := readOCIConfig(t, opts.ImageDir)
	if !hasAll(c.Env, "TZ=Asia/Shanghai", "MODE=prod") || strings.Join(c.Entrypoint, " ") != "/orders --serve" ||
		strings.Join(c.Cmd, " ") != "--port 8080" || c.WorkingDir != "/srv" || c.User != "65534:65534" ||
		len(c.Labels) != 2 || c.Labels["org.opencontainers.image.title"] != "orders" || c.Labels["team"] != "ci" {
		t.Fatalf("image config %+v", c)
	}

	opts.ImageEntrypoint, opts.ImageCmd = []string{}, []string{"/orders"}
	opts.ImageEnv, opts.ImageWorkdir, opts.ImageUser, opts.ImageLabels = nil, "", "", nil
	r, err := Build(ctx, opts)
	if err != nil || r.Step(StepBuild).Status != StatusHit {
		t.Fatalf("second build: %v, %+v", err, r)
	}
	if c := readOCIConfig(t, opts.ImageDir); len(c.Entrypoint) != 0 || strings.Join(c.Cmd, " ") != "/orders" ||
		hasAll(c.Env, "MODE=prod") || c.WorkingDir != "" || c.User != "" || len(c.Labels) != 0 {
		t.Fatalf("image config with the entrypoint cleared %+v", c)
	}

	opts.ImageEntrypoint, opts.ImageCmd = nil, nil
	if _, err := Build(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if c := readOCIConfig(t, opts.ImageDir); strings.Join(c.Entrypoint, " ") != "/orders" || len(c.Cmd) != 0 {
		t.Fatalf("default image config %+v", c)
	}
}
