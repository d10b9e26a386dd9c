package goaccel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := OpenStore(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreBlobsAndRefs(t *testing.T) {
	s := openTestStore(t)
	if !filepath.IsAbs(s.Path()) {
		t.Fatalf("Path() = %q", s.Path())
	}
	content := []byte(strings.Repeat("blob", 1000))
	d, err := s.PutBytes(content)
	if err != nil {
		t.Fatal(err)
	}
	if d != Digest(sha256.Sum256(content)) {
		t.Fatalf("blob digest %s is not the content's SHA-256", d)
	}
	got, err := s.Blob(d, 0)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("Blob = %d bytes, %v", len(got), err)
	}
	if _, err := s.Blob(d, 10); !errors.Is(err, ErrLimit) {
		t.Fatalf("Blob over max size: %v", err)
	}
	if has, err := s.HasBlob(d); !has || err != nil {
		t.Fatalf("HasBlob = %v, %v", has, err)
	}
	missing, _ := DigestBytes([]byte("never stored"))
	if _, err := s.Blob(missing, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Blob(missing) = %v", err)
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("file blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := s.PutFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "copy")
	if err := s.CopyBlob(fd, dest, 0o640); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "file blob" {
		t.Fatalf("CopyBlob wrote %q", b)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o640 {
		t.Fatalf("CopyBlob mode %v", fi.Mode())
	}

	if err := s.SetRef("target/orders", d); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Ref("target/orders"); err != nil || r != d {
		t.Fatalf("Ref = %s, %v", r, err)
	}
	if err := s.RemoveRef("target/orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ref("target/orders"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Ref after RemoveRef: %v", err)
	}

	// A damaged blob is detected by Verify, named, and repaired on request.
	p, err := s.BlobPath(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	var events []VerifyEvent
	res, err := s.Verify(context.Background(), &VerifyOptions{OnProblem: func(e VerifyEvent) error {
		events = append(events, e)
		return nil
	}})
	if !errors.Is(err, ErrMismatch) || res.CorruptBlobs != 1 || len(events) != 1 || events[0].Problem != VerifyCorruptBlob {
		t.Fatalf("Verify of a damaged store: %v, %+v, %+v", err, res, events)
	}
	if res, err = s.Verify(context.Background(), &VerifyOptions{Repair: true}); err != nil || res.Repaired != 1 {
		t.Fatalf("Verify(Repair): %v, %+v", err, res)
	}
	if _, err = s.Verify(context.Background(), nil); err != nil {
		t.Fatalf("Verify after repair: %v", err)
	}
}

func TestStoreActions(t *testing.T) {
	s := openTestStore(t)
	key, _ := DigestBytes([]byte("step key"))
	bin := filepath.Join(t.TempDir(), "app")
	if err := os.WriteFile(bin, []byte("\x7fELF pretend"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupAction("gobuild", key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lookup before put: %v", err)
	}
	err := s.PutAction(key, "gobuild", []ActionOutput{
		{Name: "bin/app", Path: bin},
		{Name: "meta.json", Data: []byte(`{"ok":true}`)},
	}, &ActionMeta{Duration: 3 * time.Second, Info: "built by the test"})
	if err != nil {
		t.Fatal(err)
	}
	act, err := s.LookupAction("", key)
	if err != nil {
		t.Fatal(err)
	}
	defer act.Free()
	if act.Key() != key || act.Kind() != "gobuild" || act.Duration() != 3*time.Second || act.Info() != "built by the test" {
		t.Fatalf("action %s %s %v %q", act.Key(), act.Kind(), act.Duration(), act.Info())
	}
	outs := act.Outputs()
	if len(outs) != 2 || outs[0].Name != "bin/app" || outs[0].Mode.Perm() != 0o755 || outs[1].Size != 11 {
		t.Fatalf("outputs %+v", outs)
	}
	dest := t.TempDir()
	if err := act.Restore(dest, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "bin", "app")); string(b) != "\x7fELF pretend" {
		t.Fatalf("restored %q", b)
	}
	if err := act.Restore(dest, &RestoreOptions{NoOverwrite: true}); !errors.Is(err, ErrExists) {
		t.Fatalf("Restore(NoOverwrite) over existing outputs: %v", err)
	}
	st, err := s.Stats("gobuild")
	if err != nil {
		t.Fatal(err)
	}
	if st.Hits != 1 || st.Misses != 1 || st.Puts != 1 || st.TimeSaved != 3*time.Second || st.HitRate() != 0.5 {
		t.Fatalf("stats %+v", st)
	}
	if js, err := s.StatsJSON(true); err != nil || !strings.Contains(js, `"gobuild"`) || !strings.Contains(js, `"usage"`) {
		t.Fatalf("StatsJSON = %s, %v", js, err)
	}
	u, err := s.Usage()
	if err != nil || u.Actions != 1 || u.Blobs != 2 {
		t.Fatalf("usage %+v, %v", u, err)
	}
	if err := s.ResetStats(); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Stats(""); st.Hits != 0 {
		t.Fatalf("stats after reset %+v", st)
	}
	if err := s.PutAction(key, "bad kind!", nil, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad kind: %v", err)
	}
}

// putApp records an action with two outputs under key and returns its "app" blob's digest.
func putApp(t *testing.T, s *Store, key Digest) Digest {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "app")
	if err := os.WriteFile(bin, []byte("\x7fELF fetch me"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := s.PutAction(key, "gobuild", []ActionOutput{{Name: "app", Path: bin}, {Name: "notes.txt", Data: []byte("n")}},
		&ActionMeta{Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d, err := DigestFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// corruptBlob rewrites a blob in place with other bytes of the same size.
func corruptBlob(t *testing.T, s *Store, d Digest) {
	t.Helper()
	p, err := s.BlobPath(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("\x7fELF fetch mE"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustStats(t *testing.T, s *Store) StoreCounters {
	t.Helper()
	st, err := s.Stats("gobuild")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStoreLookupPeek(t *testing.T) {
	s := openTestStore(t)
	key, _ := DigestBytes([]byte("peek key"))
	peek := &LookupOptions{Peek: true}
	if _, err := s.LookupActionWith("gobuild", key, peek); !errors.Is(err, ErrNotFound) {
		t.Fatalf("peek before put: %v", err)
	}
	blob := putApp(t, s, key)
	lastUsed := func(opts *LookupOptions) time.Time {
		t.Helper()
		act, err := s.LookupActionWith("", key, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer act.Free()
		if act.Kind() != "gobuild" || len(act.Outputs()) != 2 {
			t.Fatalf("peeked action %s %+v", act.Kind(), act.Outputs())
		}
		return act.LastUsed()
	}
	first := lastUsed(peek)
	time.Sleep(10 * time.Millisecond)
	if again := lastUsed(peek); !again.Equal(first) {
		t.Fatalf("a peek touched last-used: %v then %v", first, again)
	}
	if st := mustStats(t, s); st.Hits != 0 || st.Misses != 0 {
		t.Fatalf("peeks were counted: %+v", st)
	}
	if ordinary := lastUsed(nil); !ordinary.Equal(first) || mustStats(t, s).Hits != 1 {
		t.Fatalf("ordinary lookup: last used %v (want %v), stats %+v", ordinary, first, mustStats(t, s))
	}
	if after := lastUsed(peek); !after.After(first) {
		t.Fatalf("the ordinary lookup did not touch last-used: %v", after)
	}
	// A damaged entry: a peek reports a miss and leaves it; an ordinary lookup removes it.
	corruptBlob(t, s, blob)
	if _, err := s.LookupActionWith("gobuild", key, peek); !errors.Is(err, ErrNotFound) {
		t.Fatalf("peek of a corrupt entry: %v", err)
	}
	if ok, _ := s.HasBlob(blob); !ok || mustStats(t, s).Corrupt != 0 {
		t.Fatalf("a peek removed or counted a corrupt blob: %v %+v", ok, mustStats(t, s))
	}
	if _, err := s.LookupAction("gobuild", key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lookup of a corrupt entry: %v", err)
	}
	if ok, _ := s.HasBlob(blob); ok || mustStats(t, s).Corrupt != 1 {
		t.Fatalf("lookup kept or did not count a corrupt blob: %v %+v", ok, mustStats(t, s))
	}
}

func TestStoreFetchAction(t *testing.T) {
	s := openTestStore(t)
	key, _ := DigestBytes([]byte("fetch key"))
	dest := filepath.Join(t.TempDir(), "deep", "out")
	if _, err := s.FetchAction("gobuild", key, dest, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("fetch before put: %v", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) || mustStats(t, s).Misses != 1 {
		t.Fatalf("a missed fetch left %s (%v) or was not counted: %+v", dest, err, mustStats(t, s))
	}
	blob := putApp(t, s, key)
	act, err := s.FetchAction("gobuild", key, dest, nil)
	if err != nil {
		t.Fatal(err)
	}
	if act.Key() != key || len(act.Outputs()) != 2 {
		t.Fatalf("fetched action %s %+v", act.Key(), act.Outputs())
	}
	act.Free()
	if b, _ := os.ReadFile(filepath.Join(dest, "app")); string(b) != "\x7fELF fetch me" {
		t.Fatalf("fetched app %q", b)
	}
	if fi, err := os.Stat(filepath.Join(dest, "app")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("fetched app mode: %v %v", fi, err)
	}
	if st := mustStats(t, s); st.Hits != 1 || st.BytesRestored != 14 || st.TimeSaved != 2*time.Second {
		t.Fatalf("stats after a fetch %+v", st)
	}
	notes := filepath.Join(dest, "notes.txt")
	if err := os.Chmod(notes, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notes, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FetchAction("gobuild", key, dest, &RestoreOptions{NoOverwrite: true}); !errors.Is(err, ErrExists) {
		t.Fatalf("FetchAction(NoOverwrite) over an existing output: %v", err)
	}
	if b, _ := os.ReadFile(notes); string(b) != "mine" || mustStats(t, s).Hits != 1 {
		t.Fatalf("NoOverwrite replaced notes.txt (%q) or was counted: %+v", b, mustStats(t, s))
	}
	// A blob damaged in the store never reaches the destination.
	corruptBlob(t, s, blob)
	fresh := filepath.Join(t.TempDir(), "fresh")
	if _, err := s.FetchAction("gobuild", key, fresh, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("fetch of a corrupt entry: %v", err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) || mustStats(t, s).Corrupt != 1 {
		t.Fatalf("a corrupt fetch left %s (%v) or was not counted: %+v", fresh, err, mustStats(t, s))
	}
}

func TestStoreListActionsAndRefs(t *testing.T) {
	s := openTestStore(t)
	if l, err := s.ListActions(nil); err != nil || len(l.Entries) != 0 || l.Skipped != 0 {
		t.Fatalf("empty store: %+v, %v", l, err)
	}
	var keys []Digest
	for i := 0; i < 3; i++ {
		k, _ := DigestBytes([]byte(fmt.Sprintf("list %d", i)))
		keys = append(keys, k)
	}
	putApp(t, s, keys[0])
	if err := s.PutAction(keys[1], "gomod", []ActionOutput{{Name: "deps.json", Data: []byte("{}")}}, &ActionMeta{Info: "i"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAction(keys[2], "gobuild", []ActionOutput{{Name: "x", Data: []byte("xyz")}}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	act, err := s.LookupAction("", keys[0]) // keys[0] becomes the most recently used
	if err != nil {
		t.Fatal(err)
	}
	act.Free()
	before, _ := s.Stats("")

	l, err := s.ListActions(nil)
	if err != nil || len(l.Entries) != 3 {
		t.Fatalf("ListActions: %+v, %v", l, err)
	}
	sorted := append([]Digest{}, keys...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].String() < sorted[j].String() })
	for i, e := range l.Entries {
		if e.Key != sorted[i] {
			t.Fatalf("entry %d is %s, want %s (by key)", i, e.Key, sorted[i])
		}
		if e.Key == keys[0] {
			if e.Kind != "gobuild" || e.Duration != 2*time.Second || e.TotalSize != 14 || e.RecordBytes == 0 ||
				len(e.Outputs) != 2 || e.Outputs[0].Name != "app" || e.Outputs[0].Mode.Perm() != 0o755 ||
				e.Outputs[1].Size != 1 || !e.LastUsed.After(e.Created) {
				t.Fatalf("entry of keys[0]: %+v", e)
			}
		}
	}
	if l, err := s.ListActions(&ListActionsOptions{Kind: "gobuild"}); err != nil || len(l.Entries) != 2 {
		t.Fatalf("Kind filter: %+v, %v", l, err)
	}
	glob := "gomod/" + keys[1].String()[:8] + "*"
	if l, err := s.ListActions(&ListActionsOptions{Glob: glob}); err != nil || len(l.Entries) != 1 ||
		l.Entries[0].Key != keys[1] || l.Entries[0].Info != "i" {
		t.Fatalf("Glob %s: %+v, %v", glob, l, err)
	}
	if l, err := s.ListActions(&ListActionsOptions{Sort: SortByLastUsed}); err != nil || l.Entries[2].Key != keys[0] {
		t.Fatalf("SortByLastUsed: %+v, %v", l, err)
	}
	if _, err := s.ListActions(&ListActionsOptions{Kind: "bad kind!"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad kind: %v", err)
	}
	if after, _ := s.Stats(""); after != before {
		t.Fatalf("listing counted: %+v then %+v", before, after)
	}

	if refs, err := s.Refs(); err != nil || len(refs) != 0 {
		t.Fatalf("Refs of a store without any: %+v, %v", refs, err)
	}
	a, _ := s.PutBytes([]byte("state a"))
	b, _ := s.PutBytes([]byte("state b"))
	if err := s.SetRef("target:b", b); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRef("target:a", a); err != nil {
		t.Fatal(err)
	}
	refs, err := s.Refs()
	if err != nil || len(refs) != 2 || refs[0].Name != "target:a" || refs[0].Blob != a || refs[1].Blob != b ||
		refs[1].LastUsed.IsZero() {
		t.Fatalf("Refs: %+v, %v", refs, err)
	}
}

// An action and a mount keep their store open after Close; the store is freed with the last.
func TestStoreCloseWithChildren(t *testing.T) {
	s, err := OpenStore(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Mount("gomod", Shared)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBytes([]byte("x")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("use after Close: %v", err)
	}
	if err := os.WriteFile(filepath.Join(m.Path(), "still-usable"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Release(); err != nil {
		t.Fatal(err)
	}
	if err := m.Release(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPrune(t *testing.T) {
	s := openTestStore(t)
	for i := 0; i < 3; i++ {
		if _, err := s.PutBytes([]byte{byte(i), 'x'}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []PruneEvent
	res, err := s.Prune(context.Background(), &PruneOptions{DryRun: true, NoGrace: true, OnEntry: func(e PruneEvent) error {
		seen = append(seen, e)
		return nil
	}})
	if err != nil || res.Blobs != 3 || len(seen) != 3 || seen[0].Kind != EntryBlob || seen[0].Reason != "unreferenced" {
		t.Fatalf("dry run: %v, %+v, %+v", err, res, seen)
	}
	if u, _ := s.Usage(); u.Blobs != 3 {
		t.Fatalf("a dry run removed blobs: %+v", u)
	}
	// A callback error stops prune and comes back as the cause.
	stop := errors.New("enough")
	_, err = s.Prune(context.Background(), &PruneOptions{NoGrace: true, OnEntry: func(PruneEvent) error { return stop }})
	if !errors.Is(err, ErrUser) || !errors.Is(err, stop) {
		t.Fatalf("prune stopped by its callback: %v", err)
	}
	res, err = s.Prune(context.Background(), &PruneOptions{NoGrace: true})
	if err != nil || res.Blobs+1 < 3 {
		t.Fatalf("prune: %v, %+v", err, res)
	}
	if u, _ := s.Usage(); u.Blobs != 0 {
		t.Fatalf("unreferenced blobs survived prune: %+v", u)
	}
}

// A store exported (actions, refs, a mount) and imported into another one serves the same
// action and mount content there; a damaged archive is refused.
func TestExportImport(t *testing.T) {
	src := openTestStore(t)
	key, _ := DigestBytes([]byte("exported step"))
	if err := src.PutAction(key, "gobuild", []ActionOutput{{Name: "app", Data: []byte("binary")}}, nil); err != nil {
		t.Fatal(err)
	}
	refBlob, _ := src.PutBytes([]byte("previous build"))
	if err := src.SetRef("prev", refBlob); err != nil {
		t.Fatal(err)
	}
	m, err := src.Mount("gomod", Locked)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, m.Path(), map[string]string{"cache/download/x/@v/list": "v1.0.0\n", "x@v1.0.0/x.go": "package x\n"})
	if err := m.Release(); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	archive := filepath.Join(dir, "cache.tar.zst")
	res, err := src.Export(archive, &ExportOptions{AllMounts: true, Actions: true, Refs: true, ManifestOut: filepath.Join(dir, "manifest.json")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Actions != 1 || res.Refs != 1 || res.Mounts != 1 || res.Blobs < 2 {
		t.Fatalf("export %+v", res)
	}

	dst := openTestStore(t)
	in, err := dst.Import(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.Actions != 1 || in.Mounts != 1 {
		t.Fatalf("import %+v", in)
	}
	act, err := dst.LookupAction("gobuild", key)
	if err != nil {
		t.Fatalf("imported action: %v", err)
	}
	out := t.TempDir()
	if err := act.Restore(out, nil); err != nil {
		t.Fatal(err)
	}
	act.Free()
	if b, _ := os.ReadFile(filepath.Join(out, "app")); string(b) != "binary" {
		t.Fatalf("restored %q", b)
	}
	if r, err := dst.Ref("prev"); err != nil || r != refBlob {
		t.Fatalf("imported ref %s, %v", r, err)
	}
	m2, err := dst.Mount("gomod", Shared)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(m2.Path(), "x@v1.0.0", "x.go"))
	m2.Release()
	if err != nil || string(b) != "package x\n" {
		t.Fatalf("imported mount file %q, %v", b, err)
	}

	// A delta export against the first one leaves the unchanged entries out.
	delta := filepath.Join(dir, "delta.tar.zst")
	dres, err := src.Export(delta, &ExportOptions{AllMounts: true, Actions: true, Refs: true, Base: filepath.Join(dir, "manifest.json")})
	if err != nil {
		t.Fatal(err)
	}
	if dres.Unchanged == 0 || dres.Blobs != 0 {
		t.Fatalf("delta export %+v", dres)
	}

	// A truncated archive is refused without damaging the store.
	data, _ := os.ReadFile(archive)
	bad := filepath.Join(dir, "truncated.tar.zst")
	if err := os.WriteFile(bad, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := openTestStore(t)
	if _, err := fresh.Import(bad, nil); err == nil {
		t.Fatal("a truncated archive was imported")
	}
	if _, err := fresh.LookupAction("gobuild", key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed import left a record: %v", err)
	}
	if _, err := fresh.Verify(context.Background(), nil); err != nil {
		t.Fatalf("store damaged by a failed import: %v", err)
	}
}
