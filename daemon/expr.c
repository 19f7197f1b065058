/* The rule expression language: a recursive-descent parser that type-checks
 * while it builds a flat array of nodes (children before parents), an
 * evaluator that walks that array without allocating, and a printer whose
 * output parses back to the same tree. */
#include "expr.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* clang-format off */
typedef enum {
        OP_NONE,
        OP_NUM, OP_BOOL, OP_STR, OP_DATE, OP_TODAY, OP_VAR, OP_FIELD,  /* leaves */
        OP_NEG, OP_NOT,
        OP_ADD, OP_SUB, OP_MUL, OP_DIV,
        OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
        OP_AND, OP_OR, OP_IN,
        OP_MIN, OP_MAX, OP_ABS, OP_COALESCE, OP_PRESENT, OP_PER_CAPITA, OP_FLOOR_LINE,
        OP_YEAR, OP_DAYS_SINCE,
        OP_COUNT, OP_ANY, OP_ALL, OP_SUM,                               /* collections */
        _OP_MAX,
} Op;
/* clang-format on */

/* Precedence levels, loosest first; also the parser's levels. */
enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_SUM, P_PRODUCT, P_UNARY, P_ATOM };

/* Outcomes of a comparison, as bits, so that each comparison operator is
 * the set of outcomes that make it true. */
enum { LESS = 1, SAME = 2, MORE = 4 };

static const struct {
        const char *text;
        uint8_t prec;
        uint8_t holds; /* comparisons: the outcomes for which it is true */
} op_info[_OP_MAX] = {
    [OP_NEG] = {"-", P_UNARY, 0},   [OP_NOT] = {"not", P_NOT, 0},
    [OP_ADD] = {"+", P_SUM, 0},     [OP_SUB] = {"-", P_SUM, 0},
    [OP_MUL] = {"*", P_PRODUCT, 0}, [OP_DIV] = {"/", P_PRODUCT, 0},
    [OP_LT] = {"<", P_CMP, LESS},   [OP_LE] = {"<=", P_CMP, LESS | SAME},
    [OP_GT] = {">", P_CMP, MORE},   [OP_GE] = {">=", P_CMP, MORE | SAME},
    [OP_EQ] = {"==", P_CMP, SAME},  [OP_NE] = {"!=", P_CMP, LESS | MORE},
    [OP_AND] = {"and", P_AND, 0},   [OP_OR] = {"or", P_OR, 0},
    [OP_IN] = {"in", P_CMP, 0},
};

/* Argument rules of a function: an ExprType, or one of these. */
enum { ARG_ANY = -1, ARG_SAME = -2, ARG_COLL = -3 };

static const struct {
        const char *name;
        uint8_t op, min, max;
        int8_t arg; /* type of each argument (ARG_COLL: collection, then the predicate) */
        int8_t ret; /* result type, or ARG_SAME: the arguments' type */
} funcs[] = {
    {"min", OP_MIN, 1, EXPR_MAX_ARGS, EXPR_NUMBER, EXPR_NUMBER},
    {"max", OP_MAX, 1, EXPR_MAX_ARGS, EXPR_NUMBER, EXPR_NUMBER},
    {"abs", OP_ABS, 1, 1, EXPR_NUMBER, EXPR_NUMBER},
    {"coalesce", OP_COALESCE, 1, EXPR_MAX_ARGS, ARG_SAME, ARG_SAME},
    {"present", OP_PRESENT, 1, 1, ARG_ANY, EXPR_BOOL},
    {"per_capita", OP_PER_CAPITA, 1, 1, EXPR_NUMBER, EXPR_NUMBER},
    {"floor_line", OP_FLOOR_LINE, 1, 1, EXPR_NUMBER, EXPR_NUMBER},
    {"year", OP_YEAR, 1, 1, EXPR_DATE, EXPR_NUMBER},
    {"days_since", OP_DAYS_SINCE, 1, 1, EXPR_DATE, EXPR_NUMBER},
    {"date", OP_DATE, 1, 1, EXPR_STRING, EXPR_DATE},
    {"count", OP_COUNT, 2, 2, ARG_COLL, EXPR_NUMBER},
    {"any", OP_ANY, 2, 2, ARG_COLL, EXPR_BOOL},
    {"all", OP_ALL, 2, 2, ARG_COLL, EXPR_BOOL},
    {"sum", OP_SUM, 2, 2, ARG_COLL, EXPR_NUMBER},
};

/* One node. Unused fields stay zero, so that expr_equal() may compare them. */
typedef struct {
        uint8_t op;
        uint8_t type; /* ExprType of its value */
        uint8_t n_kids;
        uint8_t scope; /* OP_FIELD: the row it reads; collection ops: the row they bind */
        uint16_t kid[EXPR_MAX_ARGS];
        uint32_t slot;  /* OP_VAR, OP_FIELD, collection ops */
        uint32_t str;   /* pool offset: OP_STR text, a name, the first OP_IN string */
        uint32_t n_str; /* OP_IN: number of strings */
        int64_t num;    /* OP_NUM (x 100), OP_DATE (days), OP_BOOL */
} Node;

struct Expr {
        ExprType type;
        unsigned n_nodes, root;
        const char *pool; /* NUL-terminated strings, after nodes[] */
        Node nodes[];
};

static bool op_is_coll(unsigned op)
{
        return op >= OP_COUNT && op <= OP_SUM;
}

const char *expr_type_to_string(ExprType t)
{
        static const char *const names[] = {
            [EXPR_NUMBER] = "number",
            [EXPR_BOOL] = "bool",
            [EXPR_STRING] = "string",
            [EXPR_DATE] = "date",
        };
        return (unsigned)t < ELEMENTSOF(names) ? names[t] : "invalid";
}

const char *expr_strerror(int r)
{
        switch (r) {
        case EXPR_ERR_OVERFLOW:
                return "arithmetic overflow";
        case EXPR_ERR_DIV_ZERO:
                return "division by zero";
        case EXPR_ERR_NO_LINE:
                return "no floor line for that year";
        case EXPR_ERR_ENV:
                return "household data does not match the rule's variables";
        default:
                return "unknown error";
        }
}

/* --- dates ------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm: exact for every year, no tables). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Parses exactly "YYYY-MM-DD", years 1..9999. Returns 0 and the day
 * number, or -EINVAL. */
static int date_parse(const char *s, size_t n, int32_t *ret)
{
        unsigned v[3] = {0, 0, 0}, m, d;
        int64_t y;

        if (n != 10 || s[4] != '-' || s[7] != '-')
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (i == 4 || i == 7)
                        continue;
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                unsigned f = i < 4 ? 0 : i < 7 ? 1 : 2;
                v[f] = v[f] * 10 + (unsigned)(s[i] - '0');
        }
        if (v[0] < 1 || v[1] < 1 || v[1] > 12 || v[2] < 1)
                return -EINVAL;
        /* A day past the month's end (2023-02-29) comes back as another date. */
        int64_t days = days_from_civil(v[0], v[1], v[2]);
        civil_from_days(days, &y, &m, &d);
        if (y != v[0] || m != v[1] || d != v[2])
                return -EINVAL;
        *ret = (int32_t)days;
        return 0;
}

static void date_format(int32_t days, char buf[static 24])
{
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        snprintf(buf, 24, "%04" PRId64 "-%02u-%02u", y, m, d);
}

/* Formats a x100 fixed-point number with the fewest decimals: 45000,
 * 45000.5, -0.25. */
static void num_format(int64_t v, char buf[static 32])
{
        /* Via unsigned so that INT64_MIN has a magnitude too. */
        uint64_t m = v < 0 ? -(uint64_t)v : (uint64_t)v;
        int k = snprintf(buf, 32, "%s%" PRIu64, v < 0 ? "-" : "", m / 100);
        unsigned f = (unsigned)(m % 100);
        if (f % 10)
                snprintf(buf + k, 32 - (size_t)k, ".%02u", f);
        else if (f)
                snprintf(buf + k, 32 - (size_t)k, ".%u", f / 10);
}

/* --- lexer ------------------------------------------------------------- */

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
                if (date_parse(p->src + t.start + 1, t.len - 2, &days) < 0)
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

/* --- evaluation -------------------------------------------------------- */

typedef struct {
        const Expr *e;
        const ExprEnv *env;
        const ExprValue *row[EXPR_MAX_SCOPES]; /* the current row of each collection */
        size_t stride[EXPR_MAX_SCOPES];
} Eval;

/* Wide enough for any product or scaled quotient of two int64 numbers. */
__extension__ typedef __int128 Wide;

static int narrow(Wide w, int64_t *r)
{
        if (w > INT64_MAX || w < INT64_MIN)
                return EXPR_ERR_OVERFLOW;
        *r = (int64_t)w;
        return 0;
}

/* a op b in x 100 fixed point; C's division truncates toward zero. */
static int arith(unsigned op, int64_t a, int64_t b, int64_t *r)
{
        switch (op) {
        case OP_ADD:
                return __builtin_add_overflow(a, b, r) ? EXPR_ERR_OVERFLOW : 0;
        case OP_SUB:
                return __builtin_sub_overflow(a, b, r) ? EXPR_ERR_OVERFLOW : 0;
        case OP_MUL:
                /* |a|, |b| < 2^63, so the product fits in 126 bits. */
                return narrow((Wide)a * b / 100, r);
        case OP_DIV:
                if (b == 0)
                        return EXPR_ERR_DIV_ZERO;
                return narrow((Wide)a * 100 / b, r);
        default:
                return EXPR_ERR_ENV;
        }
}

/* LESS, SAME or MORE, for two present values of one type. */
static unsigned compare(const ExprValue *a, const ExprValue *b)
{
        int c = 0;

        switch (a->type) {
        case EXPR_NUMBER:
                c = (a->num > b->num) - (a->num < b->num);
                break;
        case EXPR_DATE:
                c = (a->date > b->date) - (a->date < b->date);
                break;
        case EXPR_BOOL:
                c = (int)a->b - (int)b->b;
                break;
        case EXPR_STRING:
                c = strcmp(a->s, b->s);
                break;
        }
        return c < 0 ? LESS : c > 0 ? MORE : SAME;
}

/* Checks a value read from the env against the declared type: a wrong
 * union member would be misread (a number read as a pointer crashes). */
static int env_value(const ExprValue *src, uint8_t type, ExprValue *v)
{
        if (src->absent)
                return 0;
        if (src->type != type || (type == EXPR_STRING && !src->s))
                return EXPR_ERR_ENV;
        *v = *src;
        return 0;
}

static int eval(Eval *x, unsigned i, ExprValue *v);

static bool is_true(const ExprValue *v)
{
        return !v->absent && v->b;
}

/* count, any, all and sum: binds each row in turn for the predicate. */
static int eval_coll(Eval *x, const Node *n, ExprValue *v)
{
        const ExprRows *rows = x->env->colls ? &x->env->colls[n->slot] : NULL;
        bool absent = false;
        int64_t acc = 0;
        ExprValue k;
        int r;

        if (!rows || (rows->n_rows > 0 && !rows->rows))
                return EXPR_ERR_ENV;
        x->stride[n->scope] = rows->stride;
        for (size_t i = 0; i < rows->n_rows; i++) {
                x->row[n->scope] = rows->rows + i * rows->stride;
                if ((r = eval(x, n->kid[0], &k)) < 0)
                        return r;
                if (n->op == OP_SUM && k.absent)
                        return 0;
                if (n->op == OP_SUM && (r = arith(OP_ADD, acc, k.num, &acc)) < 0)
                        return r;
                if (n->op == OP_COUNT && is_true(&k) && (r = arith(OP_ADD, acc, 100, &acc)) < 0)
                        return r;
                if ((n->op == OP_ANY && is_true(&k)) || (n->op == OP_ALL && !k.absent && !k.b)) {
                        v->b = n->op == OP_ANY;
                        v->absent = false;
                        return 0;
                }
                absent = absent || k.absent;
        }
        if (n->op == OP_ANY || n->op == OP_ALL) {
                v->b = n->op == OP_ALL;
                v->absent = absent;
        } else {
                v->num = acc;
                v->absent = false;
        }
        return 0;
}

/* floor_line(y): the line of the greatest year <= y. Scans all entries so
 * that an unsorted table still gives the right line. */
static int floor_line(const ExprEnv *env, int64_t y, int64_t *ret)
{
        const ExprFloorLine *best = NULL;

        if (env->n_floor_lines > 0 && !env->floor_lines)
                return EXPR_ERR_ENV;
        for (size_t i = 0; i < env->n_floor_lines; i++) {
                const ExprFloorLine *l = &env->floor_lines[i];
                if (l->year <= y && (!best || l->year > best->year))
                        best = l;
        }
        if (!best)
                return EXPR_ERR_NO_LINE;
        *ret = best->fen;
        return 0;
}

/* Functions of one present argument a (already evaluated). */
static int eval_func1(Eval *x, unsigned op, const ExprValue *a, ExprValue *v)
{
        int64_t y;
        unsigned m, d;

        switch (op) {
        case OP_ABS:
                return arith(OP_SUB, 0, a->num < 0 ? a->num : -a->num, &v->num);
        case OP_PER_CAPITA:
                if (x->env->household_size == 0)
                        return EXPR_ERR_DIV_ZERO;
                return narrow((Wide)a->num / x->env->household_size, &v->num);
        case OP_FLOOR_LINE:
                /* A fractional year counts as its whole year. */
                return floor_line(x->env, a->num / 100, &v->num);
        case OP_YEAR:
                civil_from_days(a->date, &y, &m, &d);
                v->num = y * 100;
                return 0;
        case OP_DAYS_SINCE:
                v->num = ((int64_t)x->env->today - a->date) * 100;
                return 0;
        default:
                return EXPR_ERR_ENV;
        }
}

/* Evaluates node i into *v (typed, absent unless set). Returns 0 or a
 * runtime error. Recursion is bounded by EXPR_MAX_DEPTH. */
static int eval(Eval *x, unsigned i, ExprValue *v)
{
        const Node *n = &x->e->nodes[i];
        ExprValue a, b;
        int r;

        *v = (ExprValue){.type = n->type, .absent = true};
        switch (n->op) {
        case OP_NUM:
                v->num = n->num;
                break;
        case OP_BOOL:
                v->b = n->num != 0;
                break;
        case OP_STR:
                v->s = x->e->pool + n->str;
                break;
        case OP_DATE:
                v->date = (int32_t)n->num;
                break;
        case OP_TODAY:
                v->date = x->env->today;
                break;
        case OP_VAR:
                if (!x->env->vars)
                        return EXPR_ERR_ENV;
                return env_value(&x->env->vars[n->slot], n->type, v);
        case OP_FIELD:
                if (!x->row[n->scope] || n->slot >= x->stride[n->scope])
                        return EXPR_ERR_ENV;
                return env_value(&x->row[n->scope][n->slot], n->type, v);
        case OP_NEG:
        case OP_ABS:
        case OP_PER_CAPITA:
        case OP_FLOOR_LINE:
        case OP_YEAR:
        case OP_DAYS_SINCE:
                if ((r = eval(x, n->kid[0], &a)) < 0 || a.absent)
                        return r;
                r = n->op == OP_NEG ? arith(OP_SUB, 0, a.num, &v->num)
                                    : eval_func1(x, n->op, &a, v);
                if (r < 0)
                        return r;
                break;
        case OP_NOT:
                if ((r = eval(x, n->kid[0], &a)) < 0 || a.absent)
                        return r;
                v->b = !a.b;
                break;
        case OP_AND:
        case OP_OR:
                /* Three-valued: the left side decides alone when it is false
                 * (and) or true (or); then the right side may still decide. */
                if ((r = eval(x, n->kid[0], &a)) < 0)
                        return r;
                if (!a.absent && a.b == (n->op == OP_OR)) {
                        *v = a;
                        return 0;
                }
                if ((r = eval(x, n->kid[1], &b)) < 0)
                        return r;
                if (!b.absent && (b.b == (n->op == OP_OR) || !a.absent))
                        *v = b;
                return 0;
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
        case OP_EQ:
        case OP_NE:
                if ((r = eval(x, n->kid[0], &a)) < 0 || (r = eval(x, n->kid[1], &b)) < 0)
                        return r;
                if (a.absent || b.absent)
                        return 0;
                if (n->type == EXPR_NUMBER) {
                        if ((r = arith(n->op, a.num, b.num, &v->num)) < 0)
                                return r;
                        break;
                }
                v->b = (op_info[n->op].holds & compare(&a, &b)) != 0;
                break;
        case OP_IN: {
                if ((r = eval(x, n->kid[0], &a)) < 0 || a.absent)
                        return r;
                const char *s = x->e->pool + n->str;
                v->b = false;
                for (uint32_t k = 0; k < n->n_str && !v->b; k++, s += strlen(s) + 1)
                        v->b = streq(a.s, s);
                break;
        }
        case OP_COALESCE:
                for (unsigned k = 0; k < n->n_kids; k++) {
                        if ((r = eval(x, n->kid[k], &a)) < 0)
                                return r;
                        if (!a.absent) {
                                *v = a;
                                return 0;
                        }
                }
                return 0;
        case OP_MIN:
        case OP_MAX:
                for (unsigned k = 0; k < n->n_kids; k++) {
                        if ((r = eval(x, n->kid[k], &a)) < 0 || a.absent)
                                return r;
                        if (k == 0)
                                v->num = a.num;
                        else
                                v->num = n->op == OP_MIN ? MIN(v->num, a.num) : MAX(v->num, a.num);
                }
                break;
        case OP_PRESENT:
                if ((r = eval(x, n->kid[0], &a)) < 0)
                        return r;
                v->b = !a.absent;
                break;
        case OP_COUNT:
        case OP_ANY:
        case OP_ALL:
        case OP_SUM:
                return eval_coll(x, n, v);
        default:
                return EXPR_ERR_ENV;
        }
        v->absent = false;
        return 0;
}

int expr_eval(const Expr *e, const ExprEnv *env, ExprValue *out)
{
        Eval x = {.e = e, .env = env};
        int r;

        if (!out)
                return -EINVAL;
        if (!e || !env) {
                *out = (ExprValue){.absent = true};
                return -EINVAL;
        }
        r = eval(&x, e->root, out);
        if (r < 0)
                *out = (ExprValue){.type = e->type, .absent = true};
        return r;
}

bool expr_value_true(const ExprValue *v)
{
        return v && v->type == EXPR_BOOL && is_true(v);
}

/* --- printing ---------------------------------------------------------- */

/* An snprintf-like sink: counts every byte, stores what fits. */
typedef struct {
        char *buf;
        size_t len, n;
} Out;

static void put(Out *o, const char *s, size_t n)
{
        if (o->len > 0 && o->n < o->len - 1)
                memcpy(o->buf + o->n, s, MIN(n, o->len - 1 - o->n));
        o->n += n;
}

static void puts_(Out *o, const char *s)
{
        put(o, s, strlen(s));
}

static size_t out_end(Out *o)
{
        if (o->len > 0)
                o->buf[MIN(o->n, o->len - 1)] = '\0';
        return o->n;
}

static void put_string(Out *o, const char *s)
{
        put(o, "\"", 1);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        put(o, "\\", 1);
                put(o, s, 1);
        }
        put(o, "\"", 1);
}

static int prec(const Node *n)
{
        return op_info[n->op].prec ? op_info[n->op].prec : P_ATOM;
}

static void print_node(const Expr *e, unsigned i, Out *o);

static void print_kid(const Expr *e, unsigned k, bool parens, Out *o)
{
        if (parens)
                put(o, "(", 1);
        print_node(e, k, o);
        if (parens)
                put(o, ")", 1);
}

static const char *func_name(unsigned op)
{
        for (size_t f = 0; f < ELEMENTSOF(funcs); f++)
                if (funcs[f].op == op)
                        return funcs[f].name;
        return "?";
}

/* Prints with the fewest parentheses that parse back to the same tree: all
 * binary operators associate to the left and comparisons do not chain. */
static void print_node(const Expr *e, unsigned i, Out *o)
{
        const Node *n = &e->nodes[i];
        const Node *l = &e->nodes[n->kid[0]], *r = &e->nodes[n->kid[1]];
        char buf[32];
        int p = prec(n);

        switch (n->op) {
        case OP_NUM:
                num_format(n->num, buf);
                puts_(o, buf);
                return;
        case OP_BOOL:
                puts_(o, n->num ? "true" : "false");
                return;
        case OP_STR:
                put_string(o, e->pool + n->str);
                return;
        case OP_DATE:
                date_format((int32_t)n->num, buf);
                puts_(o, "date(\"");
                puts_(o, buf);
                puts_(o, "\")");
                return;
        case OP_TODAY:
                puts_(o, "today");
                return;
        case OP_VAR:
        case OP_FIELD:
                puts_(o, e->pool + n->str);
                return;
        case OP_NEG:
        case OP_NOT:
                /* "- -x" rather than "-(-x)": parentheses would cost a level. */
                puts_(o, n->op == OP_NOT ? "not " : l->op == OP_NEG ? "- " : "-");
                print_kid(e, n->kid[0], prec(l) < p, o);
                return;
        case OP_IN: {
                const char *s = e->pool + n->str;
                print_kid(e, n->kid[0], prec(l) <= p, o);
                puts_(o, " in [");
                for (uint32_t k = 0; k < n->n_str; k++, s += strlen(s) + 1) {
                        if (k > 0)
                                puts_(o, ", ");
                        put_string(o, s);
                }
                puts_(o, "]");
                return;
        }
        default:
                break;
        }
        if (op_info[n->op].text) {
                print_kid(e, n->kid[0], prec(l) < p || (p == P_CMP && prec(l) == p), o);
                put(o, " ", 1);
                puts_(o, op_info[n->op].text);
                put(o, " ", 1);
                print_kid(e, n->kid[1], prec(r) <= p, o);
                return;
        }
        puts_(o, func_name(n->op));
        put(o, "(", 1);
        if (op_is_coll(n->op)) {
                puts_(o, e->pool + n->str);
                puts_(o, ", ");
        }
        for (unsigned k = 0; k < n->n_kids; k++) {
                if (k > 0)
                        puts_(o, ", ");
                print_node(e, n->kid[k], o);
        }
        put(o, ")", 1);
}

size_t expr_print(const Expr *e, char *buf, size_t len)
{
        Out o = {.buf = buf, .len = len};

        if (e)
                print_node(e, e->root, &o);
        return out_end(&o);
}

size_t expr_value_format(const ExprValue *v, char *buf, size_t len)
{
        Out o = {.buf = buf, .len = len};
        char tmp[32];

        if (!v || v->absent)
                puts_(&o, "unknown");
        else if (v->type == EXPR_NUMBER) {
                num_format(v->num, tmp);
                puts_(&o, tmp);
        } else if (v->type == EXPR_DATE) {
                date_format(v->date, tmp);
                puts_(&o, tmp);
        } else if (v->type == EXPR_BOOL)
                puts_(&o, v->b ? "true" : "false");
        else if (v->type == EXPR_STRING)
                puts_(&o, v->s ? v->s : "");
        return out_end(&o);
}

/* --- comparison and inspection ----------------------------------------- */

static bool node_equal(const Expr *a, unsigned i, const Expr *b, unsigned j)
{
        const Node *x = &a->nodes[i], *y = &b->nodes[j];
        const char *s = a->pool + x->str, *t = b->pool + y->str;

        if (x->op != y->op || x->type != y->type || x->n_kids != y->n_kids ||
            x->scope != y->scope || x->slot != y->slot || x->n_str != y->n_str || x->num != y->num)
                return false;
        bool named = x->op == OP_STR || x->op == OP_VAR || x->op == OP_FIELD || op_is_coll(x->op);
        if (named && !streq(s, t))
                return false;
        for (uint32_t k = 0; x->op == OP_IN && k < x->n_str; k++) {
                if (!streq(s, t))
                        return false;
                s += strlen(s) + 1;
                t += strlen(t) + 1;
        }
        for (unsigned k = 0; k < x->n_kids; k++)
                if (!node_equal(a, x->kid[k], b, y->kid[k]))
                        return false;
        return true;
}

bool expr_equal(const Expr *a, const Expr *b)
{
        if (!a || !b)
                return a == b;
        return a->type == b->type && node_equal(a, a->root, b, b->root);
}

size_t expr_vars(const Expr *e, const char **names, size_t n)
{
        size_t found = 0;

        for (unsigned i = 0; e && i < e->n_nodes; i++) {
                const Node *x = &e->nodes[i];
                if (x->op != OP_VAR && !op_is_coll(x->op))
                        continue;
                const char *s = e->pool + x->str;
                bool seen = false;
                /* Quadratic, but over at most EXPR_MAX_NODES and without memory. */
                for (unsigned j = 0; j < i && !seen; j++) {
                        const Node *y = &e->nodes[j];
                        seen = (y->op == OP_VAR || op_is_coll(y->op)) && streq(e->pool + y->str, s);
                }
                if (seen)
                        continue;
                if (found < n)
                        names[found] = s;
                found++;
        }
        return found;
}

/* --- inspection ---------------------------------------------------------- */

unsigned expr_root(const Expr *e)
{
        return e ? e->root : 0;
}

unsigned expr_n_nodes(const Expr *e)
{
        return e ? e->n_nodes : 0;
}

static ExprNodeKind node_kind(unsigned op)
{
        switch (op) {
        case OP_NUM:
        case OP_BOOL:
        case OP_STR:
        case OP_DATE:
                return EXPR_NODE_LITERAL;
        case OP_TODAY:
                return EXPR_NODE_TODAY;
        case OP_VAR:
                return EXPR_NODE_VAR;
        case OP_FIELD:
                return EXPR_NODE_FIELD;
        case OP_NOT:
                return EXPR_NODE_NOT;
        case OP_AND:
                return EXPR_NODE_AND;
        case OP_OR:
                return EXPR_NODE_OR;
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
        case OP_EQ:
        case OP_NE:
                return EXPR_NODE_CMP;
        case OP_IN:
                return EXPR_NODE_IN;
        case OP_NEG:
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
                return EXPR_NODE_ARITH;
        default:
                return op_is_coll(op) ? EXPR_NODE_COLL : EXPR_NODE_CALL;
        }
}

int expr_node(const Expr *e, unsigned i, ExprNode *out)
{
        if (!e || !out || i >= e->n_nodes)
                return -EINVAL;
        const Node *n = &e->nodes[i];
        ExprNodeKind kind = node_kind(n->op);
        *out = (ExprNode){.kind = kind, .type = n->type, .n_kids = n->n_kids, .slot = n->slot};
        for (unsigned k = 0; k < n->n_kids; k++)
                out->kids[k] = n->kid[k];
        out->op = op_info[n->op].text ? op_info[n->op].text : func_name(n->op);
        if (kind == EXPR_NODE_VAR || kind == EXPR_NODE_FIELD || kind == EXPR_NODE_COLL)
                out->name = e->pool + n->str;
        if (kind == EXPR_NODE_IN) {
                out->strs = e->pool + n->str;
                out->n_strs = n->n_str;
        }
        if (kind == EXPR_NODE_LITERAL) {
                out->value = (ExprValue){.type = n->type};
                if (n->op == OP_NUM)
                        out->value.num = n->num;
                else if (n->op == OP_BOOL)
                        out->value.b = n->num != 0;
                else if (n->op == OP_STR)
                        out->value.s = e->pool + n->str;
                else
                        out->value.date = (int32_t)n->num;
        }
        return 0;
}

int expr_eval_node(const Expr *e, unsigned i, const ExprEnv *env, unsigned coll, size_t row,
                   ExprValue *out)
{
        Eval x = {.e = e, .env = env};
        if (!out)
                return -EINVAL;
        *out = (ExprValue){.absent = true};
        if (!e || !env || i >= e->n_nodes)
                return -EINVAL;
        if (coll != EXPR_NO_ROW) {
                const Node *c = coll < e->n_nodes ? &e->nodes[coll] : NULL;
                const ExprRows *rows =
                    c && op_is_coll(c->op) && env->colls ? &env->colls[c->slot] : NULL;
                if (!rows || row >= rows->n_rows || !rows->rows)
                        return EXPR_ERR_ENV;
                x.row[c->scope] = rows->rows + row * rows->stride;
                x.stride[c->scope] = rows->stride;
        }
        int r = eval(&x, i, out);
        if (r < 0)
                *out = (ExprValue){.type = e->nodes[i].type, .absent = true};
        return r;
}
