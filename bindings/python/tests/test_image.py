"""extract() with COPY --from semantics, and reproducible OCI images checked by outside tools."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import goaccel

from conftest import needs, write


@pytest.fixture
def stage(tmp_path: Path) -> Path:
    root = tmp_path / "stage"
    write(root, "app/main", b"#!/bin/sh\necho hi\n", mode=0o755)
    write(root, "usr/share/zoneinfo/UTC", b"TZif2...")
    write(root, "etc/ssl/certs/ca.pem", "-----BEGIN CERTIFICATE-----\n")
    (root / "etc/link").symlink_to("/etc/ssl")
    return root


@needs("extract")
def test_extract_copies_like_copy_from(stage: Path, tmp_path: Path) -> None:
    dst = tmp_path / "final"
    dst.mkdir()
    goaccel.extract(dst, stage, [("/app/main", "/app/"),
                                 goaccel.ExtractItem("usr/share/zoneinfo", "/zoneinfo", mode=0o444),
                                 ("etc/link/certs", "/certs")])
    assert (dst / "app/main").read_bytes().startswith(b"#!/bin/sh")
    assert (dst / "app/main").stat().st_mode & 0o777 == 0o755
    assert (dst / "zoneinfo/UTC").stat().st_mode & 0o777 == 0o444
    # A link is followed inside the root: /etc/link -> /etc/ssl within the stage.
    assert (dst / "certs/ca.pem").exists()


@needs("extract")
def test_extract_refuses_to_escape_and_names_missing(stage: Path, tmp_path: Path) -> None:
    dst = tmp_path / "final"
    dst.mkdir()
    with pytest.raises(goaccel.Unsafe):
        goaccel.extract(dst, stage, [("../../etc/passwd", "/x")])
    with pytest.raises(goaccel.NotFound) as info:
        goaccel.extract(dst, stage, [("/no/such", "/x")])
    assert "no/such" in str(info.value)
    with pytest.raises(ValueError):
        goaccel.extract(dst, stage, [goaccel.ExtractItem("app/main", "/y", mode=0o70000)])


@needs("image")
def test_image_is_reproducible_and_valid(stage: Path, tmp_path: Path) -> None:
    def build(out: Path) -> goaccel.Digest:
        img = (goaccel.Image(source_date_epoch=1700000000, layer_cache=tmp_path / "layers")
               .add_layer_dir(stage, prefix="")
               .set_entrypoint(["/app/main"])
               .set_cmd(["--serve"])
               .set_env("TZ", "UTC")
               .set_workdir("/app")
               .set_user("65532:65532")
               .set_label("org.opencontainers.image.title", "orders")
               .add_port(8080)
               .set_platform("linux", "amd64"))
        assert len(img.layers) == 1 and img.layers[0].media_type.endswith("tar+gzip")
        config = json.loads(img.config_json())
        assert config["config"]["Entrypoint"] == ["/app/main"]
        assert "8080/tcp" in config["config"]["ExposedPorts"]
        return img.write_oci(out, "latest")

    first = build(tmp_path / "oci1")
    second = build(tmp_path / "oci2")
    assert first == second  # byte-for-byte the same image
    index = json.loads((tmp_path / "oci1" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == str(first)
    if shutil.which("oci-image-tool"):
        subprocess.run(["oci-image-tool", "validate", "--type", "image", "--ref", "name=latest",
                        str(tmp_path / "oci1")], check=True)
    # The second image's layer came out of the layer cache.
    img = goaccel.Image(source_date_epoch=1700000000, layer_cache=tmp_path / "layers")
    assert img.add_layer_dir(stage).layers[0].cache_hit
    img.write_docker_archive(tmp_path / "image.tar", "example.com/orders:latest")
    assert (tmp_path / "image.tar").stat().st_size > 0
    tar_digest = goaccel.write_layer_tar(tmp_path / "layer.tar", stage, source_date_epoch=1700000000)
    assert tar_digest == img.layers[0].diff_id == goaccel.digest_file(tmp_path / "layer.tar")


@needs("image")
def test_image_layer_cache_in_a_store(stage: Path, tmp_path: Path) -> None:
    store = goaccel.Store(tmp_path / "store")
    first = goaccel.Image(store=store, source_date_epoch=0, threads=2).add_layer_dir(stage)
    assert not first.layers[0].cache_hit
    store.close()  # the image keeps the store open while it lives
    again = goaccel.Image(source_date_epoch=0)
    with pytest.raises(ValueError):
        goaccel.Image(store=store)
    del again
    assert first.layers[0].digest == goaccel.Image(source_date_epoch=0).add_layer_dir(stage).layers[0].digest
    del first  # now the store handle is freed
    with goaccel.Store(tmp_path / "store") as reopened:
        second = goaccel.Image(store=reopened, source_date_epoch=0).add_layer_dir(stage)
        assert second.layers[0].cache_hit
        assert reopened.stats("image-layer").hits == 1
        del second
    with pytest.raises(TypeError):
        goaccel.Image(store="not a store")  # type: ignore[arg-type]


@needs("image")
def test_image_errors(tmp_path: Path) -> None:
    img = goaccel.Image()
    with pytest.raises(goaccel.NotFound):
        img.add_layer_dir(tmp_path / "absent")
    with pytest.raises(goaccel.InvalidInput):
        img.add_port("http")
    with pytest.raises(goaccel.InvalidInput):
        img.set_env("A=B", "c")
    with pytest.raises(goaccel.NotFound):
        goaccel.Image().set_base(tmp_path / "no-layout")
