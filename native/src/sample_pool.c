#include "sample_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Slot capacities are whole multiples of this, so a stream of one image size reuses one class. */
#define SR_POOL_GRANULE ((size_t) 64 * 1024)
#define SR_POOL_ALIGN ((size_t) 64)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Most recently released first: reuse touches warm memory, trimming takes from the tail. */
static sr_pool_slot_t *free_list = NULL;
static sr_pool_stats_t stats;

static size_t round_up (size_t n, size_t to)
{
  return (n + to - 1) / to * to;
}

/* A slot of fresh memory, counted in use; NULL past the cap or out of memory. */
static sr_pool_slot_t *new_slot (size_t capacity)
{
  pthread_mutex_lock (&lock);
  if (stats.bytes + capacity > SR_POOL_MAX_BYTES)
  {
    stats.refused++;
    pthread_mutex_unlock (&lock);
    return NULL;
  }
  /* Counted before allocating (outside the lock), so concurrent growth cannot pass the cap. */
  stats.bytes += capacity;
  stats.slots++;
  stats.in_use++;
  stats.acquired++;
  pthread_mutex_unlock (&lock);
  sr_pool_slot_t *s = calloc (1, sizeof (*s));
  unsigned char *mem = s ? aligned_alloc (SR_POOL_ALIGN, capacity) : NULL;
  if (mem == NULL)
  {
    free (s);
    pthread_mutex_lock (&lock);
    stats.bytes -= capacity;
    stats.slots--;
    stats.in_use--;
    stats.acquired--;
    stats.refused++;
    pthread_mutex_unlock (&lock);
    return NULL;
  }
  s->mem = mem;
  s->capacity = capacity;
  s->in_use = 1;
  return s;
}

sr_pool_slot_t *sr_pool_acquire (size_t sample_bytes)
{
  if (sample_bytes < SR_POOL_MIN_BYTES || sample_bytes > SR_POOL_MAX_BYTES)
    return NULL;
  const size_t need = sample_bytes + SR_POOL_SAMPLE_OFFSET;
  /* A free slot may be somewhat larger than needed (images of a similar size), not much. */
  const size_t most = need + need / 4 + SR_POOL_GRANULE;
  pthread_mutex_lock (&lock);
  sr_pool_slot_t **link = &free_list;
  for (sr_pool_slot_t *s = free_list; s != NULL; link = &s->next_free, s = s->next_free)
  {
    if (s->capacity >= need && s->capacity <= most)
    {
      *link = s->next_free;
      s->next_free = NULL;
      s->in_use = 1;
      stats.in_use++;
      stats.free_bytes -= s->capacity;
      stats.acquired++;
      stats.reused++;
      pthread_mutex_unlock (&lock);
      return s;
    }
  }
  pthread_mutex_unlock (&lock);
  return new_slot (round_up (need, SR_POOL_GRANULE));
}

void sr_pool_release (sr_pool_slot_t *slot)
{
  pthread_mutex_lock (&lock);
  slot->in_use = 0;
  slot->next_free = free_list;
  free_list = slot;
  stats.in_use--;
  stats.free_bytes += slot->capacity;
  pthread_mutex_unlock (&lock);
}

size_t sr_pool_reserve (size_t sample_bytes, size_t count)
{
  if (sample_bytes < SR_POOL_MIN_BYTES || sample_bytes > SR_POOL_MAX_BYTES)
    return 0;
  /* The size sr_pool_acquire gives a sample of `sample_bytes` when no free slot fits it. */
  const size_t capacity = round_up (sample_bytes + SR_POOL_SAMPLE_OFFSET, SR_POOL_GRANULE);
  sr_pool_slot_t *got[64];
  size_t n = 0;
  while (n < count && n < 64 && (got[n] = new_slot (capacity)) != NULL)
  {
    memset (got[n]->mem, 0, got[n]->capacity);
    n++;
  }
  for (size_t i = 0; i < n; i++)
    sr_pool_release (got[i]);
  return n;
}

void sr_pool_get_stats (sr_pool_stats_t *out)
{
  pthread_mutex_lock (&lock);
  *out = stats;
  pthread_mutex_unlock (&lock);
}

void sr_pool_trim (size_t keep_free_bytes, void (*retire) (sr_pool_slot_t *slot, void *arg), void *arg)
{
  for (;;)
  {
    pthread_mutex_lock (&lock);
    if (stats.free_bytes <= keep_free_bytes || free_list == NULL)
    {
      pthread_mutex_unlock (&lock);
      return;
    }
    sr_pool_slot_t **link = &free_list;
    while ((*link)->next_free != NULL)
      link = &(*link)->next_free;
    sr_pool_slot_t *s = *link;
    *link = NULL;
    stats.free_bytes -= s->capacity;
    stats.bytes -= s->capacity;
    stats.slots--;
    stats.retired++;
    pthread_mutex_unlock (&lock);
    retire (s, arg);
  }
}

void sr_pool_slot_free (sr_pool_slot_t *slot)
{
  free (slot->mem);
  free (slot);
}
