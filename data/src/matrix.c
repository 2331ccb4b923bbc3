/* matrix.c - small dense int32 matrices. */
#include <stdlib.h>
#include <string.h>

#include "demo.h"

int mat_init(struct matrix *m, size_t rows, size_t cols)
{
    if (!m)
        return ST_EINVAL;
    m->data = NULL;
    m->rows = 0;
    m->cols = 0;
    if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096) {
        m->last_error = ST_EINVAL;
        return ST_EINVAL;
    }
    m->data = calloc(rows * cols, sizeof *m->data);
    if (!m->data) {
        m->last_error = ST_ENOMEM;
        return ST_ENOMEM;
    }
    m->rows = rows;
    m->cols = cols;
    m->last_error = ST_OK;
    return ST_OK;
}

void mat_free(struct matrix *m)
{
    if (!m)
        return;
    free(m->data);
    m->data = NULL;
    m->rows = 0;
    m->cols = 0;
}

size_t mat_rows(const struct matrix *m)    { return m ? m->rows : 0; }
size_t mat_cols(const struct matrix *m)    { return m ? m->cols : 0; }
int mat_last_error(const struct matrix *m) { return m ? m->last_error : ST_EINVAL; }

int32_t mat_get(const struct matrix *m, size_t r, size_t c)
{
    if (!m || r >= m->rows || c >= m->cols)
        return 0;
    return m->data[r * m->cols + c];
}

int mat_set(struct matrix *m, size_t r, size_t c, int32_t v)
{
    if (!m)
        return ST_EINVAL;
    if (r >= m->rows || c >= m->cols) {
        m->last_error = ST_ERANGE;
        return ST_ERANGE;
    }
    m->data[r * m->cols + c] = v;
    return ST_OK;
}

/* Fill with small pseudo-random values in [-9, 9]. */
void mat_fill_lcg(struct matrix *m, uint32_t seed)
{
    uint32_t s = seed;
    size_t n = m->rows * m->cols;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        m->data[i] = (int32_t)((s >> 16) % 19u) - 9;
    }
}

static int mat_prepare_out(struct matrix *out, size_t rows, size_t cols)
{
    if (out->data && out->rows == rows && out->cols == cols)
        return ST_OK;
    mat_free(out);
    return mat_init(out, rows, cols);
}

int mat_add(const struct matrix *a, const struct matrix *b, struct matrix *out)
{
    if (!a || !b || !out)
        return ST_EINVAL;
    if (a->rows != b->rows || a->cols != b->cols) {
        out->last_error = ST_EINVAL;
        return ST_EINVAL;
    }
    int st = mat_prepare_out(out, a->rows, a->cols);
    if (st != ST_OK)
        return st;
    size_t n = a->rows * a->cols;
    for (size_t i = 0; i < n; i++)
        out->data[i] = a->data[i] + b->data[i];
    return ST_OK;
}

int mat_mul(const struct matrix *a, const struct matrix *b, struct matrix *out)
{
    if (!a || !b || !out)
        return ST_EINVAL;
    if (a->cols != b->rows) {
        out->last_error = ST_EINVAL;
        return ST_EINVAL;
    }
    int st = mat_prepare_out(out, a->rows, b->cols);
    if (st != ST_OK)
        return st;
    for (size_t i = 0; i < a->rows; i++) {
        for (size_t j = 0; j < b->cols; j++) {
            int64_t acc = 0;
            for (size_t k = 0; k < a->cols; k++)
                acc += (int64_t)a->data[i * a->cols + k] *
                       b->data[k * b->cols + j];
            out->data[i * out->cols + j] = (int32_t)acc;
        }
    }
    return ST_OK;
}

int mat_transpose(const struct matrix *a, struct matrix *out)
{
    if (!a || !out)
        return ST_EINVAL;
    int st = mat_prepare_out(out, a->cols, a->rows);
    if (st != ST_OK)
        return st;
    for (size_t i = 0; i < a->rows; i++)
        for (size_t j = 0; j < a->cols; j++)
            out->data[j * out->cols + i] = a->data[i * a->cols + j];
    return ST_OK;
}

int64_t mat_trace(const struct matrix *m)
{
    int64_t acc = 0;
    for (size_t i = 0; i < m->rows && i < m->cols; i++)
        acc += m->data[i * m->cols + i];
    return acc;
}

int64_t mat_sum(const struct matrix *m)
{
    int64_t acc = 0;
    size_t n = m->rows * m->cols;
    for (size_t i = 0; i < n; i++)
        acc += m->data[i];
    return acc;
}

int32_t mat_min(const struct matrix *m)
{
    size_t n = m->rows * m->cols;
    int32_t best = n ? m->data[0] : 0;
    for (size_t i = 1; i < n; i++)
        if (m->data[i] < best)
            best = m->data[i];
    return best;
}

int32_t mat_max(const struct matrix *m)
{
    size_t n = m->rows * m->cols;
    int32_t best = n ? m->data[0] : 0;
    for (size_t i = 1; i < n; i++)
        if (m->data[i] > best)
            best = m->data[i];
    return best;
}

int64_t mat_row_sum(const struct matrix *m, size_t r)
{
    int64_t acc = 0;
    if (r >= m->rows)
        return 0;
    for (size_t j = 0; j < m->cols; j++)
        acc += m->data[r * m->cols + j];
    return acc;
}

int64_t mat_col_sum(const struct matrix *m, size_t c)
{
    int64_t acc = 0;
    if (c >= m->cols)
        return 0;
    for (size_t i = 0; i < m->rows; i++)
        acc += m->data[i * m->cols + c];
    return acc;
}

/* FNV-1a over the little-endian bytes of every element. */
uint32_t mat_checksum(const struct matrix *m)
{
    uint32_t h = 2166136261u;
    size_t n = m->rows * m->cols;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)m->data[i];
        for (int k = 0; k < 4; k++) {
            h ^= (v >> (8 * k)) & 0xFFu;
            h *= 16777619u;
        }
    }
    return h;
}

const char *mat_strerror(int st)
{
    switch (st) {
    case ST_OK:      return "matrix: ok";
    case ST_ENOMEM:  return "matrix: out of memory";
    case ST_EINVAL:  return "matrix: invalid argument";
    case ST_ENOENT:  return "matrix: no such element";
    case ST_EFULL:   return "matrix: storage full";
    case ST_ERANGE:  return "matrix: index out of range";
    case ST_ESYNTAX: return "matrix: syntax error";
    default:         return "matrix: unknown error";
    }
}
