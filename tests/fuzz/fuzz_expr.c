/* Fuzz target: the expression language (expr_compile, expr_print,
 * expr_equal, expr_eval) over the rule vocabulary (facts_symbols_new).
 *
 * Input: the expression source up to the first NUL byte; the bytes after it
 * choose the values of the variables, collection rows, today, the household
 * size and the floor lines (fixed defaults when they run out). Oracles:
 * - never crashes; a refusal has a message and a 1-based position;
 * - parse, print, parse gives the same tree: the printed text compiles to an
 *   expression equal to the first (both ways), of the same type, and prints
 *   to the same text (the printer is canonical); expr_print truncates like
 *   snprintf;
 * - evaluation is total: on a well-formed environment it returns 0 or a
 *   defined error (overflow, division by zero, no floor line), never
 *   EXPR_ERR_ENV; a success has the expression's type; evaluating twice, and
 *   evaluating the reparsed tree, give the same result. */
#include <errno.h>
#include <stdint.h>

#include "expr.h"
#include "facts.h"
#include "fuzz_util.h"

#define MAX_SLOTS 96
#define MAX_COLLS 8
#define MAX_ROWS 3
#define MAX_STRIDE 32

static FactsSymbols *symbols;
static const ExprSymbols *sym;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        static const char *const thresholds[] = {"major_out_of_pocket", "x", "a_b"};
        (void)argc;
        (void)argv;
        symbols = facts_symbols_new(thresholds, ELEMENTSOF(thresholds));
        if (!symbols)
                abort();
        sym = facts_symbols_get(symbols);
        for (size_t i = 0; i < sym->n_vars; i++)
                if (sym->vars[i].slot >= MAX_SLOTS)
                        abort();
        for (size_t i = 0; i < sym->n_colls; i++) {
                if (sym->colls[i].slot >= MAX_COLLS)
                        abort();
                for (size_t k = 0; k < sym->colls[i].n_fields; k++)
                        if (sym->colls[i].fields[k].slot >= MAX_STRIDE)
                                abort();
        }
        return 0;
}

/* Values from the input's tail; when it runs out, a fixed cycle. */
typedef struct {
        const uint8_t *p;
        size_t n, i, k;
} Reader;

static uint8_t byte(Reader *r)
{
        static const uint8_t cycle[] = {1, 6, 2, 9, 3, 0, 7, 4, 5, 8, 11, 10};
        if (r->i < r->n)
                return r->p[r->i++];
        return cycle[r->k++ % sizeof(cycle)];
}

static int64_t number(Reader *r)
{
        static const int64_t special[] = {0,       100,     -100, 1,     INT64_MAX,      INT64_MIN,
                                          1000000, 3600000, -1,   12345, INT64_MAX / 100};
        uint8_t b = byte(r);
        if (b < sizeof(special) / sizeof(special[0]))
                return special[b];
        if (b == 200) {
                uint64_t v = 0;
                for (int k = 0; k < 8; k++)
                        v = v << 8 | byte(r);
                return (int64_t)v;
        }
        return ((int64_t)b - 128) * 100;
}

static int32_t date(Reader *r)
{
        static const int32_t special[] = {20514, 0, INT32_MAX, INT32_MIN, 20148, -719162, 2932896};
        uint8_t b = byte(r);
        if (b < sizeof(special) / sizeof(special[0]))
                return special[b];
        return 20514 - (int32_t)b * 7;
}

static const char *string(Reader *r)
{
        static const char *const s[] = {"low_income", "",  "full",   "none",          "partial",
                                        "marginal",   "a", "温溪镇", "minimum_living"};
        return s[byte(r) % ELEMENTSOF(s)];
}

static ExprValue value(Reader *r, ExprType t)
{
        ExprValue v = {.type = t};
        if (byte(r) % 5 == 0) {
                v.absent = true;
                return v;
        }
        switch (t) {
        case EXPR_NUMBER:
                v.num = number(r);
                break;
        case EXPR_BOOL:
                v.b = byte(r) & 1;
                break;
        case EXPR_STRING:
                v.s = string(r);
                break;
        case EXPR_DATE:
                v.date = date(r);
                break;
        }
        return v;
}

typedef struct {
        ExprValue vars[MAX_SLOTS];
        ExprValue rows[MAX_COLLS][MAX_ROWS * MAX_STRIDE];
        ExprRows colls[MAX_COLLS];
        ExprFloorLine lines[3];
        ExprEnv env;
} Env;

static void env_fill(Env *e, Reader *r)
{
        memset(e, 0, sizeof(*e));
        for (size_t i = 0; i < sym->n_vars; i++)
                e->vars[sym->vars[i].slot] = value(r, sym->vars[i].type);
        for (size_t i = 0; i < sym->n_colls; i++) {
                const ExprCollection *c = &sym->colls[i];
                size_t n = byte(r) % (MAX_ROWS + 1);
                for (size_t row = 0; row < n; row++)
                        for (size_t k = 0; k < c->n_fields; k++)
                                e->rows[c->slot][row * MAX_STRIDE + c->fields[k].slot] =
                                    value(r, c->fields[k].type);
                e->colls[c->slot] = (ExprRows){e->rows[c->slot], n, MAX_STRIDE};
        }
        size_t nl = byte(r) % 4;
        int year = 2020 + byte(r) % 8;
        for (size_t i = 0; i < nl && i < 3; i++)
                e->lines[i] = (ExprFloorLine){year + (int)i, number(r)};
        static const int64_t sizes[] = {3, 0, 1, -1, INT64_MAX, INT64_MIN, 50};
        e->env = (ExprEnv){
            .vars = e->vars,
            .colls = e->colls,
            .today = date(r),
            .household_size = sizes[byte(r) % ELEMENTSOF(sizes)],
            .floor_lines = e->lines,
            .n_floor_lines = nl < 3 ? nl : 3,
        };
}

static bool value_equal(const ExprValue *a, const ExprValue *b)
{
        if (a->type != b->type || a->absent != b->absent)
                return false;
        if (a->absent)
                return true;
        switch (a->type) {
        case EXPR_NUMBER:
                return a->num == b->num;
        case EXPR_BOOL:
                return a->b == b->b;
        case EXPR_STRING:
                return a->s && b->s && strcmp(a->s, b->s) == 0;
        case EXPR_DATE:
                return a->date == b->date;
        }
        return false;
}

static void check_eval(const Expr *e, const Expr *e2, const ExprEnv *env)
{
        ExprValue v, v2, v3;
        int r = expr_eval(e, env, &v);
        ORACLE(r == 0 || r == EXPR_ERR_OVERFLOW || r == EXPR_ERR_DIV_ZERO || r == EXPR_ERR_NO_LINE,
               "expr_eval returned %d (%s)", r, expr_strerror(r));
        ORACLE(v.type == expr_type(e), "result of type %d, expression of type %d", v.type,
               expr_type(e));
        if (r < 0)
                ORACLE(v.absent, "an error with a present result");
        if (r == 0 && !v.absent && v.type == EXPR_STRING)
                ORACLE(v.s != NULL, "present string result is NULL");
        if (r == 0 && v.type == EXPR_BOOL)
                ORACLE(expr_value_true(&v) == (!v.absent && v.b), "expr_value_true");
        int r2 = expr_eval(e, env, &v2);
        ORACLE(r2 == r && value_equal(&v, &v2), "evaluation not deterministic");
        int r3 = expr_eval(e2, env, &v3);
        ORACLE(r3 == r && value_equal(&v, &v3), "equal trees evaluate differently: %d / %d", r, r3);

        char buf[64], small[8];
        size_t n = expr_value_format(&v, buf, sizeof(buf));
        size_t m = expr_value_format(&v, small, sizeof(small));
        ORACLE(n == m && strlen(small) == (n < sizeof(small) ? n : sizeof(small) - 1) &&
                   strncmp(small, buf, strlen(small)) == 0,
               "expr_value_format truncation");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nul = memchr(data, 0, size);
        size_t srclen = nul ? (size_t)(nul - data) : size;
        char *src = fuzz_strndup(data, srclen);
        Reader rd = {.p = nul ? nul + 1 : NULL, .n = nul ? size - srclen - 1 : 0};
        ExprError err;
        ExprType want = EXPR_BOOL;

        Expr *e = expr_compile(src, sym, want, &err);
        if (!e) {
                static const char *const names[] = {"number", "string", "date"};
                static const ExprType types[] = {EXPR_NUMBER, EXPR_STRING, EXPR_DATE};
                ORACLE(err.msg[0] && err.line >= 1 && err.col >= 1, "error '%s' at %u:%u", err.msg,
                       err.line, err.col);
                ORACLE(memchr(err.msg, 0, sizeof(err.msg)), "message not terminated");
                /* Another type: compile as that, for the rest of the oracles. */
                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        char m[64];
                        snprintf(m, sizeof(m), "expression is a %s, expected a bool", names[i]);
                        if (strcmp(err.msg, m) == 0) {
                                want = types[i];
                                e = expr_compile(src, sym, want, &err);
                                ORACLE(e, "compiles as %s only when asked for bool?", names[i]);
                        }
                }
                if (!e) {
                        free(src);
                        return 0;
                }
        }
        ORACLE(expr_type(e) == want, "type");

        /* Print: snprintf semantics, then the round trip. */
        size_t n = expr_print(e, NULL, 0);
        char *text = malloc(n + 1);
        if (!text)
                abort();
        ORACLE(expr_print(e, text, n + 1) == n && strlen(text) == n, "expr_print length");
        char cut[16];
        size_t k = expr_print(e, cut, sizeof(cut));
        ORACLE(k == n && strncmp(cut, text, sizeof(cut) - 1) == 0 &&
                   strlen(cut) == (n < sizeof(cut) ? n : sizeof(cut) - 1),
               "expr_print truncation");

        Expr *e2 = expr_compile(text, sym, want, &err);
        ORACLE(e2, "printed text does not compile: %s at %u:%u\nsource: %s\nprinted: %s", err.msg,
               err.line, err.col, src, text);
        ORACLE(expr_equal(e, e2) && expr_equal(e2, e),
               "parse, print, parse gives another tree\nsource: %s\nprinted: %s", src, text);
        ORACLE(expr_type(e2) == expr_type(e), "reparsed type");
        size_t n2 = expr_print(e2, NULL, 0);
        char *text2 = malloc(n2 + 1);
        if (!text2)
                abort();
        expr_print(e2, text2, n2 + 1);
        ORACLE(strcmp(text, text2) == 0, "printer not canonical: %s / %s", text, text2);
        ORACLE(expr_equal(e, e), "expr_equal not reflexive");

        /* The variables it reads. */
        const char *names[64];
        size_t nv = expr_vars(e, names, ELEMENTSOF(names));
        ORACLE(expr_vars(e, NULL, 0) == nv, "expr_vars count");
        for (size_t i = 0; i < nv && i < ELEMENTSOF(names); i++)
                ORACLE(names[i] && strstr(text, names[i]), "expr_vars: %s not in %s",
                       names[i] ? names[i] : "(null)", text);

        /* Evaluation. */
        Env *env = malloc(sizeof(Env));
        if (!env)
                abort();
        env_fill(env, &rd);
        check_eval(e, e2, &env->env);

        free(env);
        free(text2);
        free(text);
        expr_free(e2);
        expr_free(e);
        free(src);
        return 0;
}
