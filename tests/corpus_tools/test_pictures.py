"""The one picture writer (corpus_tools.pictures): the format follows the name, wordstack's mark is
in the file, and only a file carrying it is ever replaced (issue 12, case 13 and the rule that no
command overwrites a file the user owns). Also atomic_path's replace_if, which it builds on."""
from __future__ import annotations

import pytest

import corpus_tools as ct
from corpus_tools.atomic import atomic_path
from corpus_tools.pictures import check_picture_path, is_wordstack_picture, picture_format, save_figure

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<?xml", "pdf": b"%PDF-"}


def figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5))
    fig.add_subplot(111).plot([0, 1, 2], [2, 0, 1])
    return fig


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_case13_the_extension_chooses_the_format_and_the_mark_is_recognised(tmp_path, fmt):
    out = save_figure(figure(), tmp_path / f"map.{fmt.upper() if fmt == 'pdf' else fmt}")
    assert out.read_bytes().startswith(MAGIC[fmt])
    assert is_wordstack_picture(out)
    before = out.read_bytes()
    save_figure(figure(), out)                      # a picture wordstack drew is redrawn in place
    assert out.read_bytes()[:5] == before[:5] and leftovers(tmp_path) == []


@pytest.mark.parametrize("name, what", [("map.jpg", "ends in .jpg"), ("map", "has no extension")])
def test_case13_an_unknown_extension_is_refused_with_the_choices(tmp_path, name, what):
    with pytest.raises(ValueError, match=rf"{what}; wordstack draws pictures as \.png, \.svg, \.pdf"):
        picture_format(tmp_path / name)
    with pytest.raises(ValueError, match=what):
        save_figure(figure(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_pictures_without_wordstacks_mark_are_never_overwritten(tmp_path, fmt):
    """A picture of the user's, drawn by matplotlib itself (no wordstack mark), and plain user files."""
    theirs = tmp_path / f"theirs.{fmt}"
    figure().savefig(theirs, format=fmt)
    others = {theirs: theirs.read_bytes(),
              tmp_path / f"thesis.{fmt}": b"my thesis, chapter 1\n",
              tmp_path / f"empty.{fmt}": b"",
              tmp_path / f"noise.{fmt}": bytes(range(256)) * 3}
    for path, data in others.items():
        path.write_bytes(data)
        assert not is_wordstack_picture(path)
        with pytest.raises(ct.OverwriteRefusedError, match=rf"{path.name} already exists and it is not a picture "
                                                           r"wordstack drew.*write to another name, or delete"):
            check_picture_path(path)
        with pytest.raises(FileExistsError):
            save_figure(figure(), path)
        assert path.read_bytes() == data
    assert leftovers(tmp_path) == []


def test_atomic_path_replace_if(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("mine")
    with pytest.raises(ct.OverwriteRefusedError, match="f.txt already exists and it is mine"):
        with atomic_path(target, replace_if=False, refusal="it is mine") as tmp:
            tmp.write_text("theirs")
    with pytest.raises(ct.OverwriteRefusedError):
        with atomic_path(target, replace_if=lambda p: p.read_text() == "ours") as tmp:
            tmp.write_text("theirs")
    assert target.read_text() == "mine" and leftovers(tmp_path) == []
    with atomic_path(target, replace_if=lambda p: p.read_text() == "mine") as tmp:
        tmp.write_text("new")
    with atomic_path(target) as tmp:                # the default: internal writes replace as before
        tmp.write_text("newer")
    assert target.read_text() == "newer"


def test_atomic_path_rechecks_before_the_rename(tmp_path):
    """A file that appears while the new one is written is not overwritten either."""
    target = tmp_path / "late.bin"
    with pytest.raises(ct.OverwriteRefusedError):
        with atomic_path(target, replace_if=False) as tmp:
            tmp.write_bytes(b"ours")
            target.write_bytes(b"theirs, saved meanwhile")
    assert target.read_bytes() == b"theirs, saved meanwhile" and leftovers(tmp_path) == []
