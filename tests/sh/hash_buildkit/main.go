// Command hash_buildkit checks libgoaccel's selection rules against the real implementations, on
// random trees and rules:
//
//   - .dockerignore patterns against BuildKit's own walker (tonistiigi/fsutil with
//     moby/patternmatcher, the code `docker build` runs), reading the same ignore file with
//     patternmatcher/ignorefile.ReadAll;
//   - .gitignore files and .git/info/exclude against `git ls-files --cached --others
//     --exclude-standard`, with tracked files that an ignore rule names.
//
// libgoaccel is driven through bench/hash/hashtool (goaccel_hash_tree + a saved manifest).
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/patternmatcher/ignorefile"
	"github.com/tonistiigi/fsutil"
)

var names = []string{"a", "b", "ab", "ba", "c.txt", "d.go", "e.log", "keep", "x y", "é", "sub", "build",
	"a.b", "]", "n\nl", "\xff", "-", "README.md", "t.txt", "x.log"}

var comps = []string{"a", "b", "*", "?", "**", "[a-c]", "[^a]", "*.txt", "*.log", "sub", "build", "keep",
	"x y", "é", "\\*", "a*", "*b", "e.l?g", "**.log", "\xff*", "\xff", "[]]", "[\\]]", "n\nl", "?.*", "a/**",
	"**/keep", "*/", ".", "..", "x*y", "[!a]", "\\", "[a-", "[z-a]", "é*", "?é"}

var gitComps = []string{"a", "b", "*", "?", "**", "[a-c]", "[!a]", "*.txt", "*.log", "sub", "build", "keep",
	"x y", "é", "\\#x", "a*", "*b", "e.l?g", "x\\ ", "\\!keep", "ab", "c.txt", "d.go", "README.md", "t.txt"}

type manifest struct {
	Entries []struct {
		Path    *string `json:"path"`
		PathHex *string `json:"path_hex"`
	} `json:"entries"`
}

var stricter int

func pick(r *rand.Rand, list []string) string { return list[r.Intn(len(list))] }

func genTree(r *rand.Rand, dir string, depth int, links bool) {
	n := 1 + r.Intn(5)
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, pick(r, names))
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		switch x := r.Intn(10); {
		case x < 3 && depth < 3:
			must(os.Mkdir(p, 0o755))
			genTree(r, p, depth+1, links)
		case x == 3 && links:
			must(os.Symlink("a", p))
		default:
			must(os.WriteFile(p, []byte("x"), 0o644))
		}
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "hash_buildkit:", err)
		os.Exit(2)
	}
}

func genPattern(r *rand.Rand, c []string, git bool) string {
	k := 1 + r.Intn(3)
	parts := make([]string, k)
	for i := range parts {
		parts[i] = pick(r, c)
	}
	p := strings.Join(parts, "/")
	switch r.Intn(12) {
	case 0:
		p = "/" + p
	case 1:
		p += "/"
	case 2:
		if !git {
			p = "./" + p
		}
	case 3:
		p = "  " + p + "  "
	}
	if r.Intn(4) == 0 {
		p = "!" + p
	}
	switch r.Intn(20) {
	case 0:
		p = "#" + p
	case 1:
		p = ""
	}
	return p
}

func genPatternFile(r *rand.Rand, c []string, git bool) string {
	var b strings.Builder
	if !git && r.Intn(10) == 0 {
		b.WriteString("\xef\xbb\xbf")
	}
	n := 1 + r.Intn(5)
	for i := 0; i < n; i++ {
		b.WriteString(genPattern(r, c, git))
		b.WriteString("\n")
	}
	return b.String()
}

// ours runs hashtool and returns the manifest's paths, or ok=false when it failed.
func ours(hashtool string, args ...string) ([]string, bool, string) {
	man := filepath.Join(os.TempDir(), fmt.Sprintf("hash_buildkit_%d.json", os.Getpid()))
	defer os.Remove(man)
	cmd := exec.Command(hashtool, append([]string{"--manifest", man}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, false, stderr.String()
	}
	data, err := os.ReadFile(man)
	must(err)
	var m manifest
	must(json.Unmarshal(data, &m))
	var out []string
	for _, e := range m.Entries {
		if e.Path != nil {
			out = append(out, *e.Path)
		} else {
			b, err := hex.DecodeString(*e.PathHex)
			must(err)
			out = append(out, string(b))
		}
	}
	return out, true, ""
}

func listing(root string) string {
	var b strings.Builder
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(&b, "  %q %v\n", rel, info.Mode())
		return nil
	})
	return b.String()
}

func same(a, b []string) bool {
	sort.Strings(a)
	sort.Strings(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func dockerignoreCase(r *rand.Rand, hashtool, work string, i int) error {
	root := filepath.Join(work, fmt.Sprintf("d%d", i))
	tree := filepath.Join(root, "tree")
	must(os.MkdirAll(tree, 0o755))
	defer os.RemoveAll(root)
	genTree(r, tree, 0, true)
	text := genPatternFile(r, comps, false)
	ign := filepath.Join(root, "ignore")
	must(os.WriteFile(ign, []byte(text), 0o644))

	f, err := os.Open(ign)
	must(err)
	excludes, err := ignorefile.ReadAll(f)
	f.Close()
	must(err)
	var want []string
	walkErr := fsutil.Walk(context.Background(), tree, &fsutil.FilterOpt{ExcludePatterns: excludes},
		func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if !info.IsDir() {
				want = append(want, p)
			}
			return nil
		})
	got, ok, msg := ours(hashtool, "--ignore-file", ign, tree)
	if walkErr != nil || !ok {
		if walkErr == nil && strings.Contains(msg, "syntax error in pattern") {
			// patternmatcher validates lazily: a malformed pattern fails only if it is ever
			// evaluated on this tree. libgoaccel always rejects it up front (documented).
			stricter++
			return nil
		}
		if (walkErr != nil) != !ok {
			return fmt.Errorf("case %d: BuildKit error %v, libgoaccel ok=%v %s\npatterns %q", i, walkErr, ok, msg, text)
		}
		return nil
	}
	if !same(want, got) {
		return fmt.Errorf("case %d: selections differ\npatterns %q (BuildKit reads %q)\ntree:\n%sBuildKit: %q\nlibgoaccel: %q",
			i, text, excludes, listing(tree), want, got)
	}
	return nil
}

func git(dir string, env []string, args ...string) []byte {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			fmt.Fprintf(os.Stderr, "git %v: %s\n", args, ee.Stderr)
		}
		must(err)
	}
	return out
}

func gitignoreCase(r *rand.Rand, hashtool, work string, i int) error {
	root := filepath.Join(work, fmt.Sprintf("g%d", i))
	tree := filepath.Join(root, "repo")
	must(os.MkdirAll(tree, 0o755))
	defer os.RemoveAll(root)
	env := append(os.Environ(), "HOME="+root, "XDG_CONFIG_HOME="+root+"/xdg", "GIT_CONFIG_NOSYSTEM=1")
	git(tree, env, "init", "-q", ".")
	genTree(r, tree, 0, true)
	var files, dirs []string
	filepath.Walk(tree, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(tree, p)
		if rel == ".git" {
			return filepath.SkipDir
		}
		if info.IsDir() {
			dirs = append(dirs, p)
		} else {
			files = append(files, rel)
		}
		return nil
	})
	for _, d := range dirs {
		if r.Intn(2) == 0 {
			must(os.WriteFile(filepath.Join(d, ".gitignore"), []byte(genPatternFile(r, gitComps, true)), 0o644))
		}
	}
	if r.Intn(3) == 0 {
		must(os.WriteFile(filepath.Join(tree, ".git/info/exclude"), []byte(genPatternFile(r, gitComps, true)), 0o644))
	}
	for _, f := range files {
		if r.Intn(5) == 0 {
			git(tree, env, "add", "-f", "--", f)
		}
	}
	out := git(tree, env, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
	var want []string
	for _, p := range strings.Split(string(out), "\x00") {
		if p != "" {
			want = append(want, p)
		}
	}
	want = uniq(want)
	got, ok, msg := ours(hashtool, "--gitignore", tree)
	if !ok {
		return fmt.Errorf("case %d: libgoaccel failed: %s", i, msg)
	}
	if !same(want, got) {
		var rules strings.Builder
		filepath.Walk(tree, func(p string, info os.FileInfo, err error) error {
			if filepath.Base(p) == ".gitignore" || strings.HasSuffix(p, "info/exclude") {
				data, _ := os.ReadFile(p)
				fmt.Fprintf(&rules, "  %s: %q\n", p, data)
			}
			return nil
		})
		tracked := git(tree, env, "ls-files", "-z")
		return fmt.Errorf("case %d: selections differ\nrules:\n%stracked: %q\ntree:\n%sgit: %q\nlibgoaccel: %q",
			i, rules.String(), tracked, listing(tree), want, got)
	}
	return nil
}

func uniq(a []string) []string {
	sort.Strings(a)
	out := a[:0]
	for i, s := range a {
		if i == 0 || s != a[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func main() {
	hashtool := flag.String("hashtool", "", "path to bench/hash/hashtool")
	work := flag.String("work", os.TempDir(), "scratch directory")
	cases := flag.Int("cases", 300, "random cases per kind")
	seed := flag.Int64("seed", 1, "random seed")
	flag.Parse()
	r := rand.New(rand.NewSource(*seed))
	failures := 0
	for i := 0; i < *cases; i++ {
		if err := dockerignoreCase(r, *hashtool, *work, i); err != nil {
			fmt.Println(err)
			failures++
		}
	}
	for i := 0; i < *cases/2; i++ {
		if err := gitignoreCase(r, *hashtool, *work, i); err != nil {
			fmt.Println(err)
			failures++
		}
	}
	fmt.Printf("hash_buildkit: seed %d: %d .dockerignore cases against BuildKit (%d with a malformed pattern that "+
		"only libgoaccel rejects up front), %d .gitignore cases against git, %d failures\n",
		*seed, *cases, stricter, *cases/2, failures)
	if failures > 0 {
		os.Exit(1)
	}
}
