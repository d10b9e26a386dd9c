package goaccel

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestExtract(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	writeTree(t, src, map[string]string{
		"app/bin/orders*":         "\x7fELF",
		"app/share/zoneinfo/UTC":  "TZif",
		"app/share/zoneinfo/Asia": "TZif2",
		"etc/ssl/certs/ca.pem":    "-----BEGIN CERTIFICATE-----\n",
	})
	if err := os.Symlink("../../..", filepath.Join(src, "app", "share", "up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../etc/passwd", filepath.Join(src, "escape")); err != nil {
		t.Fatal(err)
	}
	mode := os.FileMode(0o500)
	epoch := int64(1700000000)
	err := Extract(dst, src, []ExtractItem{
		{Src: "/app/bin/orders", Dst: "/app/"},
		{Src: "app/share/zoneinfo", Dst: "/usr/share/zoneinfo"},
		{Src: "etc/ssl/certs/ca.pem", Dst: "/etc/ssl/certs/ca-certificates.crt", Chmod: &mode},
	}, &ExtractOptions{SourceDateEpoch: &epoch, MTime: MTimeSet})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"app/orders": "\x7fELF", "usr/share/zoneinfo/UTC": "TZif",
		"usr/share/zoneinfo/Asia": "TZif2", "etc/ssl/certs/ca-certificates.crt": "-----BEGIN CERTIFICATE-----\n"} {
		b, err := os.ReadFile(filepath.Join(dst, p))
		if err != nil || string(b) != want {
			t.Fatalf("%s: %q, %v", p, b, err)
		}
	}
	fi, _ := os.Stat(filepath.Join(dst, "etc/ssl/certs/ca-certificates.crt"))
	if fi.Mode().Perm() != 0o500 || fi.ModTime().Unix() != epoch {
		t.Fatalf("chmod/mtime not applied: %v %v", fi.Mode(), fi.ModTime())
	}
	if fi, _ := os.Stat(filepath.Join(dst, "app", "orders")); fi.Mode().Perm()&0o100 == 0 {
		t.Fatalf("executable bit lost: %v", fi.Mode())
	}

	err = Extract(dst, src, []ExtractItem{{Src: "escape", Dst: "/x"}}, nil)
	if !errors.Is(err, ErrUnsafe) && !errors.Is(err, ErrNotFound) {
		t.Fatalf("a link leaving the root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "x")); err == nil {
		t.Fatal("a link leaving the root was copied")
	}
	if err := Extract(dst, src, []ExtractItem{{Src: "../etc/passwd", Dst: "/y"}}, nil); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("a path leaving the root: %v", err)
	}
	if err := Extract(dst, src, []ExtractItem{{Src: "nope", Dst: "/z"}}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing source: %v", err)
	}
}

type ociIndex struct {
	Manifests []struct {
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations"`
	} `json:"manifests"`
}

// An image built from a directory is written as an OCI layout that Go's own decoding and
// oci-image-tool accept, the same on a second build of the same content with other mtimes, and
// as a docker-archive holding manifest.json.
func TestImage(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"app/orders*": "\x7fELF binary", "etc/motd": "hello\n"})
	epoch := int64(0)
	build := func(layout string) (Digest, *Image) {
		img, err := NewImage(&ImageOptions{SourceDateEpoch: &epoch, LayerCache: filepath.Join(t.TempDir(), "layers")})
		if err != nil {
			t.Fatal(err)
		}
		if err := img.AddLayerDir(root, &LayerOptions{CreatedBy: "go test"}); err != nil {
			t.Fatal(err)
		}
		if err := img.SetEntrypoint("/app/orders"); err != nil {
			t.Fatal(err)
		}
		if err := img.SetEnv("TZ", "Asia/Shanghai"); err != nil {
			t.Fatal(err)
		}
		if err := img.SetLabel("org.example.test", "yes"); err != nil {
			t.Fatal(err)
		}
		if err := img.AddPort("8080"); err != nil {
			t.Fatal(err)
		}
		d, err := img.WriteOCI(layout, "latest")
		if err != nil {
			t.Fatal(err)
		}
		return d, img
	}
	layout := filepath.Join(t.TempDir(), "oci")
	d1, img := build(layout)
	defer img.Free()

	idxData, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ociIndex
	if err := json.Unmarshal(idxData, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != d1.OCI() || idx.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "latest" {
		t.Fatalf("index.json %s, manifest %s", idxData, d1.OCI())
	}
	blob, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", d1.String()))
	if err != nil || Digest(sha256.Sum256(blob)) != d1 || int64(len(blob)) != idx.Manifests[0].Size {
		t.Fatalf("manifest blob does not match its digest: %v", err)
	}
	if out, err := exec.Command("oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", layout).CombinedOutput(); err != nil {
		t.Fatalf("oci-image-tool validate: %v\n%s", err, out)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 || layers[0].FromBase || layers[0].MediaType == "" {
		t.Fatalf("layers %+v, %v", layers, err)
	}
	cfg, err := img.ConfigJSON()
	if err != nil {
		t.Fatal(err)
	}
	var config struct {
		Config struct {
			Entrypoint []string
			Env        []string
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal([]byte(cfg), &config); err != nil {
		t.Fatal(err)
	}
	if len(config.Config.Entrypoint) != 1 || config.Config.Entrypoint[0] != "/app/orders" ||
		len(config.RootFS.DiffIDs) != 1 || config.RootFS.DiffIDs[0] != layers[0].DiffID.OCI() {
		t.Fatalf("config %s", cfg)
	}

	// The same content with other mtimes gives the same image.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(root, "etc", "motd"), later, later)
	d2, img2 := build(filepath.Join(t.TempDir(), "oci"))
	img2.Free()
	if d1 != d2 {
		t.Fatalf("rebuilding the same content gave %s, then %s", d1, d2)
	}

	// The layer tar on its own has the layer's diff_id.
	tarPath := filepath.Join(t.TempDir(), "layer.tar")
	diffID, err := WriteLayerTar(tarPath, root, &epoch, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tb, _ := os.ReadFile(tarPath); Digest(sha256.Sum256(tb)) != diffID || diffID != layers[0].DiffID {
		t.Fatalf("layer tar digest %s, image diff_id %s", diffID, layers[0].DiffID)
	}

	archive := filepath.Join(t.TempDir(), "image.tar")
	if err := img.WriteDockerArchive(archive, "example.com/orders:latest"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		found = found || h.Name == "manifest.json"
	}
	if !found {
		t.Fatal("docker-archive without manifest.json")
	}

	img.Free()
	if err := img.SetEnv("A", "b"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("use after Free: %v", err)
	}
}
