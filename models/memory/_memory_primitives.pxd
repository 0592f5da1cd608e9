# cython: language_level=3
"""The two primitives every memory is made of, inlined into ``_memory.pyx``: a pop eats
strength from the first cell on; a read collects strength 1 from the first cell on,
weighting each cell's value row. Each has its backward (running sums recomputed, cells
walked in reverse). Cells are addressed through ``_Cells`` (the deque's two-ended layout;
the stack and queue use one end). Equations: ``_memory_ref.py``.
"""

# ----------------------------------------------------------------------------- cells


cdef struct _Cells:
    # Value rows of the cells: cell p >= center is row (p - center) of ``top``, cell
    # p < center is row (center - 1 - p) of ``bottom`` (the deque's layout; the stack and
    # queue use center 0, so cell p is row p of ``top``). Gradient rows likewise.
    const double* top
    const double* bottom
    double* d_top
    double* d_bottom
    Py_ssize_t center
    Py_ssize_t stride
    Py_ssize_t d_stride
    Py_ssize_t width


cdef inline _Cells _make_cells(const double* top, const double* bottom, Py_ssize_t center,
                               Py_ssize_t stride, double* d_top, double* d_bottom,
                               Py_ssize_t d_stride, Py_ssize_t width) noexcept nogil:
    cdef _Cells c
    c.top = top
    c.bottom = bottom
    c.d_top = d_top
    c.d_bottom = d_bottom
    c.center = center
    c.stride = stride
    c.d_stride = d_stride
    c.width = width
    return c


cdef inline const double* _row(const _Cells* c, Py_ssize_t p) noexcept nogil:
    if p >= c.center:
        return c.top + (p - c.center) * c.stride
    return c.bottom + (c.center - 1 - p) * c.stride


cdef inline double* _d_row(const _Cells* c, Py_ssize_t p) noexcept nogil:
    if p >= c.center:
        return c.d_top + (p - c.center) * c.d_stride
    return c.d_bottom + (c.center - 1 - p) * c.d_stride


# ----------------------------------------------------------------------------- primitives
# A traversal visits the n cells first, first + step, first + 2 step, ... (step = +1 or -1).


cdef inline void _pop_forward(const double* s_in, double* s_out, Py_ssize_t first,
                              Py_ssize_t n, Py_ssize_t step, double u) noexcept nogil:
    """s_out[k] = max(0, s_in[k] - max(0, u - sum_{k'<k} s_in[k'])). s_out may be s_in."""
    cdef Py_ssize_t k, p = first
    cdef double before = 0.0, remaining, old, x
    for k in range(n):
        remaining = u - before
        if remaining <= 0.0:
            break                   # deletion used up: this cell and the rest keep theirs
        old = s_in[p]
        x = old - remaining
        s_out[p] = x if x > 0.0 else 0.0
        before += old
        p += step
    else:
        return
    if s_out != s_in:
        for k in range(k, n):
            s_out[p] = s_in[p]
            p += step


cdef inline double _pop_backward(const double* s_in, const double* s_out, double* d_s,
                                 Py_ssize_t first, Py_ssize_t n, Py_ssize_t step,
                                 double u) noexcept nogil:
    """Backward of ``_pop_forward``: d_s, the gradient of s_out on entry, becomes the
    gradient of s_in; returns the gradient of u."""
    cdef Py_ssize_t k, p, popped = n
    cdef double before = 0.0, d_x, d_later = 0.0
    # the cells the deletion reached (remaining > 0) are the first `popped` ones
    p = first
    for k in range(n):
        if u - before <= 0.0:
            popped = k
            break
        before += s_in[p]
        p += step
    # cells it did not reach: s_out = max(0, s_in), no gradient where it is 0
    for k in range(popped, n):
        p = first + k * step
        if not s_out[p] > 0.0:
            d_s[p] = 0.0
    # cells it reached: s_out = max(0, s_in - u + sum_{k'<k} s_in[k']); walking back,
    # d_later = sum over later reached cells of d_x, each of which s_in[k] feeds
    for k in range(popped - 1, -1, -1):
        p = first + k * step
        d_x = d_s[p] if s_out[p] > 0.0 else 0.0
        d_s[p] = d_x + d_later
        d_later += d_x
    return -d_later


cdef inline void _read_forward(const double* s, double* w, Py_ssize_t first, Py_ssize_t n,
                               Py_ssize_t step, const _Cells* cells,
                               double* read) noexcept nogil:
    """w[k] = min(s[k], max(0, 1 - sum_{k'<k} s[k'])); read += w[k] * V[k].
    The caller zeroes w and read."""
    cdef Py_ssize_t k, j, p = first, W = cells.width
    cdef double covered = 0.0, room, s_k, w_k
    cdef const double* row
    for k in range(n):
        room = 1.0 - covered
        if room <= 0.0:
            break                   # read quantity used up: weight 0 from here on
        s_k = s[p]
        w_k = s_k if s_k <= room else room
        w[p] = w_k
        if w_k != 0.0:
            row = _row(cells, p)
            for j in range(W):
                read[j] += w_k * row[j]
        covered += s_k
        p += step


cdef inline void _read_backward(const double* s, Py_ssize_t first, Py_ssize_t n,
                                Py_ssize_t step, Py_ssize_t fresh_a, Py_ssize_t fresh_b,
                                const _Cells* cells, const double* d_read, double* d_s,
                                double* room_of) noexcept nogil:
    """Backward of ``_read_forward``: accumulates into d_s and the value-gradient rows.

    ``fresh_a``/``fresh_b`` are the cells pushed at this step (their strength is the push
    itself). Any other cell of strength 0 was emptied by a pop, whose max(0, .) passes
    no gradient to it at this step, so it is skipped. ``room_of`` needs n doubles.
    """
    cdef Py_ssize_t k, j, p, reached = 0, W = cells.width
    cdef double covered = 0.0, room, s_k, w_k, d_w, d_covered_later = 0.0
    cdef const double* row
    cdef double* d_row
    # the read quantity left on arrival at each cell, exactly as in the forward
    p = first
    for k in range(n):
        room = 1.0 - covered
        if room <= 0.0:
            break
        room_of[k] = room
        covered += s[p]
        p += step
        reached = k + 1
    # walking back: d_covered_later = gradient of the running sum the later cells saw
    for k in range(reached - 1, -1, -1):
        p = first + k * step
        s_k = s[p]
        if s_k == 0.0 and p != fresh_a and p != fresh_b:
            continue
        row = _row(cells, p)
        d_w = 0.0
        for j in range(W):
            d_w += d_read[j] * row[j]
        room = room_of[k]
        if s_k <= room:             # w = s (a tie goes to the left argument, s)
            w_k = s_k
            d_s[p] += d_w + d_covered_later
        else:                       # w = room = 1 - covered, with room > 0
            w_k = room
            d_s[p] += d_covered_later
            d_covered_later -= d_w
        if w_k != 0.0:
            d_row = _d_row(cells, p)
            for j in range(W):
                d_row[j] += w_k * d_read[j]
    # a fresh cell of strength exactly 0 past the end of the read: w = min(0, 0), whose
    # derivative goes to the left argument, its strength (the push)
    _unread_fresh(s, first, n, step, reached, fresh_a, cells, d_read, d_s)
    _unread_fresh(s, first, n, step, reached, fresh_b, cells, d_read, d_s)


cdef inline void _unread_fresh(const double* s, Py_ssize_t first, Py_ssize_t n,
                               Py_ssize_t step, Py_ssize_t reached, Py_ssize_t p,
                               const _Cells* cells, const double* d_read,
                               double* d_s) noexcept nogil:
    cdef Py_ssize_t j, k
    cdef double d_w = 0.0
    cdef const double* row
    if p < 0:
        return
    k = (p - first) * step
    if k >= reached and k < n and s[p] == 0.0:
        row = _row(cells, p)
        for j in range(cells.width):
            d_w += d_read[j] * row[j]
        d_s[p] += d_w
