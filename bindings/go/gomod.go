package goaccel

/*
#include <stdlib.h>
#include <goaccel/goaccel.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// ModuleVersion is a module path and version from a require or exclude directive.
type ModuleVersion struct {
	Path     string
	Version  string // "" where the form has none
	Indirect bool   // the require line carries a "// indirect" comment
	Line     int    // 1-based line of the directive
}

// Replace is a replace directive: Old [OldVersion] => New [NewVersion].
type Replace struct {
	OldPath    string
	OldVersion string // "": every version of OldPath is replaced
	NewPath    string // a module path, or a local directory when IsDir
	NewVersion string // "" when the replacement is a directory
	IsDir      bool
	Line       int
}

// Retract is a retract directive: one version (Low == High) or an inclusive interval.
type Retract struct {
	Low, High string
	Rationale string
	Line      int
}

// Godebug is a "godebug key=value" directive.
type Godebug struct {
	Key, Value string
	Line       int
}

// GoMod is a parsed go.mod file (golang.org/x/mod/modfile's grammar, in strict mode).
type GoMod struct {
	Module    string // the module path; "" when the file has no module line
	Go        string // the go version, such as "1.22.3"; "" when absent
	Toolchain string // the toolchain name, such as "go1.22.3"; "" when absent
	Require   []ModuleVersion
	Exclude   []ModuleVersion
	Replace   []Replace
	Retract   []Retract
	Godebug   []Godebug
}

// GoWork is a parsed go.work file.
type GoWork struct {
	Go        string
	Toolchain string
	Use       []string // the use directories as written
	Replace   []Replace
	Godebug   []Godebug
}

// ParseGoMod parses go.mod content with the library's parser. name is used only in error
// messages ("" reads as "go.mod"). Malformed input gives ErrInvalid with "file:line: what".
func ParseGoMod(name string, data []byte) (*GoMod, error) {
	var a cArena
	defer a.free()
	cname, cdata := a.strOrNil(name), a.bytes(data)
	return parseGoMod(&a, func(m **C.goaccel_gomod) C.int {
		return C.goaccel_gomod_parse(m, cname, (*C.char)(cdata), C.size_t(len(data)))
	})
}

// ParseGoModFile reads and parses a go.mod file: ErrNotFound when it does not exist, ErrLimit
// beyond 16 MiB, ErrInvalid when malformed.
func ParseGoModFile(path string) (*GoMod, error) {
	var a cArena
	defer a.free()
	cpath := a.str(path)
	return parseGoMod(&a, func(m **C.goaccel_gomod) C.int { return C.goaccel_gomod_parse_file(m, cpath) })
}

// parseGoMod runs one of the go.mod parsers once a's conversions succeeded.
func parseGoMod(a *cArena, parse func(**C.goaccel_gomod) C.int) (*GoMod, error) {
	if a.err != nil {
		return nil, a.err
	}
	var m *C.goaccel_gomod
	if err := call(func() C.int { return parse(&m) }); err != nil {
		return nil, err
	}
	defer C.goaccel_gomod_free(m)
	return goGoMod(m), nil
}

func goGoMod(m *C.goaccel_gomod) *GoMod {
	g := &GoMod{
		Module:    goString(C.goaccel_gomod_module_path(m)),
		Go:        goString(C.goaccel_gomod_go_version(m)),
		Toolchain: goString(C.goaccel_gomod_toolchain(m)),
	}
	for i := C.size_t(0); i < C.goaccel_gomod_require_count(m); i++ {
		g.Require = append(g.Require, goModuleVersion(C.goaccel_gomod_require_byindex(m, i)))
	}
	for i := C.size_t(0); i < C.goaccel_gomod_exclude_count(m); i++ {
		g.Exclude = append(g.Exclude, goModuleVersion(C.goaccel_gomod_exclude_byindex(m, i)))
	}
	for i := C.size_t(0); i < C.goaccel_gomod_replace_count(m); i++ {
		g.Replace = append(g.Replace, goReplace(C.goaccel_gomod_replace_byindex(m, i)))
	}
	for i := C.size_t(0); i < C.goaccel_gomod_retract_count(m); i++ {
		r := C.goaccel_gomod_retract_byindex(m, i)
		g.Retract = append(g.Retract, Retract{Low: goString(r.low), High: goString(r.high),
			Rationale: goString(r.rationale), Line: int(r.line)})
	}
	for i := C.size_t(0); i < C.goaccel_gomod_godebug_count(m); i++ {
		g.Godebug = append(g.Godebug, goGodebug(C.goaccel_gomod_godebug_byindex(m, i)))
	}
	return g
}

func goModuleVersion(v *C.goaccel_gomod_module) ModuleVersion {
	return ModuleVersion{Path: goString(v.path), Version: goString(v.version),
		Indirect: v.indirect != 0, Line: int(v.line)}
}

func goReplace(r *C.goaccel_gomod_replace) Replace {
	return Replace{OldPath: goString(r.old_path), OldVersion: goString(r.old_version),
		NewPath: goString(r.new_path), NewVersion: goString(r.new_version),
		IsDir: r.is_dir != 0, Line: int(r.line)}
}

func goGodebug(d *C.goaccel_gomod_godebug) Godebug {
	return Godebug{Key: goString(d.key), Value: goString(d.value), Line: int(d.line)}
}

// ParseGoWork parses go.work content ("" name reads as "go.work"); errors as ParseGoMod.
func ParseGoWork(name string, data []byte) (*GoWork, error) {
	var a cArena
	defer a.free()
	cname, cdata := a.strOrNil(name), a.bytes(data)
	return parseGoWork(&a, func(w **C.goaccel_gowork) C.int {
		return C.goaccel_gowork_parse(w, cname, (*C.char)(cdata), C.size_t(len(data)))
	})
}

// ParseGoWorkFile reads and parses a go.work file; errors as ParseGoModFile.
func ParseGoWorkFile(path string) (*GoWork, error) {
	var a cArena
	defer a.free()
	cpath := a.str(path)
	return parseGoWork(&a, func(w **C.goaccel_gowork) C.int { return C.goaccel_gowork_parse_file(w, cpath) })
}

// parseGoWork runs one of the go.work parsers once a's conversions succeeded.
func parseGoWork(a *cArena, parse func(**C.goaccel_gowork) C.int) (*GoWork, error) {
	if a.err != nil {
		return nil, a.err
	}
	var w *C.goaccel_gowork
	if err := call(func() C.int { return parse(&w) }); err != nil {
		return nil, err
	}
	defer C.goaccel_gowork_free(w)
	return goGoWork(w), nil
}

func goGoWork(w *C.goaccel_gowork) *GoWork {
	g := &GoWork{Go: goString(C.goaccel_gowork_go_version(w)), Toolchain: goString(C.goaccel_gowork_toolchain(w))}
	for i := C.size_t(0); i < C.goaccel_gowork_use_count(w); i++ {
		g.Use = append(g.Use, goString(C.goaccel_gowork_use_byindex(w, i)))
	}
	for i := C.size_t(0); i < C.goaccel_gowork_replace_count(w); i++ {
		g.Replace = append(g.Replace, goReplace(C.goaccel_gowork_replace_byindex(w, i)))
	}
	for i := C.size_t(0); i < C.goaccel_gowork_godebug_count(w); i++ {
		g.Godebug = append(g.Godebug, goGodebug(C.goaccel_gowork_godebug_byindex(w, i)))
	}
	return g
}

// FindGoWork returns the absolute path of the go.work file the go command would use for a build
// in moduleDir: $GOWORK from env (nil: this process's environment; the last of duplicate names
// wins, as with os/exec), else the nearest go.work
// at or above moduleDir. ErrNotFound when no go.work is in use.
func FindGoWork(moduleDir string, env []string) (string, error) {
	var out *C.char
	err := withDirEnv(moduleDir, env, func(cdir *C.char, cenv **C.char) C.int {
		return C.goaccel_gomod_find_work(&out, cdir, cenv)
	})
	if err != nil {
		return "", err
	}
	return takeString(out), nil
}

// InputRoots returns the directories whose content feeds a build in moduleDir: the main module
// first, then (bytewise sorted) workspace directories and local replace targets, each absolute.
// env is the go command's environment (nil: this process's; the last of duplicates wins). ErrNotFound without a go.mod.
func InputRoots(moduleDir string, env []string) ([]string, error) {
	var out C.goaccel_strarray
	err := withDirEnv(moduleDir, env, func(cdir *C.char, cenv **C.char) C.int {
		return C.goaccel_gomod_input_roots(&out, cdir, cenv)
	})
	if err != nil {
		return nil, err
	}
	return goStrarray(&out), nil
}

// withDirEnv calls fn with moduleDir and env (deduplicated as os/exec does; nil: NULL) in C.
func withDirEnv(moduleDir string, env []string, fn func(cdir *C.char, cenv **C.char) C.int) error {
	var a cArena
	defer a.free()
	cdir, cenv := a.str(moduleDir), a.strs(dedupEnv(env))
	if a.err != nil {
		return a.err
	}
	return call(func() C.int { return fn(cdir, cenv) })
}

// BuildInputsOptions are the options of BuildInputs; nil means defaults.
type BuildInputsOptions struct {
	// Tests also selects what `go test` reads (_test.go files, testdata/, their embeds).
	Tests bool
}

// BuildInputs returns exactly the files under root (one of InputRoots) that the go command can
// read when it builds root's packages, as root-relative '/'-separated paths in bytewise order —
// the list HashPaths hashes. See docs/keys.md, "Build inputs".
func BuildInputs(root string, opts *BuildInputsOptions) ([]string, error) {
	croot, err := cString(root)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(croot))
	var copts C.goaccel_gomod_inputs_options
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_gomod_inputs_options_init(&copts, C.GOACCEL_GOMOD_INPUTS_OPTIONS_VERSION); ret < 0 {
		return nil, makeError(ret)
	}
	if opts != nil {
		copts.tests = cBool(opts.Tests)
	}
	var out C.goaccel_strarray
	if ret := C.goaccel_gomod_build_inputs(&out, croot, &copts); ret < 0 {
		return nil, makeError(ret)
	}
	return goStrarray(&out), nil
}

// H1Dir returns Go's "h1:" hash of a directory holding modulePath@version, the hash Go checks an
// extracted module in GOMODCACHE against (golang.org/x/mod/sumdb/dirhash.HashDir).
func H1Dir(dir, modulePath, version string) (string, error) {
	var a cArena
	defer a.free()
	cdir, cpath, cver := a.str(dir), a.str(modulePath), a.str(version)
	if a.err != nil {
		return "", a.err
	}
	var out *C.char
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_h1_dir(&out, cdir, cpath, cver); ret < 0 {
		return "", makeError(ret)
	}
	return takeString(out), nil
}

// H1Zip returns Go's "h1:" hash of a module zip, the hash go.sum records for a module.
func H1Zip(zipPath string) (string, error) {
	cpath, err := cString(zipPath)
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(cpath))
	var out *C.char
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_h1_zip(&out, cpath); ret < 0 {
		return "", makeError(ret)
	}
	return takeString(out), nil
}

// H1GoMod returns Go's "h1:" hash of a go.mod file, as go.sum's "path version/go.mod" lines
// record it.
func H1GoMod(path string) (string, error) {
	cpath, err := cString(path)
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(cpath))
	var out *C.char
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_h1_gomod(&out, cpath); ret < 0 {
		return "", makeError(ret)
	}
	return takeString(out), nil
}

// H1GoModBytes is H1GoMod of content in memory.
func H1GoModBytes(data []byte) (string, error) {
	var a cArena
	defer a.free()
	p := a.bytes(data)
	var out *C.char
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_h1_gomod_buffer(&out, p, C.size_t(len(data))); ret < 0 {
		return "", makeError(ret)
	}
	return takeString(out), nil
}

// GoSumObject says what a verification problem concerns.
type GoSumObject int

// The objects GoSumVerify checks.
const (
	GoSumDir   GoSumObject = C.GOACCEL_GOSUM_DIR   // the extracted module directory
	GoSumZip   GoSumObject = C.GOACCEL_GOSUM_ZIP   // the downloaded zip
	GoSumGoMod GoSumObject = C.GOACCEL_GOSUM_GOMOD // the downloaded .mod file
)

// GoSumProblemKind says what went wrong.
type GoSumProblemKind int

// The problems GoSumVerify reports.
const (
	GoSumMismatch   GoSumProblemKind = C.GOACCEL_GOSUM_MISMATCH   // content hashes differently
	GoSumMissing    GoSumProblemKind = C.GOACCEL_GOSUM_MISSING    // listed in go.sum, absent
	GoSumUnreadable GoSumProblemKind = C.GOACCEL_GOSUM_UNREADABLE // present but unreadable
)

// GoSumProblem is one problem found by GoSumVerify.
type GoSumProblem struct {
	Kind       GoSumProblemKind
	Object     GoSumObject
	ModulePath string
	Version    string
	Expected   string // the h1: from go.sum
	Actual     string // the h1: computed; "" when missing or unreadable
	Path       string // the file or directory checked
	Detail     string
}

// GoSumReport is the result of GoSumVerify.
type GoSumReport struct {
	Checked  int // go.sum lines checked
	Problems []GoSumProblem
}

// GoSumOptions are the options of GoSumVerify; nil means defaults (report everything).
type GoSumOptions struct {
	IgnoreMissingGoMod bool // do not report absent .mod files of go.mod-only lines
	IgnoreMissing      bool // check only the modules that are present
}

// GoSumVerify checks a module cache (GOMODCACHE layout) against a go.sum like `go mod verify`,
// reporting every problem. When problems are found the report is returned together with an
// error for which errors.Is(err, ErrMismatch) holds. ErrInvalid for a malformed go.sum,
// ErrNotFound when go.sum or modcache is absent.
func GoSumVerify(modcache, gosum string, opts *GoSumOptions) (*GoSumReport, error) {
	var a cArena
	defer a.free()
	cmod, csum := a.str(modcache), a.str(gosum)
	if a.err != nil {
		return nil, a.err
	}
	var copts C.goaccel_gosum_options
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_gosum_options_init(&copts, C.GOACCEL_GOSUM_OPTIONS_VERSION); ret < 0 {
		return nil, makeError(ret)
	}
	if opts != nil {
		copts.ignore_missing_gomod = cBool(opts.IgnoreMissingGoMod)
		copts.ignore_missing = cBool(opts.IgnoreMissing)
	}
	var r *C.goaccel_gosum_report
	ret := C.goaccel_gosum_verify(&r, cmod, csum, &copts)
	var err error
	if ret < 0 {
		err = makeError(ret)
	}
	if r == nil {
		return nil, err
	}
	defer C.goaccel_gosum_report_free(r)
	report := &GoSumReport{Checked: int(C.goaccel_gosum_report_checked(r))}
	for i := C.size_t(0); i < C.goaccel_gosum_report_problem_count(r); i++ {
		p := C.goaccel_gosum_report_problem_byindex(r, i)
		report.Problems = append(report.Problems, GoSumProblem{
			Kind: GoSumProblemKind(p.kind), Object: GoSumObject(p.object),
			ModulePath: goString(p.module_path), Version: goString(p.version),
			Expected: goString(p.expected), Actual: goString(p.actual),
			Path: goString(p.path), Detail: goString(p.detail),
		})
	}
	return report, err
}

// Toolchain is the identity of the Go toolchain a build uses: the fields Go hashes into its
// action IDs (GOVERSION, GOOS, GOARCH, CGO_ENABLED, CC_VERSION, ...) and their digest.
type Toolchain struct {
	GoPath string            // the absolute path of the go command that was run
	Fields map[string]string // name → value
	Names  []string          // the field names in the library's (sorted) order
	Digest Digest            // the digest of the fields (docs/gomod.md)
}

// ToolchainOptions are the options of GoToolchain; nil means defaults.
type ToolchainOptions struct {
	Go      string // the go command (a path, or a name looked up in env's PATH); "" = "go"
	NoCache bool   // always run `go env -json` (bypass the in-process cache)
}

// GoToolchain identifies the Go toolchain a build in moduleDir uses by running `go env -json`
// there with env (nil: this process's environment; the last of duplicates wins). ErrNotFound without a go command,
// ErrBuild when `go env` fails (its stderr is in the message).
func GoToolchain(moduleDir string, env []string, opts *ToolchainOptions) (*Toolchain, error) {
	var a cArena
	defer a.free()
	cdir, cenv := a.strOrNil(moduleDir), a.strs(dedupEnv(env))
	var copts C.goaccel_toolchain_options
	if rc := C.goaccel_toolchain_options_init(&copts, C.GOACCEL_TOOLCHAIN_OPTIONS_VERSION); rc < 0 {
		return nil, errorf(ErrVersion, "goaccel_toolchain_options_init failed")
	}
	if opts != nil {
		copts._go = a.strOrNil(opts.Go)
		copts.no_cache = cBool(opts.NoCache)
	}
	if a.err != nil {
		return nil, a.err
	}
	var tc *C.goaccel_toolchain
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if ret := C.goaccel_go_toolchain(&tc, cdir, cenv, &copts); ret < 0 {
		return nil, makeError(ret)
	}
	defer C.goaccel_toolchain_free(tc)
	t := &Toolchain{GoPath: goString(C.goaccel_toolchain_go_path(tc)), Fields: map[string]string{}}
	for i := C.size_t(0); i < C.goaccel_toolchain_field_count(tc); i++ {
		f := C.goaccel_toolchain_field_byindex(tc, i)
		name := goString(f.name)
		t.Names = append(t.Names, name)
		t.Fields[name] = goString(f.value)
	}
	var cd C.goaccel_digest
	if ret := C.goaccel_toolchain_digest(&cd, tc); ret < 0 {
		return nil, makeError(ret)
	}
	t.Digest = goDigest(&cd)
	return t, nil
}
