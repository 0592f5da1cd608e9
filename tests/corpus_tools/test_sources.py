"""Finding and reading books: suffixes, compression, encodings, Gutenberg markers, bad files."""
from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile

import pytest

import corpus_tools as ct
from corpus_tools._sources import read_book, read_text

GUTENBERG = """The Project Gutenberg EBook of Something, by Someone

This eBook is for the use of anyone anywhere at no cost.

*** START OF THIS PROJECT GUTENBERG EBOOK SOMETHING ***

It was a dark night. The owl hooted.

*** END OF THIS PROJECT GUTENBERG EBOOK SOMETHING ***

Updated editions will replace the previous one.
"""

OLD_GUTENBERG = """**The Project Gutenberg Etext of Hamlet**
Please take a look at the important information in this header.
*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*

To be, or not to be.

End of the Project Gutenberg Etext of Hamlet
This licence text must go.
"""


def write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


# ----------------------------------------------------------------------------- find_books


def test_find_books_folders_recursive_sorted_and_hidden_skipped(tmp_path):
    write(tmp_path / "b" / "z.txt", "z")
    write(tmp_path / "a.txt", "a")
    write(tmp_path / "c.txt.gz", "ignored content")
    write(tmp_path / "notes.md", "not a book suffix")
    write(tmp_path / ".hidden" / "h.txt", "hidden")
    write(tmp_path / ".dot.txt", "hidden file")
    found = ct.find_books([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.txt", "b/z.txt", "c.txt.gz"]


def test_find_books_files_globs_and_dedup(tmp_path):
    a = write(tmp_path / "a.txt", "a")
    b = write(tmp_path / "b.txt", "b")
    odd = write(tmp_path / "book.md", "explicitly named files are read whatever their suffix")
    found = ct.find_books([str(tmp_path / "*.txt"), a, odd])
    assert found == [a.resolve(), b.resolve(), odd.resolve()]


def test_find_books_missing_path_names_it(tmp_path):
    with pytest.raises(ct.NoBooksError, match=r"nope\.txt'?: no such file or folder"):
        ct.find_books([tmp_path / "nope.txt"])


def test_find_books_empty_folder_says_what_is_read(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ct.NoBooksError, match=r"holds no books.*\.txt"):
        ct.find_books([tmp_path / "empty"])


def test_find_books_glob_without_match(tmp_path):
    with pytest.raises(ct.NoBooksError, match="matches no files"):
        ct.find_books([str(tmp_path / "*.txt")])


def test_find_books_needs_something():
    with pytest.raises(ct.NoBooksError, match="no books given"):
        ct.find_books([])


# ----------------------------------------------------------------------------- decoding


def test_utf8_with_bom_and_crlf(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbfCaf\xc3\xa9 one.\r\nLine two.\rLine three.\r\n")
    info, chunks = read_book(p)
    text = "".join(chunks)
    assert text == "Café one.\nLine two.\nLine three.\n"
    assert info.encoding == "utf-8-sig"
    assert info.warnings == []


def test_cp1252_fallback_warns_with_file_name(tmp_path):
    p = write(tmp_path / "win.txt", "\u201cQuoted\u201d caf\u00e9 \u2014 dash.", encoding="cp1252")
    info, chunks = read_book(p)
    assert "".join(chunks) == "\u201cQuoted\u201d caf\u00e9 \u2014 dash."
    assert info.encoding == "cp1252"
    assert len(info.warnings) == 1 and "win.txt" in info.warnings[0] and "cp1252" in info.warnings[0]


def test_latin1_fallback_when_cp1252_cannot_decode(tmp_path):
    p = tmp_path / "l1.txt"
    p.write_bytes(b"Bytes \x81 and caf\xe9.")  # 0x81 is undefined in cp1252
    info, chunks = read_book(p)
    assert "".join(chunks) == "Bytes \x81 and caf\u00e9."
    assert info.encoding == "latin-1"


def test_case6_utf8_book_with_one_stray_byte_stays_utf8(tmp_path):
    p = tmp_path / "stray.txt"
    good = "It\u2019s a caf\u00e9. "
    p.write_bytes(good.encode() + b"Broken \xff here. " + good.encode())
    info, chunks = read_book(p)
    assert "".join(chunks) == good + "Broken \ufffd here. " + good
    assert info.encoding == "utf-8"
    offset = len(good.encode()) + len("Broken ")
    assert len(info.warnings) == 1
    assert "stray.txt" in info.warnings[0] and "1 invalid UTF-8 byte sequence " in info.warnings[0]
    assert f"offset {offset}" in info.warnings[0] and "U+FFFD" in info.warnings[0]


def test_case6_characters_split_across_blocks_are_not_invalid(tmp_path, monkeypatch):
    """Detection reads in blocks (the first 8 KB, then blocks of _DETECT_BLOCK bytes); with 5-byte
    blocks nearly every multi-byte character after the first 8 KB is cut in two."""
    import corpus_tools._sources as sources

    monkeypatch.setattr(sources, "_DETECT_BLOCK", 5, raising=False)
    p = tmp_path / "split.txt"
    text = "\u2019caf\u00e9 na\u00efve \u2014 \u00fcber \u20ac\U0001F600 end.\n" * 300
    p.write_bytes(text.encode() + b"\xe2\x80" + b" tail.\n")    # one cut-off character at the very end
    info, chunks = read_book(p)
    assert "".join(chunks) == text + "\ufffd tail.\n"
    assert info.encoding == "utf-8"
    assert len(info.warnings) == 1 and f"offset {len(text.encode())}" in info.warnings[0]
    p.write_bytes(text.encode())
    info, chunks = read_book(p)
    assert "".join(chunks) == text and info.warnings == []


def test_case6_cp1252_book_still_decodes_as_cp1252(tmp_path):
    """A cp1252 book is not UTF-8 at all (its invalid sequences outnumber well-formed ones): the fallback."""
    text = "It\u2019s a caf\u00e9 \u2014 na\u00efve, \u00fcber. " * 40
    p = write(tmp_path / "win.txt", text, encoding="cp1252")
    info, chunks = read_book(p)
    assert "".join(chunks) == text
    assert info.encoding == "cp1252" and "cp1252" in info.warnings[0]


def test_case6_ascii_book_with_one_latin1_letter_is_latin1(tmp_path):
    p = tmp_path / "l1.txt"
    p.write_bytes(b"plain ascii text. " * 200 + b"caf\xe9.")
    assert read_text(p).endswith("caf\u00e9.")


@pytest.mark.parametrize("suffix, opener", [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_compressed_books(tmp_path, suffix, opener):
    p = tmp_path / f"book.txt{suffix}"
    with opener(p, "wb") as fh:
        fh.write("Compressed text here.\r\n".encode())
    info, chunks = read_book(p)
    assert "".join(chunks) == "Compressed text here.\n"
    assert info.size == p.stat().st_size
    assert len(info.sha256) == 64


def test_gutenberg_markers_stripped(tmp_path):
    text = ct.read_text(write(tmp_path / "g.txt", GUTENBERG))
    assert text.strip() == "It was a dark night. The owl hooted."


def test_old_gutenberg_markers_stripped(tmp_path):
    text = ct.read_text(write(tmp_path / "g.txt", OLD_GUTENBERG))
    assert text.strip() == "To be, or not to be."


def test_gutenberg_kept_when_asked(tmp_path):
    text = ct.read_text(write(tmp_path / "g.txt", GUTENBERG), strip_gutenberg=False)
    assert "START OF THIS PROJECT GUTENBERG" in text and "Updated editions" in text


def test_text_without_markers_is_kept_whole(tmp_path):
    body = "".join(f"Line {i} of a plain book.\n" for i in range(2000))
    assert ct.read_text(write(tmp_path / "plain.txt", body)) == body


def test_binary_file_is_unreadable(tmp_path):
    p = tmp_path / "image.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10)
    _, chunks = read_book(p)
    with pytest.raises(ct.UnreadableBookError, match="binary"):
        list(chunks)


def test_binary_without_nul_is_caught_by_control_characters(tmp_path):
    p = tmp_path / "blob.txt"
    p.write_bytes(bytes(b for b in range(1, 32) if b not in (9, 10, 13)) * 400)
    _, chunks = read_book(p)
    with pytest.raises(ct.UnreadableBookError, match="binary"):
        list(chunks)


def test_corrupt_gzip_is_unreadable(tmp_path):
    p = tmp_path / "bad.txt.gz"
    p.write_bytes(gzip.compress(b"hello world " * 1000)[:50])
    _, chunks = read_book(p)
    with pytest.raises(ct.UnreadableBookError, match="bad.txt.gz"):
        list(chunks)


def test_chunks_are_paragraph_aligned_and_complete(tmp_path):
    paragraphs = [f"Paragraph {i} has some words in it.\nAnd a second line.\n" for i in range(3000)]
    body = "\n".join(paragraphs)
    _, chunks = read_book(write(tmp_path / "long.txt", body), chunk_chars=10_000)
    chunks = list(chunks)
    assert len(chunks) > 5
    assert "".join(chunks) == body
    assert all(c.endswith("\n\n") for c in chunks[:-1])


def test_single_10mb_line(tmp_path):
    line = ("word " * 2_000_000).strip()  # 10 MB, no newline, no punctuation
    text = ct.read_text(write(tmp_path / "line.txt", line))
    assert text == line


def _epub(path, chapters):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
                        for i in range(len(chapters)))
        spine = "".join(f'<itemref idref="c{i}"/>' for i in reversed(range(len(chapters))))
        zf.writestr(
            "OEBPS/content.opf",
            f'<package xmlns="http://www.idpf.org/2007/opf"><manifest>{items}</manifest>'
            f"<spine>{spine}</spine></package>",
        )
        for i, body in enumerate(chapters):
            zf.writestr(f"OEBPS/c{i}.xhtml",
                        f"<html><head><style>p {{}}</style><title>T</title></head><body>{body}</body></html>")


def test_epub_in_spine_order(tmp_path):
    p = tmp_path / "book.epub"
    _epub(p, ["<p>Second chapter&#8217;s text.</p>", "<h1>One</h1><p>First <i>chapter</i>.</p>"])
    text = ct.read_text(p)
    words = text.split()
    assert words == ["One", "First", "chapter.", "Second", "chapter\u2019s", "text."]


def test_bad_epub(tmp_path):
    p = tmp_path / "bad.epub"
    p.write_bytes(b"PK not really a zip")
    _, chunks = read_book(p)
    with pytest.raises(ct.UnreadableBookError, match="EPUB"):
        list(chunks)
