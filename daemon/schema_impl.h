/* The schema module's private structures and helpers, shared by schema*.c
 * only: everyone else goes through schema.h. */
#pragma once

#include <jansson.h>
#include <locale.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "schema.h"

#define SCHEMA_MAX_DEPTH 64    /* nesting of subschemas in a document */
#define SCHEMA_MAX_NODES 65536 /* subschemas in a document */
#define SCHEMA_MAX_INPLACE 64  /* longest chain of in-place applicators */
#define VALUE_MAX_DEPTH 64     /* nesting of const and enum values */
#define PTR_MAX 512            /* JSON pointer text in compile errors */
#define TEXT_MAX 256           /* enum and const renderings in messages */

#define DIALECT_2020_12 "https://json-schema.org/draft/2020-12/schema"

/* ---- bounded, UTF-8 safe text output (schema_value.c) ------------------- */

typedef struct Out {
        char *buf;
        size_t size;
        size_t len;
        bool full; /* truncated once: later writes are dropped */
} Out;

/* Starts o on buf[0..size) with an empty string. */
void schema_out_init(Out *o, char *buf, size_t size);
/* Append to o; text past its end is cut at a UTF-8 boundary and dropped. */
void schema_out_write(Out *o, const char *s, size_t n);
void schema_out_str(Out *o, const char *s);
void schema_out_vprintf(Out *o, const char *fmt, va_list ap);
_printf_(2, 3) void schema_out_printf(Out *o, const char *fmt, ...);
/* Writes s[0..n) with control characters, backslash and quote escaped. */
void schema_out_escaped(Out *o, const char *s, size_t n, char quote);

/* ---- numbers, types, equality (schema_value.c) -------------------------- */

/* A JSON number kept exactly as jansson holds it. */
typedef struct Num {
        bool is_int;
        json_int_t i;
        double d;
} Num;

Num schema_num_of(const json_t *v);
/* Returns <0, 0, >0 as a <, ==, > b; 1 == 1.0. */
int schema_num_cmp(Num a, Num b);
/* Writes n in its shortest round-tripping form ("0.01", not 0.0100000...). */
void schema_out_num(Out *o, Num n);
/* Whether x is a multiple of m (m > 0). */
bool schema_num_multiple_of(Num x, Num m);

/* Instance type bits (Node.types). */
enum {
        T_NULL = 1 << 0,
        T_BOOLEAN = 1 << 1,
        T_OBJECT = 1 << 2,
        T_ARRAY = 1 << 3,
        T_NUMBER = 1 << 4,
        T_INTEGER = 1 << 5,
        T_STRING = 1 << 6,
};

/* Type bits an instance satisfies: an integer is a number, a whole real is an
 * integer. */
unsigned schema_type_bits(const json_t *v);
/* The type name of v for messages (static text). */
const char *schema_type_name_of(const json_t *v);
/* Sets *bit to the type bit of a "type" keyword name; -EINVAL if unknown. */
int schema_type_bit(const char *name, unsigned *bit);
/* Writes the names of the type bits in types: "a, b or c". */
void schema_out_types(Out *o, unsigned types);
/* JSON Schema equality: 1 equal, 0 not, -ELOOP when nesting exceeds depth. */
int schema_deep_equal(const json_t *a, const json_t *b, unsigned depth);
/* A hash consistent with schema_deep_equal; -ELOOP as there. */
int schema_deep_hash(const json_t *v, unsigned depth, uint64_t *ret);
/* Whether v nests no deeper than depth. */
bool schema_value_depth_ok(const json_t *v, unsigned depth);

static inline int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* ---- compiled nodes ----------------------------------------------------- */

typedef struct Regex {
        regex_t re;
        bool compiled;
        uint64_t id;  /* unique per compiled pattern, for the search memo */
        char *source; /* the ECMA pattern, for messages */
        /* A pattern ^[class]{min,max}$ of ASCII letters, digits, _ and -
         * (the schemas' ids): matched by this table, not regexec. */
        bool run;
        uint8_t run_set[16]; /* bit c: byte c (< 128) is in the class */
        size_t run_min, run_max;
} Regex;

typedef struct Node Node;

typedef struct PatternProp {
        Regex rx;
        Node *node;
} PatternProp;

typedef enum Format {
        FORMAT_NONE,
        FORMAT_DATE,
        FORMAT_DATE_TIME,
} Format;

/* Assertion bits of Node.has. */
enum {
        K_TYPE = 1u << 0,
        K_CONST = 1u << 1,
        K_ENUM = 1u << 2,
        K_MINIMUM = 1u << 3,
        K_MAXIMUM = 1u << 4,
        K_XMINIMUM = 1u << 5,
        K_XMAXIMUM = 1u << 6,
        K_MULTIPLE = 1u << 7,
        K_MINLEN = 1u << 8,
        K_MAXLEN = 1u << 9,
        K_PATTERN = 1u << 10,
        K_FORMAT = 1u << 11,
        K_MINITEMS = 1u << 12,
        K_MAXITEMS = 1u << 13,
        K_UNIQUE = 1u << 14,
        K_ITEMS = 1u << 15, /* prefixItems or items */
        K_REQUIRED = 1u << 16,
        K_MINPROPS = 1u << 17,
        K_MAXPROPS = 1u << 18,
        K_PROPS = 1u << 19, /* properties, patternProperties or additionalProperties */
        K_APPLY = 1u << 20, /* $ref, allOf, anyOf, oneOf, not, if */
        K_FALSE = 1u << 21, /* the boolean schema false */

        K_NUMBER = K_MINIMUM | K_MAXIMUM | K_XMINIMUM | K_XMAXIMUM | K_MULTIPLE,
        K_STRING = K_MINLEN | K_MAXLEN | K_PATTERN | K_FORMAT,
        K_ARRAY = K_MINITEMS | K_MAXITEMS | K_UNIQUE | K_ITEMS,
        K_OBJECT = K_REQUIRED | K_MINPROPS | K_MAXPROPS | K_PROPS,
};

typedef struct NodeList {
        Node **v;
        size_t n;
} NodeList;

struct Node {
        unsigned has;
        unsigned types;
        json_t *const_value; /* owned copy */
        json_t *enum_values; /* owned copy, an array */
        char *const_text;    /* "must equal ..." */
        char *enum_text;     /* "must be one of ..." */
        Num minimum, maximum, xminimum, xmaximum, multiple_of;
        size_t min_length, max_length, min_items, max_items, min_props, max_props;
        Regex pattern;
        Format format;
        NodeList prefix_items;
        Node *items;
        json_t *required;   /* owned copy, an array of strings */
        json_t *prop_index; /* property name -> index into props */
        NodeList props;
        PatternProp *pattern_props;
        size_t n_pattern_props;
        Node *additional;
        json_t *defs_index; /* $defs name -> index into defs */
        NodeList defs;
        char *ref_text; /* the $ref as written */
        Node *ref;
        NodeList all_of, any_of, one_of;
        Node *not_schema, *if_schema, *then_schema, *else_schema;

        char *where; /* JSON pointer of this node, for compile errors */
        unsigned mark, chain, stack_pos;
};

struct Schema {
        Node *root;
        Node **nodes; /* every node, owned */
        size_t n_nodes, cap_nodes;
};

typedef struct Compiler {
        Schema *schema;
        Out err;
        char ptr[PTR_MAX]; /* JSON pointer of the value being compiled */
        size_t ptr_len;
        locale_t c_locale;
        bool nomem; /* memory failed: the error is -ENOMEM, not the schema's */
} Compiler;

/* ---- the compiler (schema_compile.c, schema_keywords.c) ------------------ */

/* Writes "#<pointer>: <message>" to the compiler's error. Returns -EINVAL. */
_printf_(2, 3) int schema_cerr(Compiler *c, const char *fmt, ...);
/* Writes "out of memory". Returns -ENOMEM. */
int schema_cerr_nomem(Compiler *c);
/* Appends "/key" (escaped per RFC 6901) to the pointer. Returns the length
 * to give schema_ptr_pop(). */
size_t schema_ptr_push(Compiler *c, const char *key, size_t len);
size_t schema_ptr_push_index(Compiler *c, size_t i);
void schema_ptr_pop(Compiler *c, size_t saved);
/* Allocates a node at the current pointer, owned by the schema. */
int schema_node_new(Compiler *c, Node **ret);
/* Compiles regex source (an ECMA pattern) into rx (freed with its node). */
int schema_regex_compile(Compiler *c, const char *src, size_t len, Regex *rx);
/* Returns 1 when rx matches somewhere in s[0..len), 0 when not, -ENOMEM. */
int schema_regex_search(const Regex *rx, const char *s, size_t len);
/* Compiles the schema v at the current pointer into a new node (owned by the
 * schema) stored in *ret (schema_keywords.c). */
int schema_compile_node(Compiler *c, json_t *v, unsigned depth, Node **ret);
