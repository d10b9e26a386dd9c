package goaccel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var sampleTree = map[string]string{
	"main.go":          "package main\n\nfunc main() {}\n",
	"go.mod":           "module example.com/x\n\ngo 1.22\n",
	"tool.sh*":         "#!/bin/sh\necho hi\n",
	"pkg/a/a.go":       "package a\n",
	"pkg/a/a_test.go":  "package a\n",
	"build/out.log":    "noise\n",
	"docs/README.md":   "# x\n",
	"pkg/b/data/x.txt": "data\n",
}

func TestHashTree(t *testing.T) {
	ctx := context.Background()
	one, two := t.TempDir(), t.TempDir()
	writeTree(t, one, sampleTree)
	writeTree(t, two, sampleTree)
	// Timestamps and the absolute path are not part of a tree digest.
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(filepath.Join(two, "main.go"), old, old); err != nil {
		t.Fatal(err)
	}
	var stats HashStats
	d1, err := HashTree(ctx, one, &HashOptions{Stats: &stats, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Entries != uint64(len(sampleTree)) || stats.FilesHashed == 0 {
		t.Fatalf("stats %+v, want %d entries", stats, len(sampleTree))
	}
	d2, err := HashTree(ctx, two, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 || d1.IsZero() {
		t.Fatalf("same content, different digests: %s %s", d1, d2)
	}

	// Content and the executable bit are.
	writeTree(t, two, map[string]string{"main.go": "package main\n\nfunc main() { }\n"})
	d3, _ := HashTree(ctx, two, nil)
	if d3 == d1 {
		t.Fatal("changing a file's content did not change the digest")
	}
	writeTree(t, two, map[string]string{"main.go": sampleTree["main.go"]})
	if err := os.Chmod(filepath.Join(two, "main.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	d4, _ := HashTree(ctx, two, nil)
	if d4 == d1 || d4 == d3 {
		t.Fatal("the executable bit is not covered")
	}

	// Exclusion patterns (.dockerignore syntax) drop files from the digest.
	ex, err := HashTree(ctx, one, &HashOptions{Exclude: []string{"build", "docs/*.md"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(two, "build")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(two, "docs", "README.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(two, "main.go"), 0o644); err != nil {
		t.Fatal(err)
	}
	pruned, _ := HashTree(ctx, two, nil)
	if ex != pruned {
		t.Fatalf("excluding files gave %s, removing them %s", ex, pruned)
	}
}

func TestHashTreeStatCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeTree(t, dir, sampleTree)
	cache := filepath.Join(t.TempDir(), "statcache")
	// The stat cache trusts a file only when its timestamps are in an earlier second than the
	// run that recorded it (docs/hashing.md, racy rule): start the cold run in the next second.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	var cold, warm HashStats
	d1, err := HashTree(ctx, dir, &HashOptions{StatCache: cache, Stats: &cold})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := HashTree(ctx, dir, &HashOptions{StatCache: cache, Stats: &warm})
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Fatalf("stat cache changed the digest: %s %s", d1, d2)
	}
	if !cold.CacheWritten || !warm.CacheLoaded || warm.CacheHits == 0 || warm.BytesHashed >= cold.BytesHashed {
		t.Fatalf("stat cache not used: cold %+v warm %+v", cold, warm)
	}
}

func TestHashErrors(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "absent")
	_, err := HashTree(ctx, missing, nil)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("HashTree(missing) = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = HashTree(cctx, t.TempDir(), nil)
	if !errors.Is(err, ErrUser) || !errors.Is(err, context.Canceled) {
		t.Fatalf("HashTree(cancelled ctx) = %v", err)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": "x"})
	_, err = HashPaths(ctx, dir, []string{"../etc/passwd"}, nil)
	if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsafe) {
		t.Fatalf("HashPaths(..) = %v", err)
	}
}

// HashPaths over every file HashTree selects gives HashTree's digest; a subset gives another.
func TestHashPaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeTree(t, dir, sampleTree)
	m, err := HashTreeManifest(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Free()
	var all []string
	for _, e := range m.Entries() {
		all = append(all, e.Path)
	}
	// Reverse the order: HashPaths sorts.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	d, err := HashPaths(ctx, dir, all, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d != m.Digest() {
		t.Fatalf("HashPaths(all) = %s, HashTree = %s", d, m.Digest())
	}
	sub, err := HashPathsManifest(ctx, dir, []string{"main.go", "go.mod"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Free()
	if sub.Len() != 2 || sub.Digest() == d {
		t.Fatalf("subset manifest: %d entries, digest %s", sub.Len(), sub.Digest())
	}
}

func TestManifest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeTree(t, dir, sampleTree)
	if err := os.Symlink("main.go", filepath.Join(dir, "link.go")); err != nil {
		t.Fatal(err)
	}
	old, err := HashTreeManifest(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Free()
	d, _ := HashTree(ctx, dir, nil)
	if old.Digest() != d || old.Len() != len(sampleTree)+1 {
		t.Fatalf("manifest digest %s (%d entries), tree digest %s", old.Digest(), old.Len(), d)
	}
	entries := old.Entries()
	for i := 1; i < len(entries); i++ {
		if entries[i-1].Path >= entries[i].Path {
			t.Fatalf("entries not in bytewise order: %q before %q", entries[i-1].Path, entries[i].Path)
		}
	}
	tool, ok := old.Lookup("tool.sh")
	if !ok || !tool.Exec || tool.Type != EntryFile || tool.Size != uint64(len(sampleTree["tool.sh*"])) {
		t.Fatalf("tool.sh entry %+v %v", tool, ok)
	}
	if want, _ := DigestBytes([]byte(sampleTree["tool.sh*"])); tool.Digest != want {
		t.Fatalf("tool.sh digest %s, want %s", tool.Digest, want)
	}
	link, ok := old.Lookup("link.go")
	if !ok || link.Type != EntrySymlink || link.LinkTarget != "main.go" {
		t.Fatalf("link.go entry %+v", link)
	}
	if _, ok := old.Lookup("nope"); ok {
		t.Fatal("Lookup found a path that is not there")
	}

	// JSON and file round trips keep the digest.
	js, err := old.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseManifest(js)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Free()
	if back.Digest() != old.Digest() || back.Len() != old.Len() {
		t.Fatal("JSON round trip changed the manifest")
	}
	saved := filepath.Join(t.TempDir(), "m.json")
	if err := old.Save(saved); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadManifest(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Free()
	if loaded.Digest() != old.Digest() {
		t.Fatal("Save/LoadManifest changed the digest")
	}
	if _, err := ParseManifest([]byte(`{"nope":1}`)); err == nil {
		t.Fatal("ParseManifest accepted garbage")
	}

	// Diff names what changed and how.
	writeTree(t, dir, map[string]string{"main.go": "package main\n// edited\n", "new.go": "package main\n"})
	if err := os.Remove(filepath.Join(dir, "pkg", "a", "a.go")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "tool.sh"), 0o644); err != nil {
		t.Fatal(err)
	}
	cur, err := HashTreeManifest(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Free()
	diff, err := old.Diff(cur)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Change{}
	for _, c := range diff.Changes {
		got[c.Path] = c.Change
		if (c.Old == nil) != (c.Change == ChangeAdded) || (c.New == nil) != (c.Change == ChangeRemoved) {
			t.Fatalf("change %+v: entries do not match the flags", c)
		}
	}
	want := map[string]Change{"main.go": ChangeContent, "new.go": ChangeAdded, "pkg/a/a.go": ChangeRemoved, "tool.sh": ChangeMode}
	if len(got) != len(want) {
		t.Fatalf("diff %v, want %v", got, want)
	}
	for p, c := range want {
		if got[p] != c {
			t.Fatalf("diff %v, want %v", got, want)
		}
	}
	if s := diff.String(); !strings.Contains(s, "new.go") || !strings.Contains(s, "pkg/a/a.go") {
		t.Fatalf("diff text %q", s)
	}
	if same, _ := cur.Diff(cur); len(same.Changes) != 0 {
		t.Fatalf("a manifest differs from itself: %+v", same.Changes)
	}
}
