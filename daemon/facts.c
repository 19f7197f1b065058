#include "facts.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "household.h"
#include "money.h"

/* --- the symbol table -------------------------------------------------- */

enum {
        V_HOUSEHOLD_SIZE,
        V_STATUS,
        V_TOWN,
        V_VILLAGE,
        V_REGISTERED,
        V_REMOVED,
        V_INCOME_LAST_YEAR,
        V_INCOME_LAST_YEAR_YEAR,
        V_INCOME_VERIFIED,
        V_INCOME_VERIFIED_YEAR,
        V_INCOME,
        V_INCOME_YEAR,
        V_PRIOR_INCOME,
        V_PRIOR_INCOME_YEAR,
        V_MEDICAL,
        V_FUND_PAID,
        V_EDUCATION,
        V_DISABILITY,
        V_OTHER_EXPENSE,
        V_ILLNESS,
        V_RIGID,
        V_MAJOR_DISEASE,
        V_DISASTER_LOSS,
        V_ACCIDENT_LOSS,
        V_INCOME_LOSS,
        V_PROPERTY_LOSS,
        V_ACCIDENT_MEDICAL,
        V_RELIEF,
        V_MINIMUM_LIVING,
        V_MARGINAL,
        V_EXTREME_POVERTY,
        V_IN_GRADUAL_EXIT,
        V_GRADUAL_EXIT_UNTIL,
        V_OPEN_NEEDS,
        V_URGENT_NEEDS,
        V_VISIT_DATE,
        V_VISIT_FOOD_CLOTHING,
        V_VISIT_EDUCATION,
        V_VISIT_MEDICAL,
        V_VISIT_HOUSING,
        V_VISIT_DRINKING_WATER,
        V_VISIT_RISKS,
        V_MONITOR_FACTOR,
        N_FIXED
};

/* Documentation of the fixed variables, indexed by slot. */
static const FactsHelp var_help[N_FIXED] = {
    [V_HOUSEHOLD_SIZE] = {"household_size", EXPR_NUMBER, "count",
                          "members in the profile (0 before registration)"},
    [V_STATUS] = {"status", EXPR_STRING, "",
                  "profile status: low_income, minimum_living, marginal, extreme_poverty, none"},
    [V_TOWN] = {"town", EXPR_STRING, "", "town of the household"},
    [V_VILLAGE] = {"village", EXPR_STRING, "", "village of the household"},
    [V_REGISTERED] = {"registered", EXPR_BOOL, "", "household.registered has been applied"},
    [V_REMOVED] = {"removed", EXPR_BOOL, "", "household.removed has been applied"},
    [V_INCOME_LAST_YEAR] = {"income_last_year", EXPR_NUMBER, "yuan",
                            "profile income_last_year.disposable (household total)"},
    [V_INCOME_LAST_YEAR_YEAR] = {"income_last_year_year", EXPR_NUMBER, "year",
                                 "profile income_last_year.year"},
    [V_INCOME_VERIFIED] = {"income_verified", EXPR_NUMBER, "yuan",
                           "verified disposable income (civil.income.verified) of the latest "
                           "verified year"},
    [V_INCOME_VERIFIED_YEAR] = {"income_verified_year", EXPR_NUMBER, "year",
                                "the latest verified year"},
    [V_INCOME] = {"income", EXPR_NUMBER, "yuan",
                  "the best known yearly household income: income_verified when its year is "
                  "the same as or later than income_last_year_year, else income_last_year"},
    [V_INCOME_YEAR] = {"income_year", EXPR_NUMBER, "year", "the year of income"},
    [V_PRIOR_INCOME] = {"prior_income", EXPR_NUMBER, "yuan",
                        "the best figure of last year's household disposable income (last year = "
                        "year(today) - 1): the verified income of that year; else the register's "
                        "income_last_year or a verified income, whichever year is nearest to it "
                        "(earlier years first, verified winning a tie)"},
    [V_PRIOR_INCOME_YEAR] = {"prior_income_year", EXPR_NUMBER, "year",
                             "the year prior_income is for"},
    [V_MEDICAL] = {"medical_12m", EXPR_NUMBER, "yuan",
                   "medical out of pocket over 12 months (claims and medical expenses)"},
    [V_FUND_PAID] = {"fund_paid_12m", EXPR_NUMBER, "yuan",
                     "medical insurance fund payments over 12 months"},
    [V_EDUCATION] = {"education_12m", EXPR_NUMBER, "yuan", "education expenses over 12 months"},
    [V_DISABILITY] = {"disability_12m", EXPR_NUMBER, "yuan", "disability expenses over 12 months"},
    [V_OTHER_EXPENSE] = {"other_expense_12m", EXPR_NUMBER, "yuan",
                         "other reported expenses over 12 months"},
    [V_ILLNESS] = {"illness_12m", EXPR_NUMBER, "yuan",
                   "illness costs over 12 months: medical_12m + accident_medical_12m"},
    [V_RIGID] = {"rigid_12m", EXPR_NUMBER, "yuan",
                 "rigid expenditure over 12 months: illness_12m + education_12m + "
                 "disability_12m (REQ-3)"},
    [V_MAJOR_DISEASE] = {"major_disease_12m", EXPR_NUMBER, "yuan",
                         "out of pocket of major-disease claims settled in the last 365 days"},
    [V_DISASTER_LOSS] = {"disaster_loss_12m", EXPR_NUMBER, "yuan",
                         "income lost to disasters over 12 months"},
    [V_ACCIDENT_LOSS] = {"accident_loss_12m", EXPR_NUMBER, "yuan",
                         "income lost to accidents over 12 months"},
    [V_INCOME_LOSS] = {"income_loss_12m", EXPR_NUMBER, "yuan",
                       "disaster_loss_12m + accident_loss_12m"},
    [V_PROPERTY_LOSS] = {"property_loss_12m", EXPR_NUMBER, "yuan",
                         "property lost to disasters over 12 months"},
    [V_ACCIDENT_MEDICAL] = {"accident_medical_12m", EXPR_NUMBER, "yuan",
                            "medical costs of accidents over 12 months"},
    [V_RELIEF] = {"relief_12m", EXPR_NUMBER, "yuan",
                  "relief paid (civil.relief.paid) over 12 months"},
    [V_MINIMUM_LIVING] = {"minimum_living", EXPR_STRING, "",
                          "minimum living allowance (低保): granted, revoked or exited"},
    [V_MARGINAL] = {"marginal", EXPR_STRING, "",
                    "marginal support (低保边缘): granted, revoked or exited"},
    [V_EXTREME_POVERTY] = {"extreme_poverty", EXPR_STRING, "",
                           "extreme-poverty support (特困): granted, revoked or exited"},
    [V_IN_GRADUAL_EXIT] = {"in_gradual_exit", EXPR_BOOL, "",
                           "some programme exited and its gradual exit period (渐退期) runs "
                           "until today or later"},
    [V_GRADUAL_EXIT_UNTIL] = {"gradual_exit_until", EXPR_DATE, "date",
                              "the latest end of a gradual exit period"},
    [V_OPEN_NEEDS] = {"open_needs", EXPR_NUMBER, "count", "needs reported and not resolved"},
    [V_URGENT_NEEDS] = {"urgent_needs", EXPR_NUMBER, "count", "open needs marked urgent"},
    [V_VISIT_DATE] = {"last_visit.date", EXPR_DATE, "date", "date of the latest visit"},
    [V_VISIT_FOOD_CLOTHING] = {"last_visit.food_clothing", EXPR_STRING, "",
                               "food and clothing check of the latest visit: ok or risk"},
    [V_VISIT_EDUCATION] = {"last_visit.education", EXPR_STRING, "",
                           "compulsory education check: ok or risk"},
    [V_VISIT_MEDICAL] = {"last_visit.medical", EXPR_STRING, "",
                         "basic medical care check: ok or risk"},
    [V_VISIT_HOUSING] = {"last_visit.housing", EXPR_STRING, "", "safe housing check: ok or risk"},
    [V_VISIT_DRINKING_WATER] = {"last_visit.drinking_water", EXPR_STRING, "",
                                "safe drinking water check: ok or risk"},
    [V_VISIT_RISKS] = {"last_visit.risk_count", EXPR_NUMBER, "count",
                       "checks of the latest visit found at risk"},
    [V_MONITOR_FACTOR] = {"monitor_factor", EXPR_NUMBER, "factor",
                          "config policy.monitor_factor (1.2 = 120%)"},
};

enum { C_MEMBERS, C_NEEDS, C_DISASTERS, C_ACCIDENTS, C_CLAIMS, N_COLLS };

enum { M_LABOR, M_GRADE, M_ILLNESS, M_INCAPACITATED, M_STUDENT, M_BIRTH_YEAR, M_AGE, N_M };
enum { N_CATEGORY, N_CHANNEL, N_URGENT, N_REPORTED_ON, N_N };
enum {
        D_DATE,
        D_DISASTER,
        D_HOUSE_DAMAGE,
        D_DEATHS,
        D_INJURED,
        D_INCOME_LOSS,
        D_PROPERTY_LOSS,
        N_D
};
enum { A_DATE, A_KIND, A_LABOR_LOST, A_INCOME_LOSS, A_MEDICAL_COST, A_MEMBER_LABOR, N_A };
enum { K_DATE, K_KIND, K_MAJOR, K_OUT_OF_POCKET, K_TOTAL, N_K };

static const ExprVar member_fields[N_M] = {
    {"labor", EXPR_STRING, M_LABOR},
    {"disability_grade", EXPR_NUMBER, M_GRADE},
    {"serious_illness", EXPR_BOOL, M_ILLNESS},
    {"incapacitated", EXPR_BOOL, M_INCAPACITATED},
    {"student", EXPR_BOOL, M_STUDENT},
    {"birth_year", EXPR_NUMBER, M_BIRTH_YEAR},
    {"age", EXPR_NUMBER, M_AGE},
};
static const ExprVar need_fields[N_N] = {
    {"category", EXPR_STRING, N_CATEGORY},
    {"channel", EXPR_STRING, N_CHANNEL},
    {"urgent", EXPR_BOOL, N_URGENT},
    {"reported_on", EXPR_DATE, N_REPORTED_ON},
};
static const ExprVar disaster_fields[N_D] = {
    {"date", EXPR_DATE, D_DATE},
    {"disaster", EXPR_STRING, D_DISASTER},
    {"house_damage", EXPR_STRING, D_HOUSE_DAMAGE},
    {"deaths", EXPR_NUMBER, D_DEATHS},
    {"injured", EXPR_NUMBER, D_INJURED},
    {"income_loss", EXPR_NUMBER, D_INCOME_LOSS},
    {"property_loss", EXPR_NUMBER, D_PROPERTY_LOSS},
};
static const ExprVar accident_fields[N_A] = {
    {"date", EXPR_DATE, A_DATE},
    {"kind", EXPR_STRING, A_KIND},
    {"labor_lost", EXPR_BOOL, A_LABOR_LOST},
    {"income_loss", EXPR_NUMBER, A_INCOME_LOSS},
    {"medical_cost", EXPR_NUMBER, A_MEDICAL_COST},
    {"member_labor", EXPR_STRING, A_MEMBER_LABOR},
};
static const ExprVar claim_fields[N_K] = {
    {"date", EXPR_DATE, K_DATE},           {"kind", EXPR_STRING, K_KIND},
    {"major_disease", EXPR_BOOL, K_MAJOR}, {"out_of_pocket", EXPR_NUMBER, K_OUT_OF_POCKET},
    {"total", EXPR_NUMBER, K_TOTAL},
};

static const ExprCollection colls[N_COLLS] = {
    {"members", "member", C_MEMBERS, member_fields, N_M},
    {"needs", "need", C_NEEDS, need_fields, N_N},
    {"disasters", "disaster", C_DISASTERS, disaster_fields, N_D},
    {"accidents", "accident", C_ACCIDENTS, accident_fields, N_A},
    {"claims", "claim", C_CLAIMS, claim_fields, N_K},
};

/* Documentation of collection fields, in the order of colls[] and fields. */
static const char *const field_help[N_COLLS][8] = {
    [C_MEMBERS] = {"full, partial or none", "0 none, 1 most severe .. 4", "", "", "in school", "",
                   "year(today) - birth_year"},
    [C_NEEDS] = {"medical, education, housing, water, food_clothing, employment, other",
                 "self, cadre, hotline, media, petition", "", "date of the report"},
    [C_DISASTERS] = {"", "flood, typhoon, landslide, fire, drought, other",
                     "none, minor, moderate, severe, collapsed", "people", "people", "", ""},
    [C_ACCIDENTS] = {"", "traffic, work, other", "the member lost working capacity", "", "",
                     "labor of the member in the profile: full, partial, none"},
    [C_CLAIMS] = {"settlement date", "inpatient, outpatient, chronic", "", "", "claim total"},
};

static const char *field_unit(ExprType t, const char *name)
{
        if (t == EXPR_DATE)
                return "date";
        if (t != EXPR_NUMBER)
                return "";
        if (streq(name, "birth_year"))
                return "year";
        if (streq(name, "age"))
                return "years";
        if (streq(name, "disability_grade"))
                return "grade";
        if (streq(name, "deaths") || streq(name, "injured"))
                return "count";
        return "yuan";
}

int facts_help(size_t i, char *buf, size_t len, FactsHelp *h)
{
        if (i < N_FIXED) {
                *h = var_help[i];
                return 0;
        }
        i -= N_FIXED;
        for (size_t c = 0; c < N_COLLS; c++) {
                if (i >= colls[c].n_fields) {
                        i -= colls[c].n_fields;
                        continue;
                }
                const ExprVar *f = &colls[c].fields[i];
                snprintf(buf, len, "%s.%s", colls[c].name, f->name);
                *h = (FactsHelp){buf, f->type, field_unit(f->type, f->name),
                                 field_help[c][i] ? field_help[c][i] : ""};
                return 0;
        }
        return -ENOENT;
}

struct FactsSymbols {
        ExprSymbols sym;
        ExprVar vars[N_FIXED + FACTS_MAX_THRESHOLDS];
        char names[FACTS_MAX_THRESHOLDS][sizeof(FACTS_THRESHOLD_PREFIX) + FACTS_MAX_THRESHOLD_NAME];
};

FactsSymbols *facts_symbols_new(const char *const *names, size_t n)
{
        if (n > FACTS_MAX_THRESHOLDS)
                return NULL;
        FactsSymbols *s = calloc(1, sizeof(FactsSymbols));
        if (!s)
                return NULL;
        for (unsigned i = 0; i < N_FIXED; i++)
                s->vars[i] = (ExprVar){var_help[i].name, var_help[i].type, i};
        for (size_t i = 0; i < n; i++) {
                /* A name too long for the buffer would be cut and could
                 * collide with another: refuse it. */
                if (!names[i] || strlen(names[i]) > FACTS_MAX_THRESHOLD_NAME)
                        return facts_symbols_free(s);
                snprintf(s->names[i], sizeof(s->names[i]), "%s%s", FACTS_THRESHOLD_PREFIX,
                         names[i]);
                s->vars[N_FIXED + i] = (ExprVar){s->names[i], EXPR_NUMBER, (unsigned)(N_FIXED + i)};
        }
        s->sym = (ExprSymbols){s->vars, N_FIXED + n, colls, N_COLLS};
        return s;
}

FactsSymbols *facts_symbols_free(FactsSymbols *s)
{
        free(s);
        return NULL;
}

const ExprSymbols *facts_symbols_get(const FactsSymbols *s)
{
        return &s->sym;
}

/* --- values ------------------------------------------------------------ */

struct Facts {
        ExprValue vars[N_FIXED + FACTS_MAX_THRESHOLDS];
        ExprRows rows[N_COLLS];
        int64_t household_size;
        int32_t today;
        ExprValue members[FACTS_MAX_MEMBERS][N_M];
        ExprValue needs[FACTS_MAX_NEEDS][N_N];
        ExprValue disasters[FACTS_MAX_INCIDENTS][N_D];
        ExprValue accidents[FACTS_MAX_INCIDENTS][N_A];
        ExprValue claims[FACTS_MAX_INCIDENTS][N_K];
};

/* Only the head is cleared (the variables and the collections' rows):
 * facts_fill() sets every variable it knows and each collection's rows
 * (count and table), and writes every column of each row it counts, so the
 * tables (most of the 30 KiB) are never read past what it wrote. Clearing
 * them all cost 6.6 % of hearthd's instructions per event (callgrind, the
 * bench's throughput step). */
Facts *facts_new(void)
{
        Facts *f = malloc(sizeof(Facts));
        if (f)
                memset(f, 0, offsetof(Facts, members));
        return f;
}

Facts *facts_free(Facts *f)
{
        free(f);
        return NULL;
}

static ExprValue v_absent(ExprType t)
{
        return (ExprValue){.type = t, .absent = true};
}

static ExprValue v_num(int64_t x)
{
        return (ExprValue){.type = EXPR_NUMBER, .num = x};
}

static ExprValue v_bool(bool b)
{
        return (ExprValue){.type = EXPR_BOOL, .b = b};
}

static ExprValue v_date(int32_t d)
{
        return (ExprValue){.type = EXPR_DATE, .date = d};
}

/* Fen stored as a JSON integer: the number as is. */
static ExprValue j_fen(const json_t *v)
{
        if (!json_is_integer(v))
                return v_absent(EXPR_NUMBER);
        return v_num(json_integer_value(v));
}

/* A plain integer (count, year, grade) scaled ×100; absent if it would
 * overflow. */
static ExprValue j_int(const json_t *v)
{
        if (!json_is_integer(v))
                return v_absent(EXPR_NUMBER);
        json_int_t x = json_integer_value(v);
        if (x > INT64_MAX / 100 || x < INT64_MIN / 100)
                return v_absent(EXPR_NUMBER);
        return v_num((int64_t)x * 100);
}

static ExprValue j_str(const json_t *v)
{
        const char *s = json_string_value(v);
        if (!s)
                return v_absent(EXPR_STRING);
        return (ExprValue){.type = EXPR_STRING, .s = s};
}

static ExprValue j_bool(const json_t *v)
{
        if (!json_is_boolean(v))
                return v_absent(EXPR_BOOL);
        return v_bool(json_is_true(v));
}

/* "YYYY-MM-DD", or an RFC 3339 time whose first 10 bytes are the date. */
static ExprValue j_date(const json_t *v)
{
        const char *s = json_string_value(v);
        char buf[11];
        int32_t d;

        if (!s || strlen(s) < 10)
                return v_absent(EXPR_DATE);
        memcpy(buf, s, 10);
        buf[10] = '\0';
        if (date_parse(buf, &d) < 0)
                return v_absent(EXPR_DATE);
        return v_date(d);
}

/* True for an entry of incomes: a year 0..9999 as key, fen as value. */
static bool income_entry(const char *key, const json_t *v, long *year)
{
        char *end;
        errno = 0;
        *year = strtol(key, &end, 10);
        return !errno && end != key && !*end && *year >= 0 && *year <= 9999 && json_is_integer(v);
}

/* prior_income: the figure whose year is nearest to last year, earlier
 * years before later ones, a verified figure before the register's. */
static void fill_prior_income(Facts *f, const json_t *doc, int32_t today, ExprValue last,
                              ExprValue last_year)
{
        int64_t want = (int64_t)date_year(today) - 1;
        int64_t best_dist = INT64_MAX;
        ExprValue best = v_absent(EXPR_NUMBER), best_year = v_absent(EXPR_NUMBER);
        const char *k;
        json_t *v;
        long y;
        /* Distance 2d for a year d before the wanted one, 2d+1 after it:
         * nearest first, earlier before later at the same distance. */
#define DIST(y) ((y) <= want ? 2 * (want - (y)) : 2 * ((y)-want) + 1)
        json_object_foreach ((json_t *)json_object_get(doc, "incomes"), k, v) {
                if (!income_entry(k, v, &y))
                        continue;
                int64_t d = DIST((int64_t)y);
                if (d < best_dist) {
                        best_dist = d;
                        best = j_fen(v);
                        best_year = v_num((int64_t)y * 100);
                }
        }
        if (!last.absent && !last_year.absent && DIST(last_year.num / 100) < best_dist) {
                best = last;
                best_year = last_year;
        } else if (!last.absent && last_year.absent && best.absent) {
                best = last;
        }
#undef DIST
        f->vars[V_PRIOR_INCOME] = best;
        f->vars[V_PRIOR_INCOME_YEAR] = best_year;
}

static void fill_income(Facts *f, const json_t *doc, int32_t today)
{
        const json_t *ily = json_object_get(json_object_get(doc, "profile"), "income_last_year");
        ExprValue last = j_fen(json_object_get(ily, "disposable"));
        ExprValue last_year = j_int(json_object_get(ily, "year"));
        ExprValue ver = v_absent(EXPR_NUMBER), ver_year = v_absent(EXPR_NUMBER);

        const char *k;
        json_t *v;
        long y;
        json_object_foreach ((json_t *)json_object_get(doc, "incomes"), k, v) {
                if (!income_entry(k, v, &y))
                        continue;
                if (ver_year.absent || y * 100 > ver_year.num) {
                        ver_year = v_num((int64_t)y * 100);
                        ver = j_fen(v);
                }
        }
        f->vars[V_INCOME_LAST_YEAR] = last;
        f->vars[V_INCOME_LAST_YEAR_YEAR] = last_year;
        f->vars[V_INCOME_VERIFIED] = ver;
        f->vars[V_INCOME_VERIFIED_YEAR] = ver_year;
        /* A verification of last year (or later) supersedes the figure the
         * register was created with; an older one does not. */
        bool use_verified =
            !ver.absent && (last.absent || last_year.absent || ver_year.num >= last_year.num);
        f->vars[V_INCOME] = use_verified ? ver : last;
        f->vars[V_INCOME_YEAR] = use_verified  ? ver_year
                                 : last.absent ? v_absent(EXPR_NUMBER)
                                               : last_year;
        fill_prior_income(f, doc, today, last, last_year);
}

static void fill_sums(Facts *f, const json_t *doc, int32_t today)
{
        static const struct {
                unsigned slot;
                const char *bucket;
        } b[] = {
            {V_MEDICAL, "medical"},
            {V_FUND_PAID, "fund_paid"},
            {V_EDUCATION, "education"},
            {V_DISABILITY, "disability"},
            {V_OTHER_EXPENSE, "other"},
            {V_DISASTER_LOSS, "disaster_loss"},
            {V_ACCIDENT_LOSS, "accident_loss"},
            {V_PROPERTY_LOSS, "property_loss"},
            {V_ACCIDENT_MEDICAL, "accident_medical"},
            {V_RELIEF, "relief"},
        };
        const char *names[ELEMENTSOF(b)];
        int64_t sums[ELEMENTSOF(b)];
        for (size_t i = 0; i < ELEMENTSOF(b); i++)
                names[i] = b[i].bucket;
        household_sums_12m(doc, today, names, ELEMENTSOF(b), sums);
        for (size_t i = 0; i < ELEMENTSOF(b); i++)
                f->vars[b[i].slot] = v_num(sums[i]);
        /* money_add saturates, so these sums cannot overflow. */
        f->vars[V_ILLNESS] =
            v_num(money_add(f->vars[V_MEDICAL].num, f->vars[V_ACCIDENT_MEDICAL].num));
        f->vars[V_RIGID] =
            v_num(money_add(money_add(f->vars[V_ILLNESS].num, f->vars[V_EDUCATION].num),
                            f->vars[V_DISABILITY].num));
        f->vars[V_INCOME_LOSS] =
            v_num(money_add(f->vars[V_DISASTER_LOSS].num, f->vars[V_ACCIDENT_LOSS].num));
}

static void fill_programs(Facts *f, const json_t *doc, int32_t today)
{
        static const struct {
                unsigned slot;
                const char *name;
        } p[] = {
            {V_MINIMUM_LIVING, "minimum_living"},
            {V_MARGINAL, "marginal"},
            {V_EXTREME_POVERTY, "extreme_poverty"},
        };
        const json_t *programs = json_object_get(doc, "programs");
        bool in_exit = false;
        ExprValue until = v_absent(EXPR_DATE);

        for (size_t i = 0; i < ELEMENTSOF(p); i++) {
                const json_t *prog = json_object_get(programs, p[i].name);
                ExprValue state = j_str(json_object_get(prog, "state"));
                f->vars[p[i].slot] = state;
                if (state.absent || !streq(state.s, "exited"))
                        continue;
                ExprValue u = j_date(json_object_get(prog, "exit_until"));
                if (u.absent)
                        continue;
                if (u.date >= today)
                        in_exit = true;
                if (until.absent || u.date > until.date)
                        until = u;
        }
        f->vars[V_IN_GRADUAL_EXIT] = v_bool(in_exit);
        f->vars[V_GRADUAL_EXIT_UNTIL] = until;
}

static void fill_visit(Facts *f, const json_t *doc)
{
        static const struct {
                unsigned slot;
                const char *name;
        } c[] = {
            {V_VISIT_FOOD_CLOTHING, "food_clothing"},
            {V_VISIT_EDUCATION, "education"},
            {V_VISIT_MEDICAL, "medical"},
            {V_VISIT_HOUSING, "housing"},
            {V_VISIT_DRINKING_WATER, "drinking_water"},
        };
        const json_t *visit = json_object_get(doc, "last_visit");
        const json_t *checks = json_object_get(visit, "checks");
        bool have = json_is_object(visit);
        int64_t risks = 0;

        f->vars[V_VISIT_DATE] = j_date(json_object_get(visit, "date"));
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                ExprValue v = j_str(json_object_get(checks, c[i].name));
                f->vars[c[i].slot] = v;
                if (!v.absent && streq(v.s, "risk"))
                        risks += 100;
        }
        f->vars[V_VISIT_RISKS] = have ? v_num(risks) : v_absent(EXPR_NUMBER);
}

/* A member name and its length, for row_fields(). */
typedef struct {
        const char *name;
        size_t len;
} RowKey;
#define ROW_KEY(s)                                                                                 \
        {                                                                                          \
                s, sizeof(s) - 1                                                                   \
        }

/* The members of object o named by keys[0..n), in one walk of o: out[i] is
 * keys[i]'s value, NULL when o has none. jansson hashes the key for every
 * json_object_get(); a walk of a row's few members, comparing lengths
 * first, costs a fraction of that for the four to seven fields a row is
 * read for. */
static void row_fields(const json_t *o, const RowKey *keys, size_t n, const json_t **out)
{
        for (size_t i = 0; i < n; i++)
                out[i] = NULL;
        for (void *it = json_object_iter((json_t *)o); it;
             it = json_object_iter_next((json_t *)o, it)) {
                size_t kl = json_object_iter_key_len(it);
                const char *k = json_object_iter_key(it);
                for (size_t i = 0; i < n; i++)
                        if (kl == keys[i].len && memcmp(k, keys[i].name, kl) == 0) {
                                out[i] = json_object_iter_value(it);
                                break;
                        }
        }
}

/* The member of profile.members with id, or NULL. */
static const json_t *member_by_id(const json_t *members, const char *id)
{
        size_t i;
        json_t *m;
        if (!id)
                return NULL;
        json_array_foreach (members, i, m) {
                if (streq_ptr(json_string_value(json_object_get(m, "id")), id))
                        return m;
        }
        return NULL;
}

static void fill_members(Facts *f, const json_t *members, int32_t today)
{
        size_t i, n = 0;
        json_t *m;
        int64_t this_year = (int64_t)date_year(today) * 100;

        static const RowKey keys[] = {ROW_KEY("labor"),           ROW_KEY("disability_grade"),
                                      ROW_KEY("serious_illness"), ROW_KEY("incapacitated"),
                                      ROW_KEY("student"),         ROW_KEY("birth_year")};
        const json_t *x[ELEMENTSOF(keys)];

        json_array_foreach (members, i, m) {
                if (n >= FACTS_MAX_MEMBERS)
                        break;
                ExprValue *r = f->members[n++];
                row_fields(m, keys, ELEMENTSOF(keys), x);
                r[M_LABOR] = j_str(x[0]);
                r[M_GRADE] = j_int(x[1]);
                r[M_ILLNESS] = j_bool(x[2]);
                r[M_INCAPACITATED] = j_bool(x[3]);
                r[M_STUDENT] = j_bool(x[4]);
                r[M_BIRTH_YEAR] = j_int(x[5]);
                r[M_AGE] = r[M_BIRTH_YEAR].absent || r[M_BIRTH_YEAR].num > this_year
                               ? v_absent(EXPR_NUMBER)
                               : v_num(this_year - r[M_BIRTH_YEAR].num);
        }
        f->rows[C_MEMBERS] = (ExprRows){&f->members[0][0], n, N_M};
}

static void fill_needs(Facts *f, const json_t *doc)
{
        size_t n = 0;
        int64_t urgent = 0;
        const char *k;
        json_t *v;
        static const RowKey keys[] = {ROW_KEY("category"), ROW_KEY("channel"), ROW_KEY("urgent"),
                                      ROW_KEY("reported_on")};
        const json_t *x[ELEMENTSOF(keys)];

        json_object_foreach ((json_t *)json_object_get(doc, "needs"), k, v) {
                if (n >= FACTS_MAX_NEEDS)
                        break;
                ExprValue *r = f->needs[n++];
                row_fields(v, keys, ELEMENTSOF(keys), x);
                r[N_CATEGORY] = j_str(x[0]);
                r[N_CHANNEL] = j_str(x[1]);
                r[N_URGENT] = j_bool(x[2]);
                r[N_REPORTED_ON] = j_date(x[3]);
                if (!r[N_URGENT].absent && r[N_URGENT].b)
                        urgent += 100;
        }
        f->rows[C_NEEDS] = (ExprRows){&f->needs[0][0], n, N_N};
        f->vars[V_OPEN_NEEDS] = v_num((int64_t)n * 100);
        f->vars[V_URGENT_NEEDS] = v_num(urgent);
}

static void fill_incidents(Facts *f, const json_t *doc, int32_t today)
{
        const json_t *members = json_object_get(json_object_get(doc, "profile"), "members");
        size_t nd = 0, na = 0, nk = 0, i;
        int64_t major = 0;
        json_t *inc;

        /* Every kind's fields in one walk of the row (a kind's row lacks
         * the others'). */
        enum {
                KIND,
                DATE,
                DISASTER,
                HOUSE,
                DEATHS,
                INJURED,
                INCOME_LOSS,
                PROPERTY_LOSS,
                MEMBER,
                ACCIDENT_KIND,
                LABOR_LOST,
                MEDICAL_COST,
                CLAIM_KIND,
                MAJOR,
                OUT_OF_POCKET,
                TOTAL,
        };
        static const RowKey keys[] = {
            ROW_KEY("kind"),          ROW_KEY("date"),          ROW_KEY("disaster"),
            ROW_KEY("house_damage"),  ROW_KEY("deaths"),        ROW_KEY("injured"),
            ROW_KEY("income_loss"),   ROW_KEY("property_loss"), ROW_KEY("member_id"),
            ROW_KEY("accident_kind"), ROW_KEY("labor_lost"),    ROW_KEY("medical_cost"),
            ROW_KEY("claim_kind"),    ROW_KEY("major_disease"), ROW_KEY("out_of_pocket"),
            ROW_KEY("total")};
        const json_t *x[ELEMENTSOF(keys)];

        json_array_foreach (json_object_get(doc, "incidents"), i, inc) {
                row_fields(inc, keys, ELEMENTSOF(keys), x);
                const char *kind = json_string_value(x[KIND]);
                ExprValue date = j_date(x[DATE]);
                if (!kind || date.absent || date.date > today ||
                    (int64_t)today - date.date > FACTS_WINDOW_DAYS)
                        continue;
                if (streq(kind, "disaster") && nd < FACTS_MAX_INCIDENTS) {
                        ExprValue *r = f->disasters[nd++];
                        r[D_DATE] = date;
                        r[D_DISASTER] = j_str(x[DISASTER]);
                        r[D_HOUSE_DAMAGE] = j_str(x[HOUSE]);
                        r[D_DEATHS] = j_int(x[DEATHS]);
                        r[D_INJURED] = j_int(x[INJURED]);
                        r[D_INCOME_LOSS] = j_fen(x[INCOME_LOSS]);
                        r[D_PROPERTY_LOSS] = j_fen(x[PROPERTY_LOSS]);
                } else if (streq(kind, "accident") && na < FACTS_MAX_INCIDENTS) {
                        ExprValue *r = f->accidents[na++];
                        const json_t *m = member_by_id(members, json_string_value(x[MEMBER]));
                        r[A_DATE] = date;
                        r[A_KIND] = j_str(x[ACCIDENT_KIND]);
                        r[A_LABOR_LOST] = j_bool(x[LABOR_LOST]);
                        r[A_INCOME_LOSS] = j_fen(x[INCOME_LOSS]);
                        r[A_MEDICAL_COST] = j_fen(x[MEDICAL_COST]);
                        r[A_MEMBER_LABOR] = j_str(json_object_get(m, "labor"));
                } else if (streq(kind, "claim") && nk < FACTS_MAX_INCIDENTS) {
                        ExprValue *r = f->claims[nk++];
                        r[K_DATE] = date;
                        r[K_KIND] = j_str(x[CLAIM_KIND]);
                        r[K_MAJOR] = j_bool(x[MAJOR]);
                        r[K_OUT_OF_POCKET] = j_fen(x[OUT_OF_POCKET]);
                        r[K_TOTAL] = j_fen(x[TOTAL]);
                        if (!r[K_MAJOR].absent && r[K_MAJOR].b && !r[K_OUT_OF_POCKET].absent)
                                major = money_add(major, r[K_OUT_OF_POCKET].num);
                }
        }
        f->rows[C_DISASTERS] = (ExprRows){&f->disasters[0][0], nd, N_D};
        f->rows[C_ACCIDENTS] = (ExprRows){&f->accidents[0][0], na, N_A};
        f->rows[C_CLAIMS] = (ExprRows){&f->claims[0][0], nk, N_K};
        f->vars[V_MAJOR_DISEASE] = v_num(major);
}

int facts_fill(Facts *f, const json_t *doc, int32_t today, int64_t monitor_factor,
               const int64_t *thresholds, size_t n)
{
        if (!f || !doc || n > FACTS_MAX_THRESHOLDS || (n > 0 && !thresholds))
                return -EINVAL;
        const json_t *profile = json_object_get(doc, "profile");
        const json_t *members = json_object_get(profile, "members");

        f->today = today;
        f->household_size = (int64_t)household_size(doc);
        f->vars[V_HOUSEHOLD_SIZE] = v_num(f->household_size * 100);
        f->vars[V_STATUS] = j_str(json_object_get(profile, "status"));
        f->vars[V_TOWN] = j_str(json_object_get(profile, "town"));
        f->vars[V_VILLAGE] = j_str(json_object_get(profile, "village"));
        f->vars[V_REGISTERED] = v_bool(household_registered(doc));
        f->vars[V_REMOVED] = v_bool(json_is_true(json_object_get(doc, "removed")));
        fill_income(f, doc, today);
        fill_sums(f, doc, today);
        fill_programs(f, doc, today);
        fill_visit(f, doc);
        fill_members(f, members, today);
        fill_needs(f, doc);
        fill_incidents(f, doc, today);
        f->vars[V_MONITOR_FACTOR] = v_num(monitor_factor);
        for (size_t i = 0; i < n; i++)
                f->vars[N_FIXED + i] = v_num(thresholds[i]);
        return 0;
}

void facts_env(const Facts *f, const ExprFloorLine *lines, size_t n_lines, ExprEnv *env)
{
        *env = (ExprEnv){
            .vars = f->vars,
            .colls = f->rows,
            .today = f->today,
            .household_size = f->household_size,
            .floor_lines = lines,
            .n_floor_lines = n_lines,
        };
}

const ExprValue *facts_get(const Facts *f, const char *name)
{
        for (size_t i = 0; i < N_FIXED; i++)
                if (streq(var_help[i].name, name))
                        return &f->vars[i];
        return NULL;
}

json_t *facts_value_to_json(const ExprValue *v)
{
        char buf[16];

        if (v->absent)
                return json_null();
        switch (v->type) {
        case EXPR_NUMBER:
                return money_to_json(v->num);
        case EXPR_BOOL:
                return json_boolean(v->b);
        case EXPR_STRING:
                return json_string(v->s);
        case EXPR_DATE:
                date_format(v->date, buf, sizeof(buf));
                return json_string(buf);
        }
        return json_null();
}

json_t *facts_to_json(const Facts *f)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        for (size_t i = 0; i < N_FIXED; i++)
                if (json_object_set_new(o, var_help[i].name, facts_value_to_json(&f->vars[i])) < 0)
                        goto fail;
        for (size_t c = 0; c < N_COLLS; c++) {
                const ExprRows *rows = &f->rows[c];
                json_t *arr = json_array();
                if (json_object_set_new(o, colls[c].name, arr) < 0)
                        goto fail;
                for (size_t i = 0; i < rows->n_rows; i++) {
                        json_t *row = json_object();
                        if (json_array_append_new(arr, row) < 0)
                                goto fail;
                        for (size_t k = 0; k < colls[c].n_fields; k++) {
                                const ExprVar *fd = &colls[c].fields[k];
                                const ExprValue *v = rows->rows + i * rows->stride + fd->slot;
                                if (json_object_set_new(row, fd->name, facts_value_to_json(v)) < 0)
                                        goto fail;
                        }
                }
        }
        return o;
fail:
        json_decref(o);
        return NULL;
}
