"""Extraction (`COPY --from`) and reproducible OCI images (goaccel/extract.h, goaccel/image.h)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable, Optional, Union

from . import _goaccel
from ._goaccel import Digest
from ._types import StrPath


class Mtime(enum.IntEnum):
    """What happens to the modification times of extracted entries."""

    KEEP = 0
    CLAMP = 1
    SET = 2
    DEFAULT = 3  #: CLAMP with a source_date_epoch, else KEEP


@dataclass(frozen=True)
class ExtractItem:
    """One `COPY --from` pair. src inside the source root; dst inside the destination root (a
    trailing '/' means "into this directory"). uid/gid/mode None keep the source's."""

    src: str
    dst: str
    uid: Optional[int] = None
    gid: Optional[int] = None
    mode: Optional[int] = None


def extract(dst_root: StrPath, src_root: StrPath,
            items: Iterable[Union[ExtractItem, tuple[str, str]]], *,
            source_date_epoch: int | None = None, mtime: Mtime = Mtime.DEFAULT,
            parent_mode: int = 0o755, parent_uid: int | None = 0, parent_gid: int | None = 0,
            xattrs: bool = True, strict_owner: bool = False, overwrite: bool = True) -> None:
    """Copies items from src_root into dst_root with Dockerfile `COPY --from` semantics: paths
    resolve inside their roots (Unsafe if they would escape), directories copy their contents,
    hard links stay linked, created parents get fixed metadata."""
    raw = []
    for it in items:
        if not isinstance(it, ExtractItem):
            it = ExtractItem(it[0], it[1])
        raw.append((it.src, it.dst, it.uid, it.gid, it.mode))
    _goaccel.extract(dst_root, src_root, raw, source_date_epoch=source_date_epoch, mtime=int(mtime),
                     parent_mode=parent_mode, parent_uid=parent_uid, parent_gid=parent_gid,
                     xattrs=xattrs, strict_owner=strict_owner, overwrite=overwrite)


@dataclass(frozen=True)
class LayerInfo:
    """One layer of an image."""

    digest: Digest
    diff_id: Digest
    size: int
    media_type: str
    from_base: bool
    cache_hit: bool


class Image(_goaccel.Image):
    """A reproducible OCI image under construction (docs/image.md).

    >>> digest = (Image(source_date_epoch=0)
    ...           .add_layer_dir("stage/final")
    ...           .set_entrypoint(["/app"])
    ...           .set_env("TZ", "UTC")
    ...           .write_oci("out/oci", "latest"))
    """

    @property
    def layers(self) -> list[LayerInfo]:
        """The layers, bottom first (base layers included)."""
        return [LayerInfo(*t) for t in self._layers()]


def write_layer_tar(tar_path: StrPath, root: StrPath, *, source_date_epoch: int | None = None,
                    prefix: str | None = None, uid: int = 0, gid: int = 0,
                    keep_modes: bool = False, xattrs: bool = False) -> Digest:
    """Writes the deterministic uncompressed layer tar of root; returns its digest (diff_id)."""
    return _goaccel.write_layer_tar(tar_path, root, source_date_epoch=source_date_epoch,
                                    prefix=prefix, uid=uid, gid=gid, keep_modes=keep_modes,
                                    xattrs=xattrs)


__all__ = ["ExtractItem", "Image", "LayerInfo", "Mtime", "extract", "write_layer_tar"]
