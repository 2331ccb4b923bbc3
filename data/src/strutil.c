/* strutil.c - in-place string helpers, escaping, splitting, number parsing. */
#include <string.h>

#include "demo.h"

static int su_is_space(int c)
{
    switch (c) {
    case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
        return 1;
    default:
        return 0;
    }
}

size_t su_trim(char *s)
{
    size_t n = strlen(s), start = 0;
    while (start < n && su_is_space((unsigned char)s[start]))
        start++;
    while (n > start && su_is_space((unsigned char)s[n - 1]))
        n--;
    memmove(s, s + start, n - start);
    s[n - start] = '\0';
    return n - start;
}

void su_reverse(char *s, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        char t = s[i];
        s[i] = s[j - 1];
        s[j - 1] = t;
    }
}

size_t su_upper(char *s)
{
    size_t changed = 0;
    for (; *s; s++) {
        if (*s >= 'a' && *s <= 'z') {
            *s = (char)(*s - 'a' + 'A');
            changed++;
        }
    }
    return changed;
}

size_t su_lower(char *s)
{
    size_t changed = 0;
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            *s = (char)(*s - 'A' + 'a');
            changed++;
        }
    }
    return changed;
}

size_t su_count_char(const char *s, char c)
{
    size_t count = 0;
    for (; *s; s++)
        if (*s == c)
            count++;
    return count;
}

static const char su_hex[] = "0123456789abcdef";

int su_escape(const char *in, char *out, size_t cap, size_t *outlen)
{
    size_t o = 0;
    if (!in || !out || cap == 0)
        return ST_EINVAL;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        char buf[4];
        size_t k = 0;
        switch (c) {
        case '\n': buf[k++] = '\\'; buf[k++] = 'n';  break;
        case '\t': buf[k++] = '\\'; buf[k++] = 't';  break;
        case '\r': buf[k++] = '\\'; buf[k++] = 'r';  break;
        case '\\': buf[k++] = '\\'; buf[k++] = '\\'; break;
        case '"':  buf[k++] = '\\'; buf[k++] = '"';  break;
        default:
            if (c < 0x20 || c >= 0x7F) {
                buf[k++] = '\\';
                buf[k++] = 'x';
                buf[k++] = su_hex[c >> 4];
                buf[k++] = su_hex[c & 0xFu];
            } else {
                buf[k++] = (char)c;
            }
            break;
        }
        if (o + k >= cap) {
            out[o] = '\0';
            return ST_EFULL;
        }
        memcpy(out + o, buf, k);
        o += k;
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return ST_OK;
}

size_t su_split(const char *s, char delim, struct su_span *spans, size_t max)
{
    size_t count = 0, start = 0, i = 0;
    for (;; i++) {
        if (s[i] != delim && s[i] != '\0')
            continue;
        if (count < max) {
            spans[count].start = start;
            spans[count].len = i - start;
        }
        count++;
        if (s[i] == '\0')
            break;
        start = i + 1;
    }
    return count;
}

int su_parse_int(const char *s, int64_t *out)
{
    int neg = 0;
    uint64_t acc = 0;
    const uint64_t limit = (uint64_t)INT64_MAX;
    if (!s || !out)
        return ST_EINVAL;
    while (su_is_space((unsigned char)*s))
        s++;
    switch (*s) {
    case '-': neg = 1; s++; break;
    case '+': s++; break;
    default: break;
    }
    if (*s < '0' || *s > '9')
        return ST_ESYNTAX;
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (acc > (limit + (uint64_t)neg - d) / 10u)
            return ST_ERANGE;
        acc = acc * 10u + d;
    }
    while (su_is_space((unsigned char)*s))
        s++;
    if (*s != '\0')
        return ST_ESYNTAX;
    if (neg)
        *out = acc == limit + 1u ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return ST_OK;
}

int su_format_uint(uint64_t v, unsigned base, char *out, size_t cap)
{
    char tmp[65];
    size_t n = 0;
    if (!out || base < 2 || base > 16)
        return ST_EINVAL;
    do {
        tmp[n++] = su_hex[v % base];
        v /= base;
    } while (v);
    if (n + 1 > cap)
        return ST_EFULL;
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return ST_OK;
}

uint32_t su_hash(const char *s)
{
    return ck_djb2(s, strlen(s));
}

const char *su_strerror(int st)
{
    switch (st) {
    case ST_OK:      return "strutil: ok";
    case ST_ENOMEM:  return "strutil: out of memory";
    case ST_EINVAL:  return "strutil: invalid argument";
    case ST_ENOENT:  return "strutil: not found";
    case ST_EFULL:   return "strutil: buffer full";
    case ST_ERANGE:  return "strutil: number out of range";
    case ST_ESYNTAX: return "strutil: syntax error";
    default:         return "strutil: unknown error";
    }
}
