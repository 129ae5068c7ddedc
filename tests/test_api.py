"""The front door: `import seqlab` is cheap, every public name resolves, the embeddings side
needs no torch."""

import subprocess
import sys

import seqlab


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_import_seqlab_loads_neither_torch_nor_matplotlib():
    mods = _modules_after("import seqlab")
    assert "torch" not in mods and "matplotlib" not in mods and "numba" not in mods


def test_the_embeddings_names_work_without_torch():
    mods = _modules_after("import seqlab\nseqlab.KeyedVectors, seqlab.load_vectors, seqlab.evaluate_vectors")
    assert "torch" not in mods


def test_every_public_name_resolves_and_is_listed():
    for name in seqlab.__all__:
        assert getattr(seqlab, name) is not None, name
    assert set(seqlab.__all__) <= set(dir(seqlab))
    assert seqlab.CharLM.__module__ == "seqlab.charlm.language_model"


def test_unknown_names_raise_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'Word2Vector'"):
        _ = seqlab.Word2Vector
