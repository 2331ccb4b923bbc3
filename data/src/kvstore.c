/* kvstore.c - open-addressing string -> int64 hash table with tombstones. */
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define KV_EMPTY 0
#define KV_USED 1
#define KV_TOMB 2

static uint32_t kv_hash_key(const char *key)
{
    return ck_fnv1a32(key, strlen(key));
}

static char *kv_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static size_t kv_round_cap(size_t want)
{
    size_t c = 8;
    while (c < want)
        c <<= 1;
    return c;
}

int kv_init(struct kvstore *kv, size_t cap)
{
    if (!kv)
        return ST_EINVAL;
    cap = kv_round_cap(cap);
    kv->slots = calloc(cap, sizeof *kv->slots);
    kv->count = 0;
    kv->tombs = 0;
    kv->ops = 0;
    if (!kv->slots) {
        kv->cap = 0;
        kv->last_error = ST_ENOMEM;
        return ST_ENOMEM;
    }
    kv->cap = cap;
    kv->last_error = ST_OK;
    return ST_OK;
}

void kv_free(struct kvstore *kv)
{
    if (!kv || !kv->slots)
        return;
    for (size_t i = 0; i < kv->cap; i++)
        if (kv->slots[i].state == KV_USED)
            free(kv->slots[i].key);
    free(kv->slots);
    kv->slots = NULL;
    kv->cap = 0;
    kv->count = 0;
    kv->tombs = 0;
}

/* Returns the slot holding `key` (found=1) or the best slot to insert it. */
static size_t kv_find_slot(const struct kvstore *kv, const char *key,
                           uint32_t h, int *found)
{
    size_t mask = kv->cap - 1;
    size_t i = h & mask;
    size_t first_free = SIZE_MAX;
    for (size_t probe = 0; probe < kv->cap; probe++) {
        const struct kv_entry *e = &kv->slots[i];
        if (e->state == KV_EMPTY) {
            *found = 0;
            return first_free != SIZE_MAX ? first_free : i;
        }
        if (e->state == KV_TOMB) {
            if (first_free == SIZE_MAX)
                first_free = i;
        } else if (e->hash == h && strcmp(e->key, key) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
    *found = 0;
    return first_free;
}

static int kv_grow(struct kvstore *kv)
{
    size_t ncap = kv->cap * 2;
    struct kv_entry *ns = calloc(ncap, sizeof *ns);
    if (!ns) {
        kv->last_error = ST_ENOMEM;
        return ST_ENOMEM;
    }
    for (size_t i = 0; i < kv->cap; i++) {
        const struct kv_entry *e = &kv->slots[i];
        if (e->state != KV_USED)
            continue;
        size_t j = e->hash & (ncap - 1);
        while (ns[j].state == KV_USED)
            j = (j + 1) & (ncap - 1);
        ns[j] = *e;
    }
    free(kv->slots);
    kv->slots = ns;
    kv->cap = ncap;
    kv->tombs = 0;
    return ST_OK;
}

int kv_put(struct kvstore *kv, const char *key, int64_t value)
{
    int found;
    if (!kv || !key) {
        if (kv)
            kv->last_error = ST_EINVAL;
        return ST_EINVAL;
    }
    if ((kv->count + kv->tombs + 1) * 10 > kv->cap * 7) {
        int st = kv_grow(kv);
        if (st != ST_OK)
            return st;
    }
    uint32_t h = kv_hash_key(key);
    size_t i = kv_find_slot(kv, key, h, &found);
    if (i == SIZE_MAX) {
        kv->last_error = ST_EFULL;
        return ST_EFULL;
    }
    kv->ops++;
    struct kv_entry *e = &kv->slots[i];
    if (found) {
        e->value = value;
        return ST_OK;
    }
    char *k = kv_strdup(key);
    if (!k) {
        kv->last_error = ST_ENOMEM;
        return ST_ENOMEM;
    }
    if (e->state == KV_TOMB)
        kv->tombs--;
    e->key = k;
    e->value = value;
    e->hash = h;
    e->state = KV_USED;
    kv->count++;
    return ST_OK;
}

int kv_get(const struct kvstore *kv, const char *key, int64_t *out)
{
    int found;
    if (!kv || !key || !kv->slots)
        return ST_EINVAL;
    size_t i = kv_find_slot(kv, key, kv_hash_key(key), &found);
    if (!found)
        return ST_ENOENT;
    if (out)
        *out = kv->slots[i].value;
    return ST_OK;
}

int kv_del(struct kvstore *kv, const char *key)
{
    int found;
    if (!kv || !key) {
        if (kv)
            kv->last_error = ST_EINVAL;
        return ST_EINVAL;
    }
    size_t i = kv_find_slot(kv, key, kv_hash_key(key), &found);
    if (!found) {
        kv->last_error = ST_ENOENT;
        return ST_ENOENT;
    }
    kv->ops++;
    free(kv->slots[i].key);
    kv->slots[i].key = NULL;
    kv->slots[i].state = KV_TOMB;
    kv->count--;
    kv->tombs++;
    return ST_OK;
}

int kv_incr(struct kvstore *kv, const char *key, int64_t delta)
{
    int64_t cur = 0;
    int st = kv_get(kv, key, &cur);
    if (st != ST_OK && st != ST_ENOENT) {
        kv->last_error = st;
        return st;
    }
    return kv_put(kv, key, cur + delta);
}

size_t kv_count(const struct kvstore *kv)     { return kv ? kv->count : 0; }
size_t kv_capacity(const struct kvstore *kv)  { return kv ? kv->cap : 0; }
size_t kv_tombstones(const struct kvstore *kv){ return kv ? kv->tombs : 0; }
uint32_t kv_ops(const struct kvstore *kv)     { return kv ? kv->ops : 0u; }
int kv_last_error(const struct kvstore *kv)   { return kv ? kv->last_error : ST_EINVAL; }

/* Order-independent digest over all live entries. */
uint32_t kv_digest(const struct kvstore *kv)
{
    uint32_t acc = 0u;
    if (!kv)
        return 0u;
    for (size_t i = 0; i < kv->cap; i++) {
        const struct kv_entry *e = &kv->slots[i];
        if (e->state != KV_USED)
            continue;
        acc += ck_mix32(e->hash ^ (uint32_t)(uint64_t)e->value);
    }
    return acc;
}

static int kv_before(const struct kv_entry *a, const struct kv_entry *b)
{
    if (a->value != b->value)
        return a->value > b->value;
    return strcmp(a->key, b->key) < 0;
}

/* The `max` largest entries, by value descending then key ascending. */
size_t kv_top(const struct kvstore *kv, const char **keys, int64_t *values,
              size_t max)
{
    const struct kv_entry *best[32];
    size_t n = 0;
    if (!kv || max == 0)
        return 0;
    if (max > 32)
        max = 32;
    for (size_t i = 0; i < kv->cap; i++) {
        const struct kv_entry *e = &kv->slots[i];
        if (e->state != KV_USED)
            continue;
        size_t pos = n;
        while (pos > 0 && kv_before(e, best[pos - 1]))
            pos--;
        if (pos >= max)
            continue;
        size_t last = n < max ? n : max - 1;
        for (size_t j = last; j > pos; j--)
            best[j] = best[j - 1];
        best[pos] = e;
        if (n < max)
            n++;
    }
    for (size_t i = 0; i < n; i++) {
        keys[i] = best[i]->key;
        values[i] = best[i]->value;
    }
    return n;
}

const char *kv_strerror(int st)
{
    switch (st) {
    case ST_OK:      return "kvstore: ok";
    case ST_ENOMEM:  return "kvstore: out of memory";
    case ST_EINVAL:  return "kvstore: invalid argument";
    case ST_ENOENT:  return "kvstore: no such key";
    case ST_EFULL:   return "kvstore: table full";
    case ST_ERANGE:  return "kvstore: value out of range";
    case ST_ESYNTAX: return "kvstore: syntax error";
    default:         return "kvstore: unknown error";
    }
}
