"""The package itself: version, import-time version check, errors, digests."""

from __future__ import annotations

import hashlib
import pickle
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

import goaccel

from conftest import run_python, write


def test_version_matches_library() -> None:
    s, major, minor, patch = goaccel.library_version()
    assert goaccel.__version__ == s == f"{major}.{minor}.{patch}"
    assert goaccel.COMPILED_VERSION == goaccel.__version__
    path = goaccel.library_path()
    assert path is not None and "libgoaccel.so" in path


def test_version_printed_from_command_line() -> None:
    r = run_python("import goaccel; print(goaccel.__version__)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == goaccel.__version__


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to build the shim")
def test_import_fails_when_runtime_library_version_differs(tmp_path: Path) -> None:
    # A real shared object interposed with LD_PRELOAD makes the loaded goaccel_version() report
    # another version, exactly as a different libgoaccel build found at run time would.
    src = write(tmp_path, "shim.c",
                "const char *goaccel_version(int *a, int *b, int *c) {\n"
                "  if (a) *a = 9; if (b) *b = 8; if (c) *c = 7; return \"9.8.7\"; }\n")
    shim = tmp_path / "libshim.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(shim), str(src)], check=True)
    r = run_python("import goaccel", env={"LD_PRELOAD": str(shim)})
    assert r.returncode != 0
    assert "ImportError" in r.stderr
    assert f"compiled against libgoaccel {goaccel.__version__}" in r.stderr
    assert "is version 9.8.7" in r.stderr


def test_error_hierarchy() -> None:
    subclasses = [goaccel.NotFound, goaccel.Exists, goaccel.Locked, goaccel.InvalidInput,
                  goaccel.BuildFailed, goaccel.Cancelled, goaccel.Corrupt, goaccel.Changed,
                  goaccel.UnsupportedVersion, goaccel.Mismatch, goaccel.Unsafe,
                  goaccel.LimitExceeded]
    for cls in subclasses:
        assert issubclass(cls, goaccel.Error)
        assert cls.__module__ == "goaccel"
        # The class-level code names the library code it stands for.
        assert goaccel.error_code_name(cls.code) == cls.code_name != "GOACCEL_E?"
    assert issubclass(goaccel.InvalidInput, ValueError)
    assert len({cls.code for cls in subclasses}) == len(subclasses)
    assert goaccel.Error.code == -1


def test_error_carries_library_message_and_code(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(goaccel.NotFound) as info:
        goaccel.digest_file(missing)
    e = info.value
    assert str(missing) in str(e)
    assert e.message == str(e)
    assert e.code == -3 and e.code_name == "GOACCEL_ENOTFOUND"
    assert e.klass != 0
    # A directory is not a regular file: InvalidInput (also a ValueError).
    with pytest.raises(ValueError) as info2:
        goaccel.digest_file(tmp_path)
    assert isinstance(info2.value, goaccel.InvalidInput)
    assert info2.value.code_name == "GOACCEL_EINVALID"


def test_digest_bytes_and_file_match_hashlib(tmp_path: Path) -> None:
    data = b"libgoaccel\n" * 100_000  # > the GIL-release threshold
    p = write(tmp_path, "f.bin", data)
    want = hashlib.sha256(data).hexdigest()
    assert goaccel.digest_bytes(data).hex() == want
    assert goaccel.digest_bytes(memoryview(data)).hex() == want
    assert goaccel.digest_bytes(bytearray(b"x")).hex() == hashlib.sha256(b"x").hexdigest()
    # str, bytes and os.PathLike paths all work.
    assert goaccel.digest_file(p).hex() == want
    assert goaccel.digest_file(str(p)).hex() == want
    assert goaccel.digest_file(bytes(p)).hex() == want


def test_digest_value_semantics() -> None:
    d = goaccel.digest_bytes(b"abc")
    assert str(d) == "sha256:" + d.hex()
    assert repr(d) == f"goaccel.Digest('{d}')"
    assert goaccel.Digest(d.hex()) == d == goaccel.Digest(str(d)) == goaccel.Digest(bytes(d))
    assert goaccel.Digest(d.hex().upper()) == d
    assert goaccel.Digest(d) == d
    assert len(bytes(d)) == goaccel.DIGEST_SIZE
    assert hash(goaccel.Digest(str(d))) == hash(d)
    assert {d, goaccel.Digest(str(d))} == {d}
    e = goaccel.digest_bytes(b"abd")
    assert d != e and sorted([e, d]) == sorted([d, e]) and (d < e) == (bytes(d) < bytes(e))
    assert not d.is_zero and goaccel.Digest(bytes(32)).is_zero
    assert pickle.loads(pickle.dumps(d)) == d
    with pytest.raises(goaccel.InvalidInput):
        goaccel.Digest("sha256:1234")
    with pytest.raises(ValueError):
        goaccel.Digest(b"short")
    with pytest.raises(TypeError):
        goaccel.Digest(42)  # type: ignore[arg-type]
    assert (d == "not a digest") is False


def test_hasher_streams_and_resets() -> None:
    h = goaccel.Hasher(b"hello ")
    h.update(b"world")
    assert h.finish().hex() == hashlib.sha256(b"hello world").hexdigest()
    # finish() starts over.
    assert h.finish().hex() == hashlib.sha256(b"").hexdigest()


def test_hasher_is_thread_safe() -> None:
    h = goaccel.Hasher()
    chunk = b"z" * 65536
    n = 16

    def feed() -> None:
        for _ in range(n):
            h.update(chunk)

    threads = [threading.Thread(target=feed) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert h.finish().hex() == hashlib.sha256(chunk * n * 4).hexdigest()
