/* demo.h - shared declarations for the twopass demo corpus.
 *
 * A tiny "toolkit" application: checksums, a string-keyed hash table,
 * text statistics, integer matrices, integer vectors and string helpers.
 * Every module deliberately follows the same house style (status codes,
 * last_error fields, small accessors, folding loops) so that identical
 * machine-code shapes appear in several translation units.
 */
#ifndef DEMO_H
#define DEMO_H

#include <stddef.h>
#include <stdint.h>

enum status {
    ST_OK = 0,
    ST_ENOMEM,
    ST_EINVAL,
    ST_ENOENT,
    ST_EFULL,
    ST_ERANGE,
    ST_ESYNTAX
};

/* ---- checksum.c ---------------------------------------------------- */
enum ck_algo {
    CK_CRC32 = 0,
    CK_ADLER32,
    CK_FLETCHER16,
    CK_FNV1A32,
    CK_DJB2,
    CK_SDBM,
    CK_OAAT,
    CK_XOR8,
    CK_SUM8,
    CK_ALGO_COUNT
};

uint32_t ck_crc32_update(uint32_t crc, const void *data, size_t n);
uint32_t ck_crc32(const void *data, size_t n);
uint32_t ck_adler32(const void *data, size_t n);
uint32_t ck_fletcher16(const void *data, size_t n);
uint32_t ck_fnv1a32(const void *data, size_t n);
uint32_t ck_djb2(const void *data, size_t n);
uint32_t ck_sdbm(const void *data, size_t n);
uint32_t ck_oaat(const void *data, size_t n);
uint32_t ck_xor8(const void *data, size_t n);
uint32_t ck_sum8(const void *data, size_t n);
uint32_t ck_mix32(uint32_t x);
uint32_t ck_combine(uint32_t seed, uint32_t value);
uint32_t ck_by_algo(int algo, const void *data, size_t n);
const char *ck_algo_name(int algo);
const char *ck_strerror(int st);

/* ---- kvstore.c ----------------------------------------------------- */
struct kv_entry {
    char *key;
    int64_t value;
    uint32_t hash;
    int state;
};

struct kvstore {
    struct kv_entry *slots;
    size_t cap;
    size_t count;
    size_t tombs;
    uint32_t ops;
    int last_error;
};

int kv_init(struct kvstore *kv, size_t cap);
void kv_free(struct kvstore *kv);
int kv_put(struct kvstore *kv, const char *key, int64_t value);
int kv_get(const struct kvstore *kv, const char *key, int64_t *out);
int kv_del(struct kvstore *kv, const char *key);
int kv_incr(struct kvstore *kv, const char *key, int64_t delta);
size_t kv_count(const struct kvstore *kv);
size_t kv_capacity(const struct kvstore *kv);
size_t kv_tombstones(const struct kvstore *kv);
uint32_t kv_ops(const struct kvstore *kv);
int kv_last_error(const struct kvstore *kv);
uint32_t kv_digest(const struct kvstore *kv);
size_t kv_top(const struct kvstore *kv, const char **keys, int64_t *values,
              size_t max);
const char *kv_strerror(int st);

/* ---- textstats.c --------------------------------------------------- */
enum ts_field {
    TS_BYTES = 0,
    TS_LINES,
    TS_WORDS,
    TS_LETTERS,
    TS_DIGITS,
    TS_SPACES,
    TS_PUNCT,
    TS_UPPER,
    TS_LOWER,
    TS_SENTENCES,
    TS_LONGEST_WORD,
    TS_LONGEST_LINE,
    TS_FIELD_COUNT
};

struct text_stats {
    size_t bytes;
    size_t lines;
    size_t words;
    size_t letters;
    size_t digits;
    size_t spaces;
    size_t punct;
    size_t upper;
    size_t lower;
    size_t sentences;
    size_t longest_word;
    size_t longest_line;
    uint32_t word_hash;
    int last_error;
};

int ts_char_class(int c);
int ts_analyze(const char *text, size_t n, struct text_stats *st);
int ts_word_freq(const char *text, size_t n, struct kvstore *kv);
size_t ts_field(const struct text_stats *st, int field);
const char *ts_field_name(int field);
size_t ts_lines(const struct text_stats *st);
size_t ts_words(const struct text_stats *st);
size_t ts_letters(const struct text_stats *st);
uint32_t ts_word_hash(const struct text_stats *st);
const char *ts_strerror(int st);

/* ---- matrix.c ------------------------------------------------------ */
struct matrix {
    int32_t *data;
    size_t rows;
    size_t cols;
    int last_error;
};

int mat_init(struct matrix *m, size_t rows, size_t cols);
void mat_free(struct matrix *m);
size_t mat_rows(const struct matrix *m);
size_t mat_cols(const struct matrix *m);
int mat_last_error(const struct matrix *m);
int32_t mat_get(const struct matrix *m, size_t r, size_t c);
int mat_set(struct matrix *m, size_t r, size_t c, int32_t v);
void mat_fill_lcg(struct matrix *m, uint32_t seed);
int mat_add(const struct matrix *a, const struct matrix *b, struct matrix *out);
int mat_mul(const struct matrix *a, const struct matrix *b, struct matrix *out);
int mat_transpose(const struct matrix *a, struct matrix *out);
int64_t mat_trace(const struct matrix *m);
int64_t mat_sum(const struct matrix *m);
int32_t mat_min(const struct matrix *m);
int32_t mat_max(const struct matrix *m);
int64_t mat_row_sum(const struct matrix *m, size_t r);
int64_t mat_col_sum(const struct matrix *m, size_t c);
uint32_t mat_checksum(const struct matrix *m);
const char *mat_strerror(int st);

/* ---- vecops.c ------------------------------------------------------ */
void vec_fill_lcg(int32_t *v, size_t n, uint32_t seed);
int64_t vec_sum(const int32_t *v, size_t n);
int32_t vec_min(const int32_t *v, size_t n);
int32_t vec_max(const int32_t *v, size_t n);
int64_t vec_dot(const int32_t *a, const int32_t *b, size_t n);
size_t vec_count_above(const int32_t *v, size_t n, int32_t t);
size_t vec_count_below(const int32_t *v, size_t n, int32_t t);
void vec_clamp(int32_t *v, size_t n, int32_t lo, int32_t hi);
void vec_sort(int32_t *v, size_t n);
int vec_median(const int32_t *v, size_t n, int32_t *out);
int vec_histogram(const int32_t *v, size_t n, int32_t lo, int32_t hi,
                  uint32_t *bins, size_t nbins);
uint32_t vec_checksum(const int32_t *v, size_t n);
const char *vec_strerror(int st);

/* ---- strutil.c ----------------------------------------------------- */
struct su_span {
    size_t start;
    size_t len;
};

size_t su_trim(char *s);
void su_reverse(char *s, size_t n);
size_t su_upper(char *s);
size_t su_lower(char *s);
size_t su_count_char(const char *s, char c);
int su_escape(const char *in, char *out, size_t cap, size_t *outlen);
size_t su_split(const char *s, char delim, struct su_span *spans, size_t max);
int su_parse_int(const char *s, int64_t *out);
int su_format_uint(uint64_t v, unsigned base, char *out, size_t cap);
uint32_t su_hash(const char *s);
const char *su_strerror(int st);

#endif /* DEMO_H */
