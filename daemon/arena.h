/* A bump allocator for jansson's values while one batch is worked.
 *
 * Why: a batch parses every household document it touches into jansson
 * values, steps and evaluates them, and frees them all at its end. With
 * malloc, allocating and freeing those values was a quarter of hearthd's
 * CPU (perf, `make bench`). Inside arena_enter()/arena_leave() jansson
 * takes its memory from one region by moving a pointer; its frees there do
 * nothing; the last arena_leave() takes the region back in one step. The
 * region is ARENA_REGION_BYTES; what a scope needs beyond it comes from
 * malloc as before.
 *
 * The rule that makes it safe: a jansson value made inside the scope dies
 * with it. Nothing made there may be kept afterwards (copy it out: a C
 * string with strdup(), a JSON text with jsonfast_dump()). Text that
 * jansson itself allocates for the caller (json_dumps) is freed with
 * free(), so it must come from arena_json_dumps(), which takes it from
 * malloc even inside the scope.
 *
 * Values made outside the scope are untouched: their frees, also inside
 * it, go to free(). One thread only enters scopes: hearthd's loop. Other
 * threads (librdkafka's) are never in a scope, so their jansson values, if
 * any, come from malloc; two threads in scopes at once would share the
 * region and must not be. The sanitizer build poisons what a scope took
 * from the region when the scope ends, so a value used after its scope
 * ended is reported. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* The region's size. Only the pages a scope touched take memory. The
 * largest batches of make bench (500 households of a year, the default
 * pipeline.batch_max until 2026-12-06; 250 since) need 17-19 MiB:
 * a household's document read into jansson is about 21 KiB. With 16 MiB
 * those spilled; hearthd's peak RSS moved by a few MiB between runs with
 * either size (54.4-61.5 MiB), within the 64 MiB target. */
#define ARENA_REGION_BYTES (32u * 1024 * 1024)

/* Points jansson at the arena's functions; once, before any jansson value
 * exists (main). Without it the scopes do nothing. */
void arena_install(void);
/* Scopes nest; the outermost arena_leave() releases the region. */
void arena_enter(void);
void arena_leave(void);
/* json_decref, except for a value from the region: the scope's end takes
 * it whole, so walking its tree to free it would be work for nothing
 * (perf: a tenth of hearthd's CPU). Once a scope took memory from malloc
 * (the region was full), it walks as json_decref does: the tree may hold
 * values from malloc. Only for values that hold nothing made outside the
 * scope (their references would never be dropped). */
void arena_decref(json_t *v);
/* json_dumps, its text from malloc (the caller free()s it). */
char *arena_json_dumps(const json_t *v, size_t flags);
/* Bytes handed out since the region was last released; and the most the
 * region held at once. */
size_t arena_used(void);
size_t arena_peak(void);
/* Unmaps the region (a clean shutdown). */
void arena_shutdown(void);
