/* vecops.c - folds, sorting and histograms over int32 vectors. */
#include <stdlib.h>
#include <string.h>

#include "demo.h"

/* Fill with pseudo-random values in [-500, 500]. */
void vec_fill_lcg(int32_t *v, size_t n, uint32_t seed)
{
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 22695477u + 1u;
        v[i] = (int32_t)((s >> 16) % 1001u) - 500;
    }
}

int64_t vec_sum(const int32_t *v, size_t n)
{
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += v[i];
    return acc;
}

int32_t vec_min(const int32_t *v, size_t n)
{
    int32_t best = n ? v[0] : 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] < best)
            best = v[i];
    return best;
}

int32_t vec_max(const int32_t *v, size_t n)
{
    int32_t best = n ? v[0] : 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > best)
            best = v[i];
    return best;
}

int64_t vec_dot(const int32_t *a, const int32_t *b, size_t n)
{
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += (int64_t)a[i] * b[i];
    return acc;
}

size_t vec_count_above(const int32_t *v, size_t n, int32_t t)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > t)
            c++;
    return c;
}

size_t vec_count_below(const int32_t *v, size_t n, int32_t t)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < t)
            c++;
    return c;
}

void vec_clamp(int32_t *v, size_t n, int32_t lo, int32_t hi)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] < lo)
            v[i] = lo;
        else if (v[i] > hi)
            v[i] = hi;
    }
}

void vec_sort(int32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int32_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

int vec_median(const int32_t *v, size_t n, int32_t *out)
{
    if (!v || !out || n == 0)
        return ST_EINVAL;
    int32_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return ST_ENOMEM;
    memcpy(tmp, v, n * sizeof *tmp);
    vec_sort(tmp, n);
    if (n % 2)
        *out = tmp[n / 2];
    else
        *out = (int32_t)(((int64_t)tmp[n / 2 - 1] + tmp[n / 2]) / 2);
    free(tmp);
    return ST_OK;
}

int vec_histogram(const int32_t *v, size_t n, int32_t lo, int32_t hi,
                  uint32_t *bins, size_t nbins)
{
    if (!v || !bins || nbins == 0 || hi <= lo)
        return ST_EINVAL;
    int64_t width = (int64_t)hi - lo;
    memset(bins, 0, nbins * sizeof *bins);
    for (size_t i = 0; i < n; i++) {
        if (v[i] < lo || v[i] >= hi)
            return ST_ERANGE;
        int64_t off = (int64_t)v[i] - lo;
        size_t b = (size_t)(off * (int64_t)nbins / width);
        bins[b]++;
    }
    return ST_OK;
}

/* FNV-1a over the little-endian bytes of every element. */
uint32_t vec_checksum(const int32_t *v, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)v[i];
        for (int k = 0; k < 4; k++) {
            h ^= (x >> (8 * k)) & 0xFFu;
            h *= 16777619u;
        }
    }
    return h;
}

const char *vec_strerror(int st)
{
    switch (st) {
    case ST_OK:      return "vecops: ok";
    case ST_ENOMEM:  return "vecops: out of memory";
    case ST_EINVAL:  return "vecops: invalid argument";
    case ST_ENOENT:  return "vecops: no such element";
    case ST_EFULL:   return "vecops: vector full";
    case ST_ERANGE:  return "vecops: value out of range";
    case ST_ESYNTAX: return "vecops: syntax error";
    default:         return "vecops: unknown error";
    }
}
