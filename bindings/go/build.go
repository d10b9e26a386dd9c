package goaccel

/*
#include <stdlib.h>
#include "wrapper.h"
*/
import "C"

import (
	"context"
	"os"
	"runtime"
	"sort"
	"time"
	"unsafe"
)

// BuildStep is a step of the build pipeline, in the order the steps run.
type BuildStep int

// The steps.
const (
	StepToolchain BuildStep = C.GOACCEL_BUILD_STEP_TOOLCHAIN // identify the go toolchain (cached)
	StepDeps      BuildStep = C.GOACCEL_BUILD_STEP_DEPS      // go mod download onto the gomod mount
	StepBuild     BuildStep = C.GOACCEL_BUILD_STEP_BUILD     // go build with both cache mounts
	StepExtract   BuildStep = C.GOACCEL_BUILD_STEP_EXTRACT   // copy artifacts out / write the image
	stepCount               = C.GOACCEL_BUILD_STEP_COUNT
)

// String is the library's name of the step ("toolchain", "deps", "build", "extract").
func (s BuildStep) String() string {
	return C.GoString(C.goaccel_build_step_name(C.goaccel_build_step(s)))
}

// BuildStatus is what happened to a step.
type BuildStatus int

// The statuses.
const (
	StatusNone    BuildStatus = C.GOACCEL_BUILD_STATUS_NONE    // the step did not run
	StatusHit     BuildStatus = C.GOACCEL_BUILD_STATUS_HIT     // served from the store
	StatusMiss    BuildStatus = C.GOACCEL_BUILD_STATUS_MISS    // it ran (or would run)
	StatusSkipped BuildStatus = C.GOACCEL_BUILD_STATUS_SKIPPED // nothing to do
	StatusFailed  BuildStatus = C.GOACCEL_BUILD_STATUS_FAILED  // it ran and failed
)

// String is the library's name of the status ("hit", "miss", ...).
func (s BuildStatus) String() string {
	return C.GoString(C.goaccel_build_status_name(C.goaccel_build_status(s)))
}

// BuildEventType is the kind of a progress event.
type BuildEventType int

// The event types.
const (
	EventStepStart BuildEventType = C.GOACCEL_BUILD_EVENT_STEP_START // Message says what the step will do
	EventStepEnd   BuildEventType = C.GOACCEL_BUILD_EVENT_STEP_END   // Status, Key, Elapsed, Message
	EventOutput    BuildEventType = C.GOACCEL_BUILD_EVENT_OUTPUT     // Data written by go on Stream
	EventTick      BuildEventType = C.GOACCEL_BUILD_EVENT_TICK       // about every 100 ms while go runs
	EventCommand   BuildEventType = C.GOACCEL_BUILD_EVENT_COMMAND    // Message is the argv about to start
)

// BuildEvent is one progress event of Build.
type BuildEvent struct {
	Type    BuildEventType
	Step    BuildStep
	Status  BuildStatus   // EventStepEnd
	Elapsed time.Duration // since the step started
	Key     Digest        // EventStepEnd: the step's key (zero when it has none)
	Message string
	Data    []byte // EventOutput: a copy of the bytes
	Stream  int    // EventOutput: 1 stdout, 2 stderr
}

func goBuildEvent(e *C.goaccel_build_event) BuildEvent {
	ev := BuildEvent{
		Type: BuildEventType(e._type), Step: BuildStep(e.step), Status: BuildStatus(e.status),
		Elapsed: time.Duration(e.elapsed_ns), Message: goString(e.message), Stream: int(e.stream),
	}
	if e.key != nil {
		ev.Key = goDigest(e.key)
	}
	if e.data != nil && e.len > 0 {
		ev.Data = C.GoBytes(unsafe.Pointer(e.data), C.int(e.len))
	}
	return ev
}

// CgoMode is the CGO_ENABLED given to go.
type CgoMode int

// The cgo modes. The zero value disables cgo (static binaries for images), as the library does.
const (
	CgoDisabled CgoMode = 0
	CgoEnabled  CgoMode = 1
	CgoFromEnv  CgoMode = -1 // the environment's, or go's own default
)

// BuildCopy is an extra copy into the output, like `COPY --from=builder Src Dst`.
type BuildCopy struct {
	Src string // relative to the module directory
	Dst string // relative to the output root; a trailing '/' puts Src in it
}

// BuildOptions are the options of Build. ModuleDir is required; every other zero value means
// the library's default.
type BuildOptions struct {
	ModuleDir  string   // the directory holding go.mod
	CacheDir   string   // the store root ("": the default store)
	Packages   []string // packages for go build (none: ".")
	Tags       string   // -tags
	LDFlags    string   // -ldflags
	GCFlags    string   // -gcflags
	NoTrimpath bool     // do not pass -trimpath (passed by default)
	BuildVCS   bool     // -buildvcs=true (false by default)
	Cgo        CgoMode
	GOOS       string
	GOARCH     string
	Env        []string // extra NAME=VALUE variables for go; part of both keys
	// Environ is the environment go starts from (nil: this process's). As with os/exec, when a
	// name appears more than once the last value wins (append overrides to os.Environ()).
	Environ   []string
	OutputDir string // where binaries and copies are written ("": nowhere)
	BinDir    string // a directory inside the output for the binaries
	Copies    []BuildCopy
	ImageDir  string // write an OCI image layout here ("": no image)
	ImageRef  string // its tag ("": "latest")
	BaseDir   string // base image OCI layout ("": FROM scratch)
	BaseRef   string
	Target    string // the name under which this build is remembered for explanations
	DryRun    bool   // compute and look up every key, run and write nothing

	// The image's configuration (the final stage's ENV, ENTRYPOINT, CMD, WORKDIR, USER, LABEL).
	// Used only with ImageDir and part of no step key; values replace the base image's.
	ImageEnv []string // NAME=VALUE variables of the image (not go's environment: that is Env)
	// ImageEntrypoint is the entrypoint in argv form. nil: the first binary, or with ImageCmd the
	// base's (as a Dockerfile with only CMD); an empty non-nil slice clears it (ENTRYPOINT []).
	ImageEntrypoint []string
	ImageCmd        []string          // the command in argv form (nil or empty: the base's, or none)
	ImageWorkdir    string            // the working directory ("": the base's, or none)
	ImageUser       string            // "uid", "uid:gid" or a name ("": the base's, or none)
	ImageLabels     map[string]string // labels of the image

	// Progress, when set, receives every event in the goroutine that called Build. Returning an
	// error cancels the build like a cancelled context does; Build's error then wraps it.
	Progress func(BuildEvent) error
}

// BuildChangeKind says what a change behind a miss concerns.
type BuildChangeKind int

// The change kinds.
const (
	ChangeFile      BuildChangeKind = C.GOACCEL_BUILD_CHANGE_FILE      // an input file
	ChangeField     BuildChangeKind = C.GOACCEL_BUILD_CHANGE_FIELD     // a flag, variable or key input
	ChangeToolchain BuildChangeKind = C.GOACCEL_BUILD_CHANGE_TOOLCHAIN // a toolchain field
	ChangeFirst     BuildChangeKind = C.GOACCEL_BUILD_CHANGE_FIRST     // no previous build known
)

// BuildChange is one reason a step missed.
type BuildChange struct {
	Kind     BuildChangeKind
	Name     string // the file path or field name ("" for ChangeFirst)
	What     string // "added", "removed", "modified" or "changed"
	OldValue string
	NewValue string
}

// StepResult is what happened to one step.
type StepResult struct {
	Step        BuildStep
	Status      BuildStatus
	Key         Digest // zero when the step has no key
	Duration    time.Duration
	Saved       time.Duration // for a hit: how long the step took when it ran
	Explanation string        // "hit", "3 files changed: main.go, ...", "first build of this target"
	Changes     []BuildChange // why it missed
}

// BuildOutput is one binary the build produced.
type BuildOutput struct {
	Name   string
	Path   string // where it was written in OutputDir ("" without one)
	Digest Digest
	Size   uint64
	Mode   os.FileMode
}

// BuildResult is the outcome of Build: a plain Go value (nothing to free).
type BuildResult struct {
	Steps       []StepResult // indexed by BuildStep
	Outputs     []BuildOutput
	ImageDigest Digest // the OCI manifest's digest (zero without an image)
	JSON        string // the library's JSON form (`goaccel build --json`, docs/build.md)
}

// Step returns the result of one step.
func (r *BuildResult) Step(s BuildStep) StepResult { return r.Steps[s] }

// Hit reports whether the build was served from the store: the toolchain, deps and build steps
// each hit (or had nothing to do), so no go process ran. The extract step is not counted: it
// copies the artifacts on every call that asks for them.
func (r *BuildResult) Hit() bool {
	for _, s := range []BuildStep{StepToolchain, StepDeps, StepBuild} {
		if st := r.Steps[s].Status; st != StatusHit && st != StatusSkipped {
			return false
		}
	}
	return true
}

// Build builds a Go module the way a BuildKit Dockerfile with cache mounts does — toolchain →
// deps → build → extract, each step cached in the store — and says per step whether it hit.
//
// Cancelling ctx reaches the library through the progress callback (events arrive at least every
// ~100 ms while go runs): the go process group is stopped, nothing is saved for the cancelled
// step, and the error matches both ErrUser and ctx.Err(). A failed go command gives ErrBuild with
// go's output in the message.
func Build(ctx context.Context, opts *BuildOptions) (*BuildResult, error) {
	if opts == nil || opts.ModuleDir == "" {
		return nil, errorf(ErrInvalid, "goaccel: BuildOptions.ModuleDir is required")
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var a cArena
	defer a.free()
	cdir := a.str(opts.ModuleDir)
	copts, err := opts.toC(&a)
	if err != nil {
		return nil, err
	}
	var fn func(interface{}) error
	if cb := opts.Progress; cb != nil {
		fn = func(e interface{}) error { return cb(e.(BuildEvent)) }
	}
	st, h := newCallState(ctx, fn)
	defer h.Delete()
	C.gobind_build_set_progress(copts, C.uintptr_t(h))

	var res *C.goaccel_build_result
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ret := C.goaccel_go_build(&res, cdir, copts)
	if err := st.finish(ret); err != nil {
		C.goaccel_build_result_free(res)
		return nil, err
	}
	defer C.goaccel_build_result_free(res)
	return goBuildResult(res)
}

func (o *BuildOptions) toC(a *cArena) (*C.goaccel_build_options, error) {
	c := (*C.goaccel_build_options)(a.alloc(unsafe.Sizeof(C.goaccel_build_options{})))
	if ret := C.goaccel_build_options_init(c, C.GOACCEL_BUILD_OPTIONS_VERSION); ret < 0 {
		return nil, errorf(ErrVersion, "goaccel_build_options_init failed")
	}
	c.cache_dir = a.strOrNil(o.CacheDir)
	c.packages, c.package_count = a.strList(o.Packages)
	c.tags = a.strOrNil(o.Tags)
	c.ldflags = a.strOrNil(o.LDFlags)
	c.gcflags = a.strOrNil(o.GCFlags)
	c.trimpath = cBool(!o.NoTrimpath)
	c.buildvcs = cBool(o.BuildVCS)
	c.cgo = C.int(o.Cgo)
	c.goos = a.strOrNil(o.GOOS)
	c.goarch = a.strOrNil(o.GOARCH)
	c.env, c.env_count = a.strList(dedupEnv(o.Env))
	c.envp = a.strs(dedupEnv(o.Environ))
	c.output_dir = a.strOrNil(o.OutputDir)
	c.bin_dir = a.strOrNil(o.BinDir)
	if len(o.Copies) > 0 {
		cc := (*C.goaccel_build_copy)(a.alloc(uintptr(len(o.Copies)) * unsafe.Sizeof(C.goaccel_build_copy{})))
		view := unsafe.Slice(cc, len(o.Copies))
		for i, cp := range o.Copies {
			view[i].src = a.str(cp.Src)
			view[i].dst = a.str(cp.Dst)
		}
		c.copies = cc
		c.copy_count = C.size_t(len(o.Copies))
	}
	c.image_dir = a.strOrNil(o.ImageDir)
	c.image_ref = a.strOrNil(o.ImageRef)
	c.base_dir = a.strOrNil(o.BaseDir)
	c.base_ref = a.strOrNil(o.BaseRef)
	c.target = a.strOrNil(o.Target)
	c.dry_run = cBool(o.DryRun)
	c.image_env, c.image_env_count = a.strList(o.ImageEnv)
	entrypoint := o.ImageEntrypoint
	if entrypoint != nil && len(entrypoint) == 0 {
		entrypoint = []string{""} // the library's "clear it"
	}
	c.image_entrypoint, c.image_entrypoint_count = a.strList(entrypoint)
	c.image_cmd, c.image_cmd_count = a.strList(o.ImageCmd)
	c.image_workdir = a.strOrNil(o.ImageWorkdir)
	c.image_user = a.strOrNil(o.ImageUser)
	labels := make([]string, 0, len(o.ImageLabels))
	for k, v := range o.ImageLabels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels) // the same image for the same map
	c.image_labels, c.image_label_count = a.strList(labels)
	return c, a.err
}

func goBuildResult(res *C.goaccel_build_result) (*BuildResult, error) {
	r := &BuildResult{}
	for s := C.goaccel_build_step(0); s < stepCount; s++ {
		sr := StepResult{
			Step:        BuildStep(s),
			Status:      BuildStatus(C.goaccel_build_result_status(res, s)),
			Duration:    time.Duration(C.goaccel_build_result_duration_ns(res, s)),
			Saved:       time.Duration(C.goaccel_build_result_saved_ns(res, s)),
			Explanation: goString(C.goaccel_build_result_explanation(res, s)),
		}
		if k := C.goaccel_build_result_key(res, s); k != nil {
			sr.Key = goDigest(k)
		}
		for i := C.size_t(0); i < C.goaccel_build_result_change_count(res, s); i++ {
			ch := C.goaccel_build_result_change_byindex(res, s, i)
			sr.Changes = append(sr.Changes, BuildChange{Kind: BuildChangeKind(ch.kind), Name: goString(ch.name),
				What: goString(ch.what), OldValue: goString(ch.old_value), NewValue: goString(ch.new_value)})
		}
		r.Steps = append(r.Steps, sr)
	}
	for i := C.size_t(0); i < C.goaccel_build_result_output_count(res); i++ {
		o := C.goaccel_build_result_output_byindex(res, i)
		r.Outputs = append(r.Outputs, BuildOutput{Name: goString(o.name), Path: goString(o.path),
			Digest: goDigest(&o.digest), Size: uint64(o.size), Mode: os.FileMode(o.mode)})
	}
	if d := C.goaccel_build_result_image_digest(res); d != nil {
		r.ImageDigest = goDigest(d)
	}
	var js *C.char
	if ret := C.goaccel_build_result_to_json(&js, res); ret < 0 {
		return nil, makeError(ret)
	}
	r.JSON = takeString(js)
	return r, nil
}

//export gobindBuildProgress
func gobindBuildProgress(event *C.goaccel_build_event, handle C.uintptr_t) C.int {
	st := stateOf(handle)
	return st.dispatch(func() interface{} { return goBuildEvent(event) })
}
