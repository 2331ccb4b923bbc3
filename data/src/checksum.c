/* checksum.c - a handful of classic checksums and string hashes. */
#include "demo.h"

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
        crc_table[i] = c;
    }
    crc_ready = 1;
}

uint32_t ck_crc32_update(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    if (!crc_ready)
        crc_init();
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

uint32_t ck_crc32(const void *data, size_t n)
{
    return ck_crc32_update(0u, data, n);
}

uint32_t ck_adler32(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t a = 1u, b = 0u;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

uint32_t ck_fletcher16(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t a = 0u, b = 0u;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 255u;
        b = (b + a) % 255u;
    }
    return (b << 8) | a;
}

uint32_t ck_fnv1a32(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

uint32_t ck_djb2(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t h = 5381u;
    for (size_t i = 0; i < n; i++)
        h = h * 33u + p[i];
    return h;
}

uint32_t ck_sdbm(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t h = 0u;
    for (size_t i = 0; i < n; i++)
        h = p[i] + (h << 6) + (h << 16) - h;
    return h;
}

uint32_t ck_oaat(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t h = 0u;
    for (size_t i = 0; i < n; i++) {
        h += p[i];
        h += h << 10;
        h ^= h >> 6;
    }
    h += h << 3;
    h ^= h >> 11;
    h += h << 15;
    return h;
}

uint32_t ck_xor8(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t h = 0u;
    for (size_t i = 0; i < n; i++)
        h ^= p[i];
    return h & 0xFFu;
}

uint32_t ck_sum8(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t h = 0u;
    for (size_t i = 0; i < n; i++)
        h += p[i];
    return h & 0xFFu;
}

uint32_t ck_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85EBCA6Bu;
    x ^= x >> 13;
    x *= 0xC2B2AE35u;
    x ^= x >> 16;
    return x;
}

uint32_t ck_combine(uint32_t seed, uint32_t value)
{
    return seed ^ (value + 0x9E3779B9u + (seed << 6) + (seed >> 2));
}

uint32_t ck_by_algo(int algo, const void *data, size_t n)
{
    switch (algo) {
    case CK_CRC32:      return ck_crc32(data, n);
    case CK_ADLER32:    return ck_adler32(data, n);
    case CK_FLETCHER16: return ck_fletcher16(data, n);
    case CK_FNV1A32:    return ck_fnv1a32(data, n);
    case CK_DJB2:       return ck_djb2(data, n);
    case CK_SDBM:       return ck_sdbm(data, n);
    case CK_OAAT:       return ck_oaat(data, n);
    case CK_XOR8:       return ck_xor8(data, n);
    case CK_SUM8:       return ck_sum8(data, n);
    default:            return 0u;
    }
}

const char *ck_algo_name(int algo)
{
    switch (algo) {
    case CK_CRC32:      return "crc32";
    case CK_ADLER32:    return "adler32";
    case CK_FLETCHER16: return "fletcher16";
    case CK_FNV1A32:    return "fnv1a32";
    case CK_DJB2:       return "djb2";
    case CK_SDBM:       return "sdbm";
    case CK_OAAT:       return "one-at-a-time";
    case CK_XOR8:       return "xor8";
    case CK_SUM8:       return "sum8";
    default:            return "unknown";
    }
}

const char *ck_strerror(int st)
{
    switch (st) {
    case ST_OK:      return "checksum: ok";
    case ST_ENOMEM:  return "checksum: out of memory";
    case ST_EINVAL:  return "checksum: invalid argument";
    case ST_ENOENT:  return "checksum: no such algorithm";
    case ST_EFULL:   return "checksum: buffer full";
    case ST_ERANGE:  return "checksum: value out of range";
    case ST_ESYNTAX: return "checksum: syntax error";
    default:         return "checksum: unknown error";
    }
}
