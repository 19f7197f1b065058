/* The rule expression parser: a lexer and a recursive-descent parser that
 * type-checks while it builds the flat array of nodes (children before
 * parents) of an Expr. */
#include "expr.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "expr_impl.h"
#include "macro.h"

/* --- lexer ------------------------------------------------------------- */

/* Parses exactly "YYYY-MM-DD", years 1..9999. Returns 0 and the day
 * number, or -EINVAL. */
static int date_literal(const char *s, size_t n, int32_t *ret)
{
        if (n == 10 && memcmp(s, "0000", 4) == 0)
                return -EINVAL;
        return calendar_date_parse(s, n, ret);
}

/* clang-format off */
typedef enum {
        T_END, T_NUM, T_STR, T_NAME, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA,
        T_OP, /* an operator, or the keywords and, or, not, in: Token.op says which */
        T_TRUE, T_FALSE,
} TokKind;
/* clang-format on */

/* Punctuation (longest first) and keywords. */
static const struct {
        const char *text;
        uint8_t kind, op;
} tokens[] = {
    {"<=", T_OP, OP_LE},   {">=", T_OP, OP_GE},   {"==", T_OP, OP_EQ}, {"!=", T_OP, OP_NE},
    {"<", T_OP, OP_LT},    {">", T_OP, OP_GT},    {"+", T_OP, OP_ADD}, {"-", T_OP, OP_SUB},
    {"*", T_OP, OP_MUL},   {"/", T_OP, OP_DIV},   {"(", T_LPAREN, 0},  {")", T_RPAREN, 0},
    {"[", T_LBRACK, 0},    {"]", T_RBRACK, 0},    {",", T_COMMA, 0},   {"and", T_OP, OP_AND},
    {"or", T_OP, OP_OR},   {"not", T_OP, OP_NOT}, {"in", T_OP, OP_IN}, {"true", T_TRUE, 0},
    {"false", T_FALSE, 0},
};

typedef struct {
        unsigned line, col;
} Pos;

typedef struct {
        TokKind kind;
        uint8_t op; /* T_OP */
        Pos at;
        size_t start, len; /* bytes of the source */
        int64_t num;       /* T_NUM, x 100 */
} Token;

typedef struct {
        const char *src;
        const ExprSymbols *sym;
        ExprError *err;
        size_t pos, line_start;
        unsigned line;
        Token tok;
        unsigned depth;
        const ExprCollection *scope[EXPR_MAX_SCOPES];
        unsigned n_scopes;
        unsigned n_nodes;
        Node nodes[EXPR_MAX_NODES];
        Pos at[EXPR_MAX_NODES];         /* where each node starts, for type errors */
        uint8_t height[EXPR_MAX_NODES]; /* of each node's subtree */
        size_t n_pool;
        char pool[]; /* 2 x the source: each string or name costs at most 2 x its token */
} Parser;

static void error_set(ExprError *err, Pos at, const char *fmt, ...) _printf_(3, 4);
static void error_set(ExprError *err, Pos at, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return;
        err->line = at.line;
        err->col = at.col;
        err->code = -EINVAL;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
}

/* Records the first error and evaluates to -1, so `return fail(...)`. */
#define fail(p, at, ...) (error_set((p)->err, (at), __VA_ARGS__), -1)

/* Names and token texts in messages are cut so that the message fits. */
#define SHOW 48
#define SHOWN(n) ((int)MIN((n), (size_t)SHOW))

static Pos pos_of(const Parser *p, size_t off)
{
        return (Pos){p->line, (unsigned)(off - p->line_start + 1)};
}

static bool is_ident(char c, bool first)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (!first && c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool name_is(const char *s, size_t n, const char *name)
{
        return strlen(name) == n && memcmp(s, name, n) == 0;
}

/* Lexes a number literal into x 100 fixed point: digits, optionally '.' and
 * one or two digits. */
static int lex_number(Parser *p, Token *t)
{
        const char *s = p->src;
        size_t i = p->pos;
        int64_t v = 0;
        unsigned decimals = 0;
        bool range = true, frac = false;

        for (; is_digit(s[i]) || (s[i] == '.' && !frac); i++) {
                if (s[i] == '.') {
                        if (!is_digit(s[i + 1]))
                                return fail(p, pos_of(p, i), "expected a digit after '.'");
                        frac = true;
                        continue;
                }
                if (frac && ++decimals > 2)
                        return fail(p, t->at, "number has more than 2 decimals");
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
                        range = false;
        }
        for (; decimals < 2; decimals++)
                if (__builtin_mul_overflow(v, 10, &v))
                        range = false;
        if (!range)
                return fail(p, t->at, "number out of range (largest is 92233720368547758.07)");
        if (is_ident(s[i], false) || s[i] == '.')
                return fail(p, t->at, "invalid number '%.*s'", SHOWN(i + 1 - p->pos), s + p->pos);
        t->kind = T_NUM;
        t->num = v;
        p->pos = i;
        return 0;
}

/* A string literal: double quotes, escapes \" and \\ only, no control
 * characters; other bytes (UTF-8) as they are. Decoded by pool_string(). */
static int lex_string(Parser *p, Token *t)
{
        const char *s = p->src;
        size_t i = p->pos + 1;

        for (;;) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"')
                        break;
                if (c == '\0' || c == '\n' || (c == '\\' && s[i + 1] == '\0'))
                        return fail(p, t->at, "unterminated string");
                if (c == '\\') {
                        if (s[i + 1] != '"' && s[i + 1] != '\\')
                                return fail(p, pos_of(p, i),
                                            "unknown escape in string (only \\\" and \\\\)");
                        i += 2;
                        continue;
                }
                if (c < 0x20)
                        return fail(p, pos_of(p, i), "control character in string");
                i++;
        }
        t->kind = T_STR;
        p->pos = i + 1;
        return 0;
}

/* Reads the next token into p->tok. Returns 0, or -1 with the error set. */
static int lex(Parser *p)
{
        const char *s = p->src;
        Token *t = &p->tok;
        int r = 0;

        for (;; p->pos++) {
                if (s[p->pos] == '\n') {
                        p->line++;
                        p->line_start = p->pos + 1;
                } else if (s[p->pos] != ' ' && s[p->pos] != '\t' && s[p->pos] != '\r')
                        break;
        }
        *t = (Token){.kind = T_END, .at = pos_of(p, p->pos), .start = p->pos};
        char c = s[p->pos];
        if (c == '\0')
                return 0;
        if (is_digit(c))
                r = lex_number(p, t);
        else if (c == '"')
                r = lex_string(p, t);
        else if (is_ident(c, true)) {
                /* Dotted names are one token: "last_visit.date" is matched whole. */
                size_t i = p->pos;
                bool dotted = false;
                for (;;) {
                        while (is_ident(s[i], false))
                                i++;
                        if (s[i] != '.' || !is_ident(s[i + 1], true))
                                break;
                        dotted = true;
                        i++;
                }
                t->kind = T_NAME;
                for (size_t k = 0; !dotted && k < ELEMENTSOF(tokens); k++)
                        if (name_is(s + p->pos, i - p->pos, tokens[k].text)) {
                                t->kind = tokens[k].kind;
                                t->op = tokens[k].op;
                        }
                p->pos = i;
        } else {
                size_t k;
                for (k = 0; k < ELEMENTSOF(tokens); k++)
                        if (!is_ident(tokens[k].text[0], true) &&
                            strncmp(s + p->pos, tokens[k].text, strlen(tokens[k].text)) == 0)
                                break;
                if (k == ELEMENTSOF(tokens)) {
                        if (c == '=')
                                return fail(p, t->at, "unexpected '=', did you mean '=='?");
                        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
                                return fail(p, t->at, "unexpected byte 0x%02x", (unsigned char)c);
                        return fail(p, t->at, "unexpected character '%c'", c);
                }
                t->kind = tokens[k].kind;
                t->op = tokens[k].op;
                p->pos += strlen(tokens[k].text);
        }
        t->len = p->pos - t->start;
        return r;
}

static void tok_describe(const Parser *p, char *buf, size_t len)
{
        if (p->tok.kind == T_END)
                snprintf(buf, len, "end of expression");
        else
                snprintf(buf, len, "'%.*s'", SHOWN(p->tok.len), p->src + p->tok.start);
}

/* The operator of the current token if it binds at `level`, else OP_NONE. */
static unsigned tok_op(const Parser *p, int level)
{
        unsigned op = p->tok.kind == T_OP ? p->tok.op : OP_NONE;
        return op_info[op].prec == level ? op : OP_NONE;
}

static int expect(Parser *p, TokKind kind, const char *what)
{
        char d[SHOW + 8];

        if (p->tok.kind == kind)
                return lex(p);
        tok_describe(p, d, sizeof(d));
        return fail(p, p->tok.at, "expected %s, got %s", what, d);
}

/* --- parser ------------------------------------------------------------ */

static uint32_t pool_add(Parser *p, const char *s, size_t n)
{
        uint32_t off = (uint32_t)p->n_pool;
        memcpy(p->pool + off, s, n);
        p->pool[off + n] = '\0';
        p->n_pool += n + 1;
        return off;
}

/* Copies the decoded text of the string token t into the pool. */
static uint32_t pool_string(Parser *p, const Token *t)
{
        uint32_t off = (uint32_t)p->n_pool;
        char *d = p->pool + off;

        for (size_t i = t->start + 1; i < t->start + t->len - 1; i++) {
                if (p->src[i] == '\\')
                        i++;
                *d++ = p->src[i];
        }
        *d++ = '\0';
        p->n_pool = (size_t)(d - p->pool);
        return off;
}

/* Appends node n, which starts at `at`. Returns its index, or -1 when the
 * tree would get too large or too deep. */
static int node_add(Parser *p, Pos at, Node n)
{
        unsigned h = 0;

        for (unsigned k = 0; k < n.n_kids; k++)
                h = MAX(h, p->height[n.kid[k]]);
        if (h + 1 > EXPR_MAX_DEPTH)
                return fail(p, at, "expression nested too deeply (more than %d levels)",
                            EXPR_MAX_DEPTH);
        if (p->n_nodes >= EXPR_MAX_NODES)
                return fail(p, at, "expression too large (more than %d nodes)", EXPR_MAX_NODES);
        p->nodes[p->n_nodes] = n;
        p->at[p->n_nodes] = at;
        p->height[p->n_nodes] = (uint8_t)(h + 1);
        return (int)p->n_nodes++;
}

static const char *type_of(const Parser *p, int k)
{
        return expr_type_to_string(p->nodes[k].type);
}

static int parse_expr(Parser *p);

/* Type-checks a binary operator on l and r and adds its node. */
static int binary(Parser *p, Op op, Pos op_at, int l, int r)
{
        ExprType a = p->nodes[l].type, b = p->nodes[r].type;
        const char *text = op_info[op].text;
        ExprType type = EXPR_BOOL;

        switch (op) {
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
                if (a != EXPR_NUMBER && b != EXPR_NUMBER)
                        return fail(p, op_at, "'%s' needs numbers, got %s and %s", text,
                                    type_of(p, l), type_of(p, r));
                if (a != EXPR_NUMBER || b != EXPR_NUMBER)
                        return fail(p, op_at, "'%s' needs numbers, got %s", text,
                                    type_of(p, a != EXPR_NUMBER ? l : r));
                type = EXPR_NUMBER;
                break;
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
                if (a != b || (a != EXPR_NUMBER && a != EXPR_DATE))
                        return fail(p, op_at, "'%s' needs two numbers or two dates, got %s and %s",
                                    text, type_of(p, l), type_of(p, r));
                break;
        case OP_EQ:
        case OP_NE:
                if (a != b)
                        return fail(p, op_at, "'%s' needs two values of one type, got %s and %s",
                                    text, type_of(p, l), type_of(p, r));
                break;
        case OP_AND:
        case OP_OR:
                if (a != EXPR_BOOL || b != EXPR_BOOL)
                        return fail(p, op_at, "'%s' needs bools, got %s", text,
                                    type_of(p, a != EXPR_BOOL ? l : r));
                break;
        default:
                return fail(p, op_at, "internal error: bad operator");
        }
        return node_add(
            p, p->at[l],
            (Node){.op = op, .type = type, .n_kids = 2, .kid = {(uint16_t)l, (uint16_t)r}});
}

/* `x in ["a", "b"]`: the strings go to the pool one after the other. */
static int parse_in(Parser *p, Pos op_at, int l)
{
        Node n = {.op = OP_IN, .type = EXPR_BOOL, .n_kids = 1, .kid = {(uint16_t)l}};

        if (p->nodes[l].type != EXPR_STRING)
                return fail(p, op_at, "'in' needs a string on the left, got %s", type_of(p, l));
        if (expect(p, T_LBRACK, "'['") < 0)
                return -1;
        n.str = (uint32_t)p->n_pool;
        do {
                if (p->tok.kind != T_STR)
                        return expect(p, T_STR, "a string");
                pool_string(p, &p->tok);
                n.n_str++;
                if (lex(p) < 0)
                        return -1;
        } while (p->tok.kind == T_COMMA && lex(p) == 0);
        if (expect(p, T_RBRACK, "',' or ']'") < 0)
                return -1;
        return node_add(p, p->at[l], n);
}

/* The function call after `name(`: date("..."), count/any/all/sum over a
 * collection, or a plain function whose arguments are type-checked. */
static int parse_call(Parser *p, const Token *name)
{
        const char *s = p->src + name->start;
        size_t f;

        for (f = 0; f < ELEMENTSOF(funcs); f++)
                if (name_is(s, name->len, funcs[f].name))
                        break;
        if (f == ELEMENTSOF(funcs))
                return fail(p, name->at, "unknown function '%.*s'", SHOWN(name->len), s);
        const char *fn = funcs[f].name;
        Node n = {.op = funcs[f].op, .type = (uint8_t)funcs[f].ret};
        if (lex(p) < 0)
                return -1;

        if (n.op == OP_DATE) {
                /* A literal: checked now, so a rule cannot fail on it at runtime. */
                Token t = p->tok;
                int32_t days;
                if (t.kind != T_STR)
                        return expect(p, T_STR, "a date like \"2022-01-01\"");
                if (date_literal(p->src + t.start + 1, t.len - 2, &days) < 0)
                        return fail(p, t.at, "invalid date %.*s (expected \"YYYY-MM-DD\")",
                                    SHOWN(t.len), p->src + t.start);
                n.num = days;
                if (lex(p) < 0 || expect(p, T_RPAREN, "')'") < 0)
                        return -1;
                return node_add(p, name->at, n);
        }

        if (funcs[f].arg == ARG_COLL) {
                Token t = p->tok;
                const ExprCollection *c = NULL;
                for (size_t i = 0; t.kind == T_NAME && p->sym && i < p->sym->n_colls; i++)
                        if (name_is(p->src + t.start, t.len, p->sym->colls[i].name))
                                c = &p->sym->colls[i];
                if (!c) {
                        char d[SHOW + 8];
                        tok_describe(p, d, sizeof(d));
                        return fail(p, t.at, "'%s' needs a collection first, got %s", fn, d);
                }
                for (unsigned i = 0; i < p->n_scopes; i++)
                        if (p->scope[i] == c)
                                return fail(p, name->at, "nested '%s' over '%s' is not allowed", fn,
                                            c->name);
                if (p->n_scopes == EXPR_MAX_SCOPES)
                        return fail(p, name->at, "more than %d nested collection functions",
                                    EXPR_MAX_SCOPES);
                if (lex(p) < 0 || expect(p, T_COMMA, "','") < 0)
                        return -1;
                Pos at = p->tok.at;
                n.scope = (uint8_t)p->n_scopes;
                p->scope[p->n_scopes++] = c;
                int k = parse_expr(p);
                p->n_scopes--;
                if (k < 0)
                        return -1;
                ExprType want = n.op == OP_SUM ? EXPR_NUMBER : EXPR_BOOL;
                if (p->nodes[k].type != want)
                        return fail(p, at, "'%s' needs a %s for each %s, got %s", fn,
                                    expr_type_to_string(want), c->elem, type_of(p, k));
                if (expect(p, T_RPAREN, "')'") < 0)
                        return -1;
                n.n_kids = 1;
                n.kid[0] = (uint16_t)k;
                n.slot = c->slot;
                n.str = pool_add(p, c->name, strlen(c->name));
                return node_add(p, name->at, n);
        }

        while (p->tok.kind != T_RPAREN) {
                Pos at = p->tok.at;
                if (n.n_kids == funcs[f].max)
                        return fail(p, at, "'%s' takes at most %u argument%s", fn, funcs[f].max,
                                    funcs[f].max == 1 ? "" : "s");
                int k = parse_expr(p);
                if (k < 0)
                        return -1;
                ExprType t = p->nodes[k].type, first = p->nodes[n.kid[0]].type;
                if (funcs[f].arg == ARG_SAME && n.n_kids > 0 && t != first)
                        return fail(p, at, "'%s' needs arguments of one type, got %s and %s", fn,
                                    expr_type_to_string(first), expr_type_to_string(t));
                if (funcs[f].arg >= 0 && t != (ExprType)funcs[f].arg)
                        return fail(p, at, "'%s' needs a %s, got %s", fn,
                                    expr_type_to_string((ExprType)funcs[f].arg),
                                    expr_type_to_string(t));
                n.kid[n.n_kids++] = (uint16_t)k;
                if (p->tok.kind != T_COMMA)
                        break;
                if (lex(p) < 0)
                        return -1;
        }
        if (expect(p, T_RPAREN, n.n_kids > 0 ? "',' or ')'" : "')'") < 0)
                return -1;
        if (n.n_kids < funcs[f].min)
                return fail(p, name->at, "'%s' needs %u argument%s", fn, funcs[f].min,
                            funcs[f].min == 1 ? "" : "s");
        if (funcs[f].ret == ARG_SAME)
                n.type = p->nodes[n.kid[0]].type;
        return node_add(p, name->at, n);
}

/* A name that is not a call: today, a field of an enclosing collection's
 * row (innermost first), or a variable; otherwise a helpful error. */
static int parse_name(Parser *p, const Token *t)
{
        const ExprSymbols *sym = p->sym;
        const char *s = p->src + t->start;
        size_t n = t->len;

        if (name_is(s, n, "today"))
                return node_add(p, t->at, (Node){.op = OP_TODAY, .type = EXPR_DATE});
        for (unsigned i = p->n_scopes; i-- > 0;) {
                const ExprCollection *c = p->scope[i];
                size_t el = strlen(c->elem);
                if (n <= el + 1 || memcmp(s, c->elem, el) != 0 || s[el] != '.')
                        continue;
                for (size_t k = 0; k < c->n_fields; k++)
                        if (name_is(s + el + 1, n - el - 1, c->fields[k].name))
                                return node_add(p, t->at,
                                                (Node){.op = OP_FIELD,
                                                       .type = (uint8_t)c->fields[k].type,
                                                       .scope = (uint8_t)i,
                                                       .slot = c->fields[k].slot,
                                                       .str = pool_add(p, s, n)});
                return fail(p, t->at, "unknown field '%.*s' of %s", SHOWN(n - el - 1), s + el + 1,
                            c->elem);
        }
        for (size_t k = 0; sym && k < sym->n_vars; k++)
                if (name_is(s, n, sym->vars[k].name))
                        return node_add(p, t->at,
                                        (Node){.op = OP_VAR,
                                               .type = (uint8_t)sym->vars[k].type,
                                               .slot = sym->vars[k].slot,
                                               .str = pool_add(p, s, n)});
        for (size_t k = 0; sym && k < sym->n_colls; k++) {
                const ExprCollection *c = &sym->colls[k];
                size_t el = strlen(c->elem);
                if (name_is(s, n, c->name))
                        return fail(p, t->at,
                                    "'%s' is a collection: use it in count, any, all or sum",
                                    c->name);
                if (name_is(s, n, c->elem))
                        return fail(p, t->at, "'%s' is a row of '%s': name a field, like %s.x",
                                    c->elem, c->name, c->elem);
                if (n > el && memcmp(s, c->elem, el) == 0 && s[el] == '.')
                        return fail(p, t->at,
                                    "'%.*s' exists only inside count, any, all or sum over '%s'",
                                    SHOWN(n), s, c->name);
        }
        return fail(p, t->at, "unknown variable '%.*s'", SHOWN(n), s);
}

static int parse_primary(Parser *p)
{
        Token t = p->tok;
        char d[SHOW + 8];
        int k;

        switch (t.kind) {
        case T_NUM:
                k = node_add(p, t.at, (Node){.op = OP_NUM, .type = EXPR_NUMBER, .num = t.num});
                break;
        case T_STR:
                k = node_add(p, t.at,
                             (Node){.op = OP_STR, .type = EXPR_STRING, .str = pool_string(p, &t)});
                break;
        case T_TRUE:
        case T_FALSE:
                k = node_add(p, t.at,
                             (Node){.op = OP_BOOL, .type = EXPR_BOOL, .num = t.kind == T_TRUE});
                break;
        case T_LPAREN:
                if (lex(p) < 0 || (k = parse_expr(p)) < 0 || expect(p, T_RPAREN, "')'") < 0)
                        return -1;
                return k;
        case T_NAME:
                if (lex(p) < 0)
                        return -1;
                return p->tok.kind == T_LPAREN ? parse_call(p, &t) : parse_name(p, &t);
        default:
                tok_describe(p, d, sizeof(d));
                return fail(p, t.at, "expected a value, got %s", d);
        }
        if (k < 0 || lex(p) < 0)
                return -1;
        return k;
}

/* Counts nesting so that hostile input cannot exhaust the stack. Why + 1:
 * a negative literal costs two levels ('-' and the digits) but is one node,
 * and the printed form of any tree that fits must parse back. */
static int depth_enter(Parser *p)
{
        if (++p->depth > EXPR_MAX_DEPTH + 1)
                return fail(p, p->tok.at, "expression nested too deeply (more than %d levels)",
                            EXPR_MAX_DEPTH);
        return 0;
}

static int parse_unary(Parser *p)
{
        int k;

        if (depth_enter(p) < 0)
                return -1;
        if (p->tok.kind != T_OP || p->tok.op != OP_SUB) {
                k = parse_primary(p);
        } else {
                Pos at = p->tok.at;
                if (lex(p) < 0 || (k = parse_unary(p)) < 0)
                        return -1;
                if (p->nodes[k].type != EXPR_NUMBER)
                        return fail(p, at, "'-' needs a number, got %s", type_of(p, k));
                if (p->nodes[k].op == OP_NUM) {
                        /* Fold: "-5" is the literal -5, so that printing a negative
                         * literal and parsing it back gives the same tree. The
                         * magnitude of a literal is at most INT64_MAX. */
                        p->nodes[k].num = -p->nodes[k].num;
                        p->at[k] = at;
                } else
                        k = node_add(p, at,
                                     (Node){.op = OP_NEG,
                                            .type = EXPR_NUMBER,
                                            .n_kids = 1,
                                            .kid = {(uint16_t)k}});
        }
        p->depth--;
        return k;
}

/* Left-associative binary levels: or, and, + -, * /. */
static int parse_level(Parser *p, int level);

/* comparison = sum [ relop sum | "in" list ]; comparisons do not chain. */
static int parse_cmp(Parser *p)
{
        int l = parse_level(p, P_SUM), r;

        if (l < 0)
                return -1;
        unsigned op = tok_op(p, P_CMP);
        if (op == OP_NONE)
                return l;
        Pos at = p->tok.at;
        if (lex(p) < 0)
                return -1;
        if (op == OP_IN)
                l = parse_in(p, at, l);
        else if ((r = parse_level(p, P_SUM)) < 0)
                return -1;
        else
                l = binary(p, op, at, l, r);
        if (l >= 0 && tok_op(p, P_CMP) != OP_NONE)
                return fail(p, p->tok.at, "comparisons do not chain: use 'and' or parentheses");
        return l;
}

static int parse_not(Parser *p)
{
        int k;

        if (tok_op(p, P_NOT) != OP_NOT)
                return parse_cmp(p);
        Pos at = p->tok.at;
        if (depth_enter(p) < 0 || lex(p) < 0 || (k = parse_not(p)) < 0)
                return -1;
        p->depth--;
        if (p->nodes[k].type != EXPR_BOOL)
                return fail(p, at, "'not' needs a bool, got %s", type_of(p, k));
        return node_add(p, at,
                        (Node){.op = OP_NOT, .type = EXPR_BOOL, .n_kids = 1, .kid = {(uint16_t)k}});
}

static int parse_level(Parser *p, int level)
{
        if (level == P_NOT)
                return parse_not(p);
        if (level == P_UNARY)
                return parse_unary(p);
        int l = parse_level(p, level + 1);
        while (l >= 0) {
                unsigned op = tok_op(p, level);
                if (op == OP_NONE)
                        break;
                Pos at = p->tok.at;
                int r;
                if (lex(p) < 0 || (r = parse_level(p, level + 1)) < 0)
                        return -1;
                l = binary(p, op, at, l, r);
        }
        return l;
}

static int parse_expr(Parser *p)
{
        return parse_level(p, P_OR);
}

/* Parses the whole source. Returns the root, or -1 with the error set. */
static int parse_all(Parser *p, ExprType want)
{
        char d[SHOW + 8];
        int root;

        if (lex(p) < 0)
                return -1;
        if (p->tok.kind == T_END)
                return fail(p, p->tok.at, "empty expression");
        if ((root = parse_expr(p)) < 0)
                return -1;
        if (p->tok.kind != T_END) {
                tok_describe(p, d, sizeof(d));
                return fail(p, p->tok.at, "expected an operator or the end, got %s", d);
        }
        if (p->nodes[root].type != want)
                return fail(p, p->at[root], "expression is a %s, expected a %s", type_of(p, root),
                            expr_type_to_string(want));
        return root;
}

Expr *expr_compile(const char *src, const ExprSymbols *sym, ExprType want, ExprError *err)
{
        size_t len = src ? strnlen(src, EXPR_MAX_SOURCE + 1) : 0;
        Pos start = {1, 1};

        if (err)
                *err = (ExprError){0};
        if (!src) {
                error_set(err, start, "no expression");
                return NULL;
        }
        if (len > EXPR_MAX_SOURCE) {
                error_set(err, start, "expression too long (more than %d bytes)", EXPR_MAX_SOURCE);
                return NULL;
        }
        /* The parser's arrays are for the worst case; the Expr gets the exact size. */
        _cleanup_free_ Parser *p = calloc(1, sizeof(Parser) + 2 * len + 1);
        if (!p) {
                error_set(err, start, "out of memory");
                if (err)
                        err->code = -ENOMEM;
                return NULL;
        }
        p->src = src;
        p->sym = sym;
        p->err = err;
        p->line = 1;
        int root = parse_all(p, want);
        if (root < 0)
                return NULL;

        size_t nodes_size = p->n_nodes * sizeof(Node);
        Expr *e = malloc(sizeof(Expr) + nodes_size + p->n_pool);
        if (!e) {
                error_set(err, start, "out of memory");
                if (err)
                        err->code = -ENOMEM;
                return NULL;
        }
        e->type = want;
        e->n_nodes = p->n_nodes;
        e->root = (unsigned)root;
        memcpy(e->nodes, p->nodes, nodes_size);
        e->pool = (const char *)e->nodes + nodes_size;
        memcpy((char *)e->nodes + nodes_size, p->pool, p->n_pool);
        /* expr_print() promises text that compiles again, but printing adds
         * spaces around operators and after commas: a compact source close to
         * EXPR_MAX_SOURCE printed longer than that and its text was refused
         * (found by tests/fuzz/fuzz_expr.c). Refuse it here instead, so that
         * whatever compiles prints within the limit. */
        if (expr_print(e, NULL, 0) > EXPR_MAX_SOURCE) {
                error_set(err, start, "expression too long (more than %d bytes when printed)",
                          EXPR_MAX_SOURCE);
                return expr_free(e);
        }
        return e;
}

Expr *expr_free(Expr *e)
{
        free(e);
        return NULL;
}

ExprType expr_type(const Expr *e)
{
        return e->type;
}
