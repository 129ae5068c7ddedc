"""Safe readers and atomic writes shared by every command."""

import os
import stat

import pytest

from seqlab.errors import SeqlabError
from seqlab.files import atomic_path, read_text, write_text_atomic


def test_atomic_write_replaces_whole_file_with_normal_permissions(tmp_path):
    p = tmp_path / "out.txt"
    write_text_atomic(p, "one")
    write_text_atomic(p, "two")
    assert p.read_text() == "two"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask
    assert [f.name for f in tmp_path.iterdir()] == ["out.txt"]  # no temp files left


def test_failed_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "out.txt"
    write_text_atomic(p, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(p) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert p.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize(
    "content,needle",
    [(b"", "empty"), (b"ab\x00cd", "binary"), (b"\xff\xfe\xfa", "UTF-8"), (b"  \n\n ", "no text")],
)
def test_read_text_rejects_bad_files(tmp_path, content, needle):
    p = tmp_path / "f.txt"
    p.write_bytes(content)
    with pytest.raises(SeqlabError, match=needle):
        read_text(p)


def test_read_text_handles_gzip_and_bom(tmp_path):
    import gzip

    p = tmp_path / "f.gz"
    p.write_bytes(gzip.compress("\ufeffhello".encode()))
    assert read_text(p) == "hello"
    with pytest.raises(SeqlabError, match="not found"):
        read_text(tmp_path / "missing.txt")
    with pytest.raises(SeqlabError, match="directory"):
        read_text(tmp_path)
