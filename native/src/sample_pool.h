/*
 * Payload memory for large samples (camera images), reused from sample to sample.
 *
 * Why: a 640x480 RGB-D stream moves ~2.7 MB per frame. Fresh memory per sample costs page
 * faults and zeroed pages in the receive thread, and every fresh block handed to JavaScript is
 * a new external ArrayBuffer, which V8 counts as external memory: at 30 Hz that alone started a
 * full (mark-compact) GC several times a second. A slot keeps its memory, and the reader gives
 * each slot one ArrayBuffer for its lifetime (reader.cc), so a steady stream allocates nothing.
 *
 * Any thread may acquire and release (Cyclone's receive threads make samples, the JS thread and
 * Cyclone's threads drop them). `js`/`js_env` are only touched on the JS thread.
 */
#ifndef SPATIAL_REWARD_SAMPLE_POOL_H
#define SPATIAL_REWARD_SAMPLE_POOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Samples at least this large get pooled memory; smaller ones are cheap to allocate. */
#define SR_POOL_MIN_BYTES ((size_t) 64 * 1024)
/*
 * Where a sample starts in its slot: its CDR body (after the 4-byte encapsulation header) is
 * then 8-byte aligned, so every CDR-aligned array in it can be viewed in place.
 */
#define SR_POOL_SAMPLE_OFFSET ((size_t) 4)
/* Pooled bytes (in use and free) never exceed this; past it samples get plain heap memory. */
#define SR_POOL_MAX_BYTES ((size_t) 1 << 30)
/* Free bytes kept for reuse when the JS thread trims the pool. */
#define SR_POOL_KEEP_FREE_BYTES ((size_t) 64 << 20)

typedef struct sr_pool_slot {
  unsigned char *mem; /* 64-byte aligned, `capacity` bytes */
  size_t capacity;
  /* JS thread only: the slot's ArrayBuffer reference (napi_ref) and the env owning it, or NULL. */
  void *js;
  void *js_env;
  /* Under the pool lock. */
  struct sr_pool_slot *next_free;
  int in_use;
} sr_pool_slot_t;

typedef struct sr_pool_stats {
  uint64_t slots;      /* slots in the pool (in use + free) */
  uint64_t in_use;
  uint64_t bytes;      /* capacity of all slots */
  uint64_t free_bytes;
  uint64_t acquired;   /* acquisitions served */
  uint64_t reused;     /* ... of them from a free slot */
  uint64_t refused;    /* samples left to the heap (pool full or out of memory) */
  uint64_t retired;    /* slots trimmed away */
} sr_pool_stats_t;

/* A slot holding at least SR_POOL_SAMPLE_OFFSET + `sample_bytes`; NULL below SR_POOL_MIN_BYTES, past the cap, or out of memory. */
sr_pool_slot_t *sr_pool_acquire (size_t sample_bytes);
/* Back to the free list (any thread). */
void sr_pool_release (sr_pool_slot_t *slot);
/* The sample's bytes in a slot. */
static inline unsigned char *sr_pool_sample (const sr_pool_slot_t *slot) { return slot->mem + SR_POOL_SAMPLE_OFFSET; }
void sr_pool_get_stats (sr_pool_stats_t *out);
/*
 * Adds `count` (at most 64) free slots of fresh memory for samples of `sample_bytes`, their pages
 * touched, so a stream's first frames find memory ready. Each call adds its own: the pool is the
 * process's, and every camera in it reserves for its images (four cameras reusing one camera's
 * slots grew the pool from 9 to 21 slots in their first frames, each new one faulted in on
 * Cyclone's receive thread). Returns how many were added (fewer: the pool is full).
 */
size_t sr_pool_reserve (size_t sample_bytes, size_t count);
/*
 * JS thread: takes the least recently used free slots out of the pool until at most
 * `keep_free_bytes` stay free, handing each to `retire` (which frees it now with
 * sr_pool_slot_free, or later once its ArrayBuffer is collected).
 */
void sr_pool_trim (size_t keep_free_bytes, void (*retire) (sr_pool_slot_t *slot, void *arg), void *arg);
/* Frees a slot that is no longer in the pool (retired). */
void sr_pool_slot_free (sr_pool_slot_t *slot);

#ifdef __cplusplus
}
#endif

#endif
