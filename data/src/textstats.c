/* textstats.c - character classes, line/word statistics, word frequencies. */
#include <string.h>

#include "demo.h"

enum cclass {
    CC_OTHER = 0,
    CC_SPACE,
    CC_NEWLINE,
    CC_UPPER,
    CC_LOWER,
    CC_DIGIT,
    CC_PUNCT,
    CC_APOS
};

int ts_char_class(int c)
{
    switch (c) {
    case ' ': case '\t': case '\r': case '\v': case '\f':
        return CC_SPACE;
    case '\n':
        return CC_NEWLINE;
    case '\'':
        return CC_APOS;
    case '.': case ',': case ';': case ':': case '!': case '?':
    case '"': case '(': case ')': case '[': case ']': case '{':
    case '}': case '-': case '/': case '&': case '*': case '#':
        return CC_PUNCT;
    default:
        if (c >= 'a' && c <= 'z')
            return CC_LOWER;
        if (c >= 'A' && c <= 'Z')
            return CC_UPPER;
        if (c >= '0' && c <= '9')
            return CC_DIGIT;
        return CC_OTHER;
    }
}

static int ts_is_word_char(int cls)
{
    return cls == CC_LOWER || cls == CC_UPPER || cls == CC_DIGIT ||
           cls == CC_APOS;
}

static int ts_is_sentence_end(int c)
{
    switch (c) {
    case '.': case '!': case '?':
        return 1;
    default:
        return 0;
    }
}

int ts_analyze(const char *text, size_t n, struct text_stats *st)
{
    size_t word_len = 0, line_len = 0;
    if (!st)
        return ST_EINVAL;
    memset(st, 0, sizeof *st);
    if (!text) {
        st->last_error = ST_EINVAL;
        return ST_EINVAL;
    }
    st->word_hash = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)text[i];
        int cls = ts_char_class(ch);
        st->bytes++;
        switch (cls) {
        case CC_UPPER:  st->upper++;  st->letters++; break;
        case CC_LOWER:  st->lower++;  st->letters++; break;
        case CC_DIGIT:  st->digits++; break;
        case CC_SPACE:  st->spaces++; break;
        case CC_PUNCT:  st->punct++;  break;
        case CC_NEWLINE:
            st->lines++;
            if (line_len > st->longest_line)
                st->longest_line = line_len;
            line_len = 0;
            break;
        default:
            break;
        }
        if (cls != CC_NEWLINE)
            line_len++;
        if (ts_is_word_char(cls)) {
            if (word_len == 0)
                st->words++;
            word_len++;
            st->word_hash ^= (uint32_t)(ch | 0x20u);
            st->word_hash *= 16777619u;
        } else {
            if (word_len > st->longest_word)
                st->longest_word = word_len;
            if (word_len > 0)
                st->word_hash = ck_combine(st->word_hash, (uint32_t)word_len);
            word_len = 0;
        }
        if (ts_is_sentence_end(ch))
            st->sentences++;
    }
    if (word_len > st->longest_word)
        st->longest_word = word_len;
    if (line_len > 0) {
        st->lines++;
        if (line_len > st->longest_line)
            st->longest_line = line_len;
    }
    return ST_OK;
}

int ts_word_freq(const char *text, size_t n, struct kvstore *kv)
{
    char word[48];
    size_t len = 0;
    if (!text || !kv)
        return ST_EINVAL;
    for (size_t i = 0; i <= n; i++) {
        int cls = i < n ? ts_char_class((unsigned char)text[i]) : CC_OTHER;
        if (ts_is_word_char(cls)) {
            char ch = text[i];
            if (cls == CC_UPPER)
                ch = (char)(ch - 'A' + 'a');
            if (len + 1 < sizeof word)
                word[len++] = ch;
            continue;
        }
        if (len == 0)
            continue;
        word[len] = '\0';
        len = 0;
        int st = kv_incr(kv, word, 1);
        if (st != ST_OK)
            return st;
    }
    return ST_OK;
}

size_t ts_field(const struct text_stats *st, int field)
{
    if (!st)
        return 0;
    switch (field) {
    case TS_BYTES:        return st->bytes;
    case TS_LINES:        return st->lines;
    case TS_WORDS:        return st->words;
    case TS_LETTERS:      return st->letters;
    case TS_DIGITS:       return st->digits;
    case TS_SPACES:       return st->spaces;
    case TS_PUNCT:        return st->punct;
    case TS_UPPER:        return st->upper;
    case TS_LOWER:        return st->lower;
    case TS_SENTENCES:    return st->sentences;
    case TS_LONGEST_WORD: return st->longest_word;
    case TS_LONGEST_LINE: return st->longest_line;
    default:              return 0;
    }
}

const char *ts_field_name(int field)
{
    switch (field) {
    case TS_BYTES:        return "bytes";
    case TS_LINES:        return "lines";
    case TS_WORDS:        return "words";
    case TS_LETTERS:      return "letters";
    case TS_DIGITS:       return "digits";
    case TS_SPACES:       return "spaces";
    case TS_PUNCT:        return "punct";
    case TS_UPPER:        return "upper";
    case TS_LOWER:        return "lower";
    case TS_SENTENCES:    return "sentences";
    case TS_LONGEST_WORD: return "longest_word";
    case TS_LONGEST_LINE: return "longest_line";
    default:              return "unknown";
    }
}

size_t ts_lines(const struct text_stats *st)      { return st ? st->lines : 0; }
size_t ts_words(const struct text_stats *st)      { return st ? st->words : 0; }
size_t ts_letters(const struct text_stats *st)    { return st ? st->letters : 0; }
uint32_t ts_word_hash(const struct text_stats *st){ return st ? st->word_hash : 0u; }

const char *ts_strerror(int st)
{
    switch (st) {
    case ST_OK:      return "textstats: ok";
    case ST_ENOMEM:  return "textstats: out of memory";
    case ST_EINVAL:  return "textstats: invalid argument";
    case ST_ENOENT:  return "textstats: no such field";
    case ST_EFULL:   return "textstats: buffer full";
    case ST_ERANGE:  return "textstats: value out of range";
    case ST_ESYNTAX: return "textstats: syntax error";
    default:         return "textstats: unknown error";
    }
}
