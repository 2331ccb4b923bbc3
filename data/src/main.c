/* main.c - drives every module of the demo toolkit and prints a
 * deterministic report.  Exit status is 0 when all self-checks pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

static const char corpus[] =
    "The quick brown fox jumps over the lazy dog. The dog sleeps;\n"
    "the fox does not. In 1984 the old mill ground 42 sacks a day,\n"
    "and the miller's daughter counted every one of them twice!\n"
    "\n"
    "Was it a car or a cat I saw? Nobody knows, but the cat knows.\n"
    "Build systems compile, link and cache; the linker links and the\n"
    "cache caches. Outlining finds the same code in many places and\n"
    "the merger folds functions that differ only by a constant.\n"
    "Repeat after me: the same code, the same code, the same code.\n";

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("CHECK FAILED: %s\n", what);
        failures++;
    }
}

static void section(const char *name)
{
    printf("== %s ==\n", name);
}

static void report_checksums(void)
{
    static const char check_input[] = "123456789";
    size_t n = sizeof corpus - 1;

    section("checksum");
    for (int a = 0; a < CK_ALGO_COUNT; a++)
        printf("%-14s corpus=%08lx check=%08lx\n", ck_algo_name(a),
               (unsigned long)ck_by_algo(a, corpus, n),
               (unsigned long)ck_by_algo(a, check_input, 9));

    uint32_t split = ck_crc32_update(0u, corpus, 100);
    split = ck_crc32_update(split, corpus + 100, n - 100);
    printf("crc32 split    %s\n", split == ck_crc32(corpus, n) ? "match" : "MISMATCH");

    check(ck_crc32(check_input, 9) == 0xCBF43926u, "crc32 check value");
    check(ck_adler32("Wikipedia", 9) == 0x11E60398u, "adler32 check value");
    check(ck_fnv1a32("", 0) == 0x811C9DC5u, "fnv1a32 empty");
    check(ck_fletcher16("abcde", 5) == 0xC8F0u, "fletcher16 check value");
    check(split == ck_crc32(corpus, n), "crc32 incremental");
    printf("%s / %s\n", ck_strerror(ST_OK), ck_strerror(ST_ENOENT));
}

static void report_text(struct kvstore *kv)
{
    struct text_stats st;
    const char *keys[8];
    int64_t values[8];

    section("textstats");
    int rc = ts_analyze(corpus, sizeof corpus - 1, &st);
    check(rc == ST_OK, "ts_analyze");
    for (int f = 0; f < TS_FIELD_COUNT; f++)
        printf("%-13s %lu\n", ts_field_name(f), (unsigned long)ts_field(&st, f));
    printf("word_hash     %08lx\n", (unsigned long)ts_word_hash(&st));
    check(ts_field(&st, TS_LETTERS) == ts_letters(&st), "letters accessor");
    check(ts_field(&st, TS_WORDS) == ts_words(&st), "words accessor");
    check(ts_field(&st, TS_LINES) == ts_lines(&st), "lines accessor");

    rc = ts_word_freq(corpus, sizeof corpus - 1, kv);
    check(rc == ST_OK, "ts_word_freq");
    printf("distinct words %lu\n", (unsigned long)kv_count(kv));
    size_t top = kv_top(kv, keys, values, 8);
    for (size_t i = 0; i < top; i++)
        printf("  top%lu %-8s %lld\n", (unsigned long)i + 1, keys[i],
               (long long)values[i]);
    printf("%s\n", ts_strerror(ST_EINVAL));
}

static void report_kv(struct kvstore *kv)
{
    int64_t v = 0;
    char key[16];

    section("kvstore");
    printf("count=%lu cap=%lu ops=%lu digest=%08lx\n",
           (unsigned long)kv_count(kv), (unsigned long)kv_capacity(kv),
           (unsigned long)kv_ops(kv), (unsigned long)kv_digest(kv));

    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "k%03d", i);
        check(kv_put(kv, key, (int64_t)i * i - 1000) == ST_OK, "kv_put");
    }
    for (int i = 0; i < 200; i += 3) {
        snprintf(key, sizeof key, "k%03d", i);
        check(kv_del(kv, key) == ST_OK, "kv_del");
    }
    for (int i = 0; i < 200; i += 5) {
        snprintf(key, sizeof key, "k%03d", i);
        kv_incr(kv, key, 7);
    }
    check(kv_get(kv, "k004", &v) == ST_OK && v == 16 - 1000, "kv_get k004");
    check(kv_get(kv, "k003", &v) == ST_ENOENT, "kv_get deleted");
    check(kv_get(kv, "k005", &v) == ST_OK && v == 25 - 1000 + 7, "kv_incr k005");
    check(kv_get(kv, "k006", &v) == ST_ENOENT, "kv_get k006");
    check(kv_get(kv, "k015", &v) == ST_OK && v == 7, "kv_incr revived k015");
    check(kv_del(kv, "nope") == ST_ENOENT, "kv_del missing");
    check(kv_last_error(kv) == ST_ENOENT, "kv last_error");

    printf("count=%lu cap=%lu tombs=%lu ops=%lu digest=%08lx\n",
           (unsigned long)kv_count(kv), (unsigned long)kv_capacity(kv),
           (unsigned long)kv_tombstones(kv), (unsigned long)kv_ops(kv),
           (unsigned long)kv_digest(kv));
    printf("the=%lld\n", kv_get(kv, "the", &v) == ST_OK ? (long long)v : -1LL);
    printf("%s\n", kv_strerror(kv_last_error(kv)));
}

static void print_mat(const char *name, const struct matrix *m)
{
    printf("%-4s %lux%lu sum=%lld trace=%lld min=%ld max=%ld crc=%08lx\n",
           name, (unsigned long)mat_rows(m), (unsigned long)mat_cols(m),
           (long long)mat_sum(m), (long long)mat_trace(m), (long)mat_min(m),
           (long)mat_max(m), (unsigned long)mat_checksum(m));
}

static void report_matrix(void)
{
    struct matrix a, b, c = {0}, t = {0}, s = {0}, ata = {0};

    section("matrix");
    check(mat_init(&a, 6, 5) == ST_OK, "mat_init a");
    check(mat_init(&b, 5, 7) == ST_OK, "mat_init b");
    mat_fill_lcg(&a, 12345u);
    mat_fill_lcg(&b, 67890u);
    check(mat_mul(&a, &b, &c) == ST_OK, "mat_mul");
    check(mat_transpose(&a, &t) == ST_OK, "mat_transpose");
    check(mat_mul(&a, &a, &s) == ST_EINVAL, "mat_mul shape error");
    check(mat_mul(&t, &a, &ata) == ST_OK, "mat_mul ata");
    print_mat("a", &a);
    print_mat("b", &b);
    print_mat("a*b", &c);
    print_mat("at*a", &ata);

    int64_t rows = 0, cols = 0;
    for (size_t i = 0; i < mat_rows(&c); i++)
        rows += mat_row_sum(&c, i);
    for (size_t j = 0; j < mat_cols(&c); j++)
        cols += mat_col_sum(&c, j);
    check(rows == mat_sum(&c) && cols == mat_sum(&c), "row/col sums");
    check(mat_sum(&t) == mat_sum(&a), "transpose sum");
    check(mat_get(&t, 4, 2) == mat_get(&a, 2, 4), "transpose element");
    check(mat_add(&c, &c, &s) == ST_OK, "mat_add");
    check(mat_sum(&s) == 2 * mat_sum(&c), "mat_add sum");
    check(mat_add(&a, &b, &s) == ST_EINVAL, "mat_add shape error");
    int sym = 1;
    for (size_t i = 0; i < mat_rows(&ata); i++)
        for (size_t j = 0; j < mat_cols(&ata); j++)
            if (mat_get(&ata, i, j) != mat_get(&ata, j, i))
                sym = 0;
    check(sym, "at*a symmetric");
    check(mat_set(&a, 9, 9, 1) == ST_ERANGE, "mat_set range");
    printf("symmetric=%d %s\n", sym, mat_strerror(mat_last_error(&a)));

    mat_free(&a); mat_free(&b); mat_free(&c);
    mat_free(&t); mat_free(&s); mat_free(&ata);
}

static void report_vec(void)
{
    enum { N = 257 };
    int32_t v[N], w[N];
    uint32_t bins[10];
    int32_t med = 0;

    section("vecops");
    vec_fill_lcg(v, N, 2024u);
    vec_fill_lcg(w, N, 4242u);
    printf("sum=%lld min=%ld max=%ld dot=%lld crc=%08lx\n",
           (long long)vec_sum(v, N), (long)vec_min(v, N), (long)vec_max(v, N),
           (long long)vec_dot(v, w, N), (unsigned long)vec_checksum(v, N));
    printf("above100=%lu below-100=%lu\n",
           (unsigned long)vec_count_above(v, N, 100),
           (unsigned long)vec_count_below(v, N, -100));
    check(vec_median(v, N, &med) == ST_OK, "vec_median");
    check(vec_histogram(v, N, -500, 501, bins, 10) == ST_OK, "vec_histogram");
    printf("median=%ld\nhist:", (long)med);
    uint32_t total = 0;
    for (int i = 0; i < 10; i++) {
        printf(" %lu", (unsigned long)bins[i]);
        total += bins[i];
    }
    printf("\n");
    check(total == N, "histogram total");
    check(vec_histogram(v, N, 0, 10, bins, 10) == ST_ERANGE, "histogram range");

    vec_sort(w, N);
    int sorted = 1;
    for (int i = 1; i < N; i++)
        if (w[i - 1] > w[i])
            sorted = 0;
    check(sorted, "vec_sort");
    vec_clamp(v, N, -250, 250);
    printf("sorted crc=%08lx clamped sum=%lld crc=%08lx\n",
           (unsigned long)vec_checksum(w, N), (long long)vec_sum(v, N),
           (unsigned long)vec_checksum(v, N));
    check(vec_min(v, N) >= -250 && vec_max(v, N) <= 250, "vec_clamp");
    printf("%s\n", vec_strerror(ST_ERANGE));
}

static void report_strings(void)
{
    char buf[128], esc[256], num[72];
    struct su_span spans[8];
    size_t len = 0;
    int64_t val = 0;

    section("strutil");
    strcpy(buf, "   Hello, Two-Pass World!\t\n");
    printf("trim -> %lu [%s]\n", (unsigned long)su_trim(buf), buf);
    printf("upper changed %lu [%s]\n", (unsigned long)su_upper(buf), buf);
    printf("lower changed %lu [%s]\n", (unsigned long)su_lower(buf), buf);
    su_reverse(buf, strlen(buf));
    printf("reversed [%s]\n", buf);
    printf("count 'o' = %lu\n", (unsigned long)su_count_char(corpus, 'o'));

    const char *raw = "tab\there \"quoted\" back\\slash \x01\x7f end\n";
    check(su_escape(raw, esc, sizeof esc, &len) == ST_OK, "su_escape");
    printf("escaped(%lu): %s\n", (unsigned long)len, esc);
    check(su_escape(raw, esc, 8, &len) == ST_EFULL, "escape full");

    const char *csv = "alpha,beta,,gamma,delta";
    size_t parts = su_split(csv, ',', spans, 8);
    printf("split %lu:", (unsigned long)parts);
    for (size_t i = 0; i < parts && i < 8; i++)
        printf(" [%.*s]", (int)spans[i].len, csv + spans[i].start);
    printf("\n");

    static const char *nums[] = {
        "42", "  -17 ", "+9000", "9223372036854775807",
        "-9223372036854775808", "9223372036854775808", "12x", "", "-"
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        int rc = su_parse_int(nums[i], &val);
        if (rc == ST_OK)
            printf("parse [%s] = %lld\n", nums[i], (long long)val);
        else
            printf("parse [%s] -> %s\n", nums[i], su_strerror(rc));
    }
    for (unsigned base = 2; base <= 16; base += 7) {
        check(su_format_uint(0xC0FFEEull, base, num, sizeof num) == ST_OK,
              "su_format_uint");
        printf("0xc0ffee base %u = %s\n", base, num);
    }
    check(su_format_uint(12345u, 10, num, 3) == ST_EFULL, "format full");
    printf("su_hash(twopass)=%08lx\n", (unsigned long)su_hash("twopass"));
}

int main(void)
{
    struct kvstore kv;

    printf("twopass demo toolkit\n");
    report_checksums();
    if (kv_init(&kv, 16) != ST_OK) {
        printf("%s\n", kv_strerror(ST_ENOMEM));
        return 1;
    }
    report_text(&kv);
    report_kv(&kv);
    kv_free(&kv);
    report_matrix();
    report_vec();
    report_strings();
    section("summary");
    printf("self-checks failed: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
