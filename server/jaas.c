/*
 * jaas.c — the JAAS login configuration reader (see jaas.h).
 *
 * A small tokenizer that reads the file the way the JDK's ConfigFile
 * configures java.io.StreamTokenizer (quote char '"', word chars letters,
 * '$', '_', '-', '*' and digits/'.' inside a word, // and C-style comments,
 * a lone '/' comments out the rest of the line), then the ConfigFile
 * grammar: NAME '{' (MODULE FLAG (KEY '=' VALUE)* ';')* '}' ';'.
 * Differences from Java, on purpose: bytes that are not UTF-8 and NUL bytes
 * are refused (Java would silently replace them), a section name must be a
 * word or a quoted string (Java takes any token and fails oddly later), and
 * ${property} references in values are kept literally (Java expands them
 * from its system properties, which zkserver does not have).
 */
#include "jaas.h"

#include <stdbool.h>
#include <string.h>

typedef enum tok_kind {
    TOK_EOF,
    TOK_WORD,     /* a word or a "quoted string": text in tok.text */
    TOK_CHAR,     /* any other single character (tok.ch) */
    TOK_NUMBER,   /* what StreamTokenizer would read as a number: never valid here */
    TOK_SQUOTE,   /* a 'single-quoted' string: a token type ConfigFile never accepts */
} tok_kind;

typedef struct lexer {
    const char *p, *end;
    int line;
    tok_kind kind;
    char ch;
    GString *text;
    int tok_line;
} lexer;

static bool is_word_start(unsigned char c)
{
    return g_ascii_isalpha(c) || c == '$' || c == '_' || c == '*' || c >= 0x80;
}

static bool is_word_part(unsigned char c)
{
    return is_word_start(c) || g_ascii_isdigit(c) || c == '.' || c == '-';
}

/* Skips whitespace and comments, counting lines. */
static void skip_space(lexer *lx)
{
    while (lx->p < lx->end) {
        unsigned char c = (unsigned char)*lx->p;
        if (c == '\n') {
            lx->line++;
            lx->p++;
        } else if (c == '\r') {
            lx->line++;
            lx->p++;
            if (lx->p < lx->end && *lx->p == '\n')
                lx->p++;
        } else if (c <= ' ') {
            lx->p++;
        } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
            lx->p += 2;
            while (lx->p < lx->end && !(lx->p[0] == '*' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
                if (*lx->p == '\n' || (*lx->p == '\r' && !(lx->p + 1 < lx->end && lx->p[1] == '\n')))
                    lx->line++;
                lx->p++;
            }
            lx->p = lx->p < lx->end ? lx->p + 2 : lx->end;   /* unterminated: the end of the file */
        } else if (c == '/') {   /* "//" or a lone '/' (StreamTokenizer's comment char) */
            while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r')
                lx->p++;
        } else {
            return;
        }
    }
}

/* Reads a quoted string after its opening quote q, with StreamTokenizer's
 * escapes; like Java it ends quietly at the end of the line. */
static void read_quoted(lexer *lx, char q)
{
    while (lx->p < lx->end && *lx->p != q && *lx->p != '\n' && *lx->p != '\r') {
        char c = *lx->p++;
        if (c != '\\' || lx->p >= lx->end) {
            g_string_append_c(lx->text, c);
            continue;
        }
        c = *lx->p++;
        if (c >= '0' && c <= '7') {
            int v = c - '0';
            int max = c <= '3' ? 2 : 1;
            for (int i = 0; i < max && lx->p < lx->end && *lx->p >= '0' && *lx->p <= '7'; i++)
                v = v * 8 + (*lx->p++ - '0');
            g_string_append_unichar(lx->text, (gunichar)v);
            continue;
        }
        switch (c) {
        case 'a': c = '\a'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'v': c = '\v'; break;
        default: break;
        }
        g_string_append_c(lx->text, c);
    }
    if (lx->p < lx->end && *lx->p == q)
        lx->p++;
}

static void next_token(lexer *lx)
{
    skip_space(lx);
    lx->tok_line = lx->line;
    g_string_truncate(lx->text, 0);
    if (lx->p >= lx->end) {
        lx->kind = TOK_EOF;
        return;
    }
    unsigned char c = (unsigned char)*lx->p;
    if (g_ascii_isdigit(c) || c == '.' ||
        (c == '-' && lx->p + 1 < lx->end && (g_ascii_isdigit(lx->p[1]) || lx->p[1] == '.'))) {
        lx->kind = TOK_NUMBER;
        lx->p++;
        while (lx->p < lx->end && (g_ascii_isdigit(*lx->p) || *lx->p == '.'))
            g_string_append_c(lx->text, *lx->p++);
        return;
    }
    if (is_word_start(c)) {
        while (lx->p < lx->end && is_word_part((unsigned char)*lx->p))
            g_string_append_c(lx->text, *lx->p++);
        lx->kind = TOK_WORD;
        return;
    }
    lx->p++;
    if (c == '"' || c == '\'') {
        read_quoted(lx, (char)c);
        lx->kind = c == '"' ? TOK_WORD : TOK_SQUOTE;
        return;
    }
    lx->kind = TOK_CHAR;
    lx->ch = (char)c;
}

/* What the current token is, for messages (g_free it). */
static char *describe(const lexer *lx)
{
    switch (lx->kind) {
    case TOK_EOF: return g_strdup("the end of the file");
    case TOK_WORD: return g_strdup_printf("'%s'", lx->text->str);
    case TOK_NUMBER: return g_strdup("a number");
    case TOK_SQUOTE: return g_strdup("a 'single-quoted' string (use double quotes)");
    case TOK_CHAR:
        if (g_ascii_isprint(lx->ch))
            return g_strdup_printf("'%c'", lx->ch);
        return g_strdup_printf("byte 0x%02x", (unsigned char)lx->ch);
    }
    return g_strdup("?");
}

static bool expected(lexer *lx, const char *what, char **err)
{
    char *found = describe(lx);
    *err = g_strdup_printf("line %d: expected %s, found %s", lx->tok_line, what, found);
    g_free(found);
    return false;
}

/* Takes a word/quoted token into *out (g_malloc'd). */
static bool take_word(lexer *lx, const char *what, char **out, char **err)
{
    if (lx->kind != TOK_WORD)
        return expected(lx, what, err);
    *out = g_strdup(lx->text->str);
    next_token(lx);
    return true;
}

static bool take_char(lexer *lx, char ch, char **err)
{
    if (lx->kind != TOK_CHAR || lx->ch != ch) {
        char what[4] = { '\'', ch, '\'', '\0' };
        return expected(lx, what, err);
    }
    next_token(lx);
    return true;
}

static bool at_char(const lexer *lx, char ch)
{
    return lx->kind == TOK_CHAR && lx->ch == ch;
}

static void option_free(gpointer p)
{
    jaas_option *o = p;
    g_free(o->key);
    g_free(o->value);
    g_free(o);
}

static void entry_free(gpointer p)
{
    jaas_entry *e = p;
    g_free(e->module);
    g_free(e->flag);
    g_ptr_array_free(e->options, TRUE);
    g_free(e);
}

static void section_free(gpointer p)
{
    jaas_section *s = p;
    g_free(s->name);
    g_ptr_array_free(s->entries, TRUE);
    g_free(s);
}

static bool parse_entry(lexer *lx, jaas_entry *e, char **err)
{
    if (!take_word(lx, "a login module class name", &e->module, err))
        return false;
    char *flag = NULL;
    int flag_line = lx->tok_line;
    if (!take_word(lx, "a control flag (required, requisite, sufficient or optional)", &flag, err))
        return false;
    e->flag = g_ascii_strdown(flag, -1);
    g_free(flag);
    if (strcmp(e->flag, "required") != 0 && strcmp(e->flag, "requisite") != 0 &&
        strcmp(e->flag, "sufficient") != 0 && strcmp(e->flag, "optional") != 0) {
        *err = g_strdup_printf("line %d: invalid control flag '%s' (expected required, requisite, "
                               "sufficient or optional)", flag_line, e->flag);
        return false;
    }
    while (!at_char(lx, ';')) {
        char *key = NULL, *value = NULL;
        if (!take_word(lx, "an option name or ';'", &key, err))
            return false;
        if (!take_char(lx, '=', err) || !take_word(lx, "an option value", &value, err)) {
            g_free(key);
            return false;
        }
        jaas_option *old = NULL;
        for (guint i = 0; i < e->options->len && !old; i++) {
            jaas_option *o = g_ptr_array_index(e->options, i);
            if (strcmp(o->key, key) == 0)
                old = o;
        }
        if (old) {
            g_free(old->value);
            old->value = value;
            g_free(key);
        } else {
            jaas_option *o = g_new0(jaas_option, 1);
            o->key = key;
            o->value = value;
            g_ptr_array_add(e->options, o);
        }
    }
    next_token(lx);   /* the ';' */
    return true;
}

static bool parse_section(lexer *lx, jaas_config *cfg, char **err)
{
    int name_line = lx->tok_line;
    char *name = NULL;
    if (!take_word(lx, "a section name", &name, err))
        return false;
    if (jaas_find(cfg, name)) {
        *err = g_strdup_printf("line %d: section '%s' appears twice", name_line, name);
        g_free(name);
        return false;
    }
    jaas_section *s = g_new0(jaas_section, 1);
    s->name = name;
    s->entries = g_ptr_array_new_with_free_func(entry_free);
    g_ptr_array_add(cfg->sections, s);
    if (!take_char(lx, '{', err))
        return false;
    while (!at_char(lx, '}')) {
        jaas_entry *e = g_new0(jaas_entry, 1);
        e->options = g_ptr_array_new_with_free_func(option_free);
        g_ptr_array_add(s->entries, e);
        if (!parse_entry(lx, e, err))
            return false;
    }
    next_token(lx);   /* the '}' */
    return take_char(lx, ';', err);
}

jaas_config *jaas_parse(const char *text, size_t len, char **err)
{
    *err = NULL;
    if (len > 0 && memchr(text, '\0', len)) {
        *err = g_strdup("the file contains a NUL byte");
        return NULL;
    }
    const char *bad = NULL;
    if (!g_utf8_validate(text, (gssize)len, &bad)) {
        int line = 1;
        for (const char *q = text; q < bad; q++)
            line += *q == '\n';
        *err = g_strdup_printf("line %d: the file is not valid UTF-8", line);
        return NULL;
    }
    jaas_config *cfg = g_new0(jaas_config, 1);
    cfg->sections = g_ptr_array_new_with_free_func(section_free);
    lexer lx = { .p = text, .end = text + len, .line = 1, .text = g_string_new(NULL) };
    next_token(&lx);
    bool ok = true;
    while (ok && lx.kind != TOK_EOF)
        ok = parse_section(&lx, cfg, err);
    g_string_free(lx.text, TRUE);
    if (!ok) {
        jaas_free(cfg);
        return NULL;
    }
    return cfg;
}

const jaas_section *jaas_find(const jaas_config *cfg, const char *name)
{
    for (guint i = 0; cfg && i < cfg->sections->len; i++) {
        const jaas_section *s = g_ptr_array_index(cfg->sections, i);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

const char *jaas_option_get(const jaas_entry *e, const char *key)
{
    for (guint i = 0; i < e->options->len; i++) {
        const jaas_option *o = g_ptr_array_index(e->options, i);
        if (strcmp(o->key, key) == 0)
            return o->value;
    }
    return NULL;
}

void jaas_free(jaas_config *cfg)
{
    if (!cfg)
        return;
    g_ptr_array_free(cfg->sections, TRUE);
    g_free(cfg);
}
