"""Kernels of the streaming word2vec reader and writer (:mod:`corpus_tools._w2v_stream`).

The binary format of Mikolov et al.'s ``word2vec.c`` (``-binary 1``) is, after a
``V D`` header line, per word: its bytes up to a space, the space, ``D``
little-endian float32 numbers (``4 D`` bytes), usually a newline. The words have
different lengths, so finding where entry ``i + 1`` starts needs entry ``i``:
a loop that Python runs at about a microsecond per word, here a few nanoseconds.

Each function fills buffers that its Python caller allocated (fixed-size, reused
from chunk to chunk): nothing here allocates, so the reader's memory is bounded
by its buffers whatever the file's size. The plain-Python twins that the tests
compare against are in ``tests/corpus_tools/test_stream_import.py``.
"""
from libc.math cimport isfinite, sqrt
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcpy


def scan_binary(const unsigned char[::1] buf, Py_ssize_t pos, Py_ssize_t stop, Py_ssize_t dim,
                float[:, ::1] rows, unsigned char[::1] words, Py_ssize_t max_word):
    """Copy the complete entries of ``buf[pos:stop]`` into ``rows`` and ``words``.

    Parameters
    ----------
    buf : bytes-like
        The bytes read so far; ``buf[pos:stop]`` are not parsed yet.
    dim : int
        Numbers per vector (``D``).
    rows : float32 array of shape (n_max, D)
        Receives the vectors, as stored (little-endian hosts; the caller swaps on others).
    words : uint8 array
        Receives each word followed by ``\\n``; at least ``stop - pos`` long.
    max_word : int
        A word longer than this means the file is not a word2vec binary file.

    Returns
    -------
    n : int
        Entries copied (at most ``n_max``).
    pos : int
        Where the first entry not copied starts (newlines before it skipped).
    words_len : int
        Bytes written to ``words``.
    bad_word : int
        The first copied entry whose word is empty or holds a tab, newline or
        carriage return, or -1.
    bad_start, bad_end : int
        Where that word is in ``words`` (0, 0 when there is none).
    no_space : bool
        The entry at ``pos`` has no space within ``max_word`` bytes (a damaged file).
    """
    cdef Py_ssize_t n_max = rows.shape[0], nbytes = 4 * dim
    cdef Py_ssize_t n = 0, wlen = 0, p, s, lim, k
    cdef Py_ssize_t bad_word = -1, bad_start = 0, bad_end = 0
    cdef bint no_space = False
    cdef const unsigned char* base = &buf[0] if buf.shape[0] > 0 else NULL
    cdef const unsigned char* sp
    cdef unsigned char c
    if rows.shape[1] != dim:
        raise ValueError(f"rows has {rows.shape[1]} columns, expected {dim}")
    if words.shape[0] < stop - pos:
        raise ValueError(f"words holds {words.shape[0]} bytes, needs {stop - pos}")
    with nogil:
        while n < n_max:
            p = pos
            while p < stop and base[p] == 10:      # the C tool ends each vector with "\n"
                p += 1
            pos = p
            if p >= stop:
                break
            lim = stop - p
            if lim > max_word:
                lim = max_word
            sp = <const unsigned char*> memchr(base + p, 32, lim)
            if sp == NULL:
                no_space = lim == max_word
                break
            s = sp - base
            if s + 1 + nbytes > stop:
                break
            if bad_word == -1:
                if s == p:
                    bad_word = n
                for k in range(p, s):
                    c = base[k]
                    if c == 9 or c == 10 or c == 13:
                        bad_word = n
                        break
                if bad_word == n:
                    bad_start = wlen
                    bad_end = wlen + s - p
            memcpy(&words[wlen], base + p, s - p)
            wlen += s - p
            words[wlen] = 10
            wlen += 1
            memcpy(&rows[n, 0], base + s + 1, nbytes)
            pos = s + 1 + nbytes
            n += 1
    return n, pos, wlen, bad_word, bad_start, bad_end, no_space


def normalise_rows(float[:, ::1] rows, float[::1] norms, bint to_unit):
    """Store each row's Euclidean length in ``norms`` and, with ``to_unit``, divide the row by it.

    Lengths are summed in double precision (four partial sums, which the compiler
    turns into SIMD), so a float32 row never overflows and the sum is finite exactly
    when every number of the row is. All-zero rows stay zero. Returns the first row
    holding NaN or infinity (nothing from it on is touched), or -1.
    """
    cdef Py_ssize_t n = rows.shape[0], d = rows.shape[1], i, j, d4 = d - d % 4
    cdef double a0, a1, a2, a3, acc
    cdef float inv
    cdef const float* row
    cdef Py_ssize_t bad = -1
    if norms.shape[0] < n:
        raise ValueError(f"norms holds {norms.shape[0]} values, needs {n}")
    with nogil:
        for i in range(n):
            row = &rows[i, 0]
            a0 = a1 = a2 = a3 = 0.0
            for j in range(0, d4, 4):
                a0 += <double> row[j] * row[j]
                a1 += <double> row[j + 1] * row[j + 1]
                a2 += <double> row[j + 2] * row[j + 2]
                a3 += <double> row[j + 3] * row[j + 3]
            for j in range(d4, d):
                a0 += <double> row[j] * row[j]
            acc = (a0 + a1) + (a2 + a3)
            if not isfinite(acc):
                bad = i
                break
            acc = sqrt(acc)
            norms[i] = <float> acc
            if to_unit and acc > 0:
                inv = <float> (1.0 / acc)
                for j in range(d):
                    rows[i, j] = rows[i, j] * inv
    return bad


def line_hashes(const unsigned char[::1] block, uint64_t[::1] out):
    """The 64-bit FNV-1a hash of each ``\\n``-terminated line of ``block`` (the newline excluded).

    Returns the number of lines hashed (at most ``len(out)``).
    """
    cdef Py_ssize_t size = block.shape[0], i = 0, n = 0, n_max = out.shape[0]
    cdef uint64_t h = 14695981039346656037ULL
    with nogil:
        while i < size and n < n_max:
            if block[i] == 10:
                out[n] = h
                n += 1
                h = 14695981039346656037ULL
            else:
                h = (h ^ block[i]) * 1099511628211ULL
            i += 1
    return n


def pack_binary(const unsigned char[::1] words, const float[:, ::1] rows, unsigned char[::1] out):
    """Write entries ``word + " " + 4 D bytes + "\\n"`` for the ``\\n``-separated ``words`` and ``rows``.

    ``out`` must hold ``len(words) + rows.size * 4 + len(rows)`` bytes. Returns the
    number of bytes written.
    """
    cdef Py_ssize_t n = rows.shape[0], nbytes = 4 * rows.shape[1], size = words.shape[0]
    cdef Py_ssize_t i, p = 0, e, o = 0
    cdef const unsigned char* base = &words[0] if size > 0 else NULL
    cdef const unsigned char* nl
    cdef Py_ssize_t short = -1
    if out.shape[0] < size + n * nbytes + n:
        raise ValueError(f"out holds {out.shape[0]} bytes, needs {size + n * nbytes + n}")
    with nogil:
        for i in range(n):
            nl = <const unsigned char*> memchr(base + p, 10, size - p) if p < size else NULL
            if nl == NULL:
                short = i
                break
            e = nl - base
            memcpy(&out[o], base + p, e - p)
            o += e - p
            out[o] = 32
            o += 1
            memcpy(&out[o], &rows[i, 0], nbytes)
            o += nbytes
            out[o] = 10
            o += 1
            p = e + 1
    if short != -1:
        raise ValueError(f"words holds {short} lines, rows {n}")
    return o
