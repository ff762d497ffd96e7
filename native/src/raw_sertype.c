/*
 * Opaque-CDR sertype for Cyclone DDS 0.10. ROS 2 topics are keyless, so key operations are
 * trivial; every serdata owns one contiguous copy of the serialized sample so a reader can hand
 * it to JavaScript without copying again (the JS view keeps a serdata reference). Large samples
 * live in pooled slots (sample_pool.h) reused from frame to frame; small ones follow the header.
 * Either way the CDR body (after the 4-byte encapsulation header) is 8-byte aligned, so arrays
 * in it can be viewed in place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "dds/dds.h"
#include "dds/ddsrt/heap.h"
#include "dds/ddsrt/string.h"
#include "dds/ddsi/ddsi_sertype.h"
#include "dds/ddsi/ddsi_serdata.h"
#include "dds/ddsi/q_radmin.h"
#include "dds/ddsrt/endian.h"
#ifdef DDS_HAS_SHM
#include <pthread.h>
#include "dds/ddsi/ddsi_shm_transport.h"
#include "iceoryx_binding_c/config.h"
#include "iox_chunk_header.h"
#endif

#include "raw_sertype.h"
#include "sample_pool.h"

typedef struct sr_raw_serdata {
  struct ddsi_serdata c;
  /* The sample's size, encapsulation header included (implied or not). */
  size_t size;
  /* In `slot`, or just past this struct (INLINE_OFFSET on), or NULL for key-only serdata; with
     `implied_header`, the CDR body in a received iceoryx chunk (see serdata_from_iox). */
  unsigned char *data;
  sr_pool_slot_t *slot;
  /* `data` is the body alone (size - 4 bytes), in the chunk `c.iox_chunk`; the header is
     NATIVE_CDR_HEADER. Bytes past the chunk's payload start end at `data + chunk_extent`. */
  bool implied_header;
  size_t chunk_extent;
  /* Received chunks: their subscriber's record (see sr_iox_subscriber_gone), NULL for others. */
  struct iox_sub_rec *iox_rec;
  /* Received chunks: iceoryx's queue for this subscriber overflowed before this one came. */
  bool iox_lost_before;
} sr_raw_serdata_t;

/* Shared memory (iceoryx) carries the CDR body without its encapsulation header, in the writer's
   byte order: what Cyclone's own sertype and rmw_cyclonedds put in a chunk. ROS 2 types are
   final structs, so that body is XCDR1; the header is implied (both ends are on one host). */
static const unsigned char NATIVE_CDR_HEADER[4] = { 0x00, DDSRT_ENDIAN == DDSRT_LITTLE_ENDIAN ? 0x01 : 0x00, 0x00, 0x00 };

/* `sz` bytes of the sample from `off` (header included), whether the header is stored or implied. */
static void serdata_read (const sr_raw_serdata_t *d, size_t off, size_t sz, unsigned char *buf)
{
  if (!d->implied_header)
  {
    memcpy (buf, d->data + off, sz);
    return;
  }
  if (off < 4)
  {
    const size_t n = sz < 4 - off ? sz : 4 - off;
    memcpy (buf, NATIVE_CDR_HEADER + off, n);
    buf += n; off += n; sz -= n;
  }
  if (sz > 0)
    memcpy (buf, d->data + (off - 4), sz);
}

/* Inline bytes start 4 bytes into an 8-aligned area, as pooled ones do (SR_POOL_SAMPLE_OFFSET). */
#define INLINE_OFFSET ((size_t) 4)

static sr_raw_serdata_t *serdata_alloc (const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, size_t size)
{
  sr_pool_slot_t *slot = sr_pool_acquire (size);
  sr_raw_serdata_t *d = ddsrt_malloc (sizeof (*d) + (slot || size == 0 ? 0 : size + 16));
  ddsi_serdata_init (&d->c, type, kind);
  /* Keyless: every sample is the same instance, so the hash is the type's. */
  d->c.hash = type ? type->serdata_basehash : 0;
  d->size = size;
  d->slot = slot;
  d->implied_header = false;
  d->chunk_extent = 0;
  d->iox_rec = NULL;
  d->iox_lost_before = false;
  if (slot)
    d->data = sr_pool_sample (slot);
  else if (size > 0)
  {
    /* 16 spare bytes cover rounding the struct's end up to 8 plus INLINE_OFFSET. */
    uintptr_t end = (uintptr_t) (d + 1);
    end = (end + 7) & ~(uintptr_t) 7;
    d->data = (unsigned char *) end + INLINE_OFFSET;
  }
  else
    d->data = NULL;
  return d;
}

static bool serdata_eqkey (const struct ddsi_serdata *a, const struct ddsi_serdata *b)
{
  (void) a; (void) b;
  return true;
}

static uint32_t serdata_size (const struct ddsi_serdata *dcmn)
{
  return (uint32_t) ((const sr_raw_serdata_t *) dcmn)->size;
}

static struct ddsi_serdata *serdata_from_ser (const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, const struct nn_rdata *fragchain, size_t size)
{
  sr_raw_serdata_t *d = serdata_alloc (type, kind, size);
  /* Fragments may overlap; copy each byte once, in order. */
  size_t off = 0;
  for (const struct nn_rdata *f = fragchain; f != NULL && off < size; f = f->nextfrag)
  {
    if (f->maxp1 <= off)
      continue;
    const unsigned char *payload = NN_RMSG_PAYLOADOFF (f->rmsg, NN_RDATA_PAYLOAD_OFF (f));
    size_t end = f->maxp1 < size ? f->maxp1 : size;
    memcpy (d->data + off, payload + (off - f->min), end - off);
    off = end;
  }
  return &d->c;
}

static struct ddsi_serdata *serdata_from_ser_iov (const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, ddsrt_msg_iovlen_t niov, const ddsrt_iovec_t *iov, size_t size)
{
  sr_raw_serdata_t *d = serdata_alloc (type, kind, size);
  size_t off = 0;
  for (ddsrt_msg_iovlen_t i = 0; i < niov && off < size; i++)
  {
    size_t n = iov[i].iov_len;
    if (n > size - off)
      n = size - off;
    memcpy (d->data + off, iov[i].iov_base, n);
    off += n;
  }
  return &d->c;
}

static struct ddsi_serdata *serdata_from_keyhash (const struct ddsi_sertype *type, const struct ddsi_keyhash *keyhash)
{
  (void) keyhash;
  return &serdata_alloc (type, SDK_KEY, 0)->c;
}

static struct ddsi_serdata *serdata_from_sample (const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, const void *sample)
{
  const sr_raw_sample_t *s = sample;
  sr_raw_serdata_t *d = serdata_alloc (type, kind, s->size);
  if (s->size > 0)
    memcpy (d->data, s->data, s->size);
  return &d->c;
}

static void serdata_to_ser (const struct ddsi_serdata *dcmn, size_t off, size_t sz, void *buf)
{
  serdata_read ((const sr_raw_serdata_t *) dcmn, off, sz, buf);
}

/* A received chunk's serdata is never sent on (Cyclone transmits writers' serdata), but if it
   were, a range covering the implied header and the body is not contiguous anywhere: it is
   copied into memory that serdata_to_ser_unref frees. */
static struct ddsi_serdata *serdata_to_ser_ref (const struct ddsi_serdata *dcmn, size_t off, size_t sz, ddsrt_iovec_t *ref)
{
  const sr_raw_serdata_t *d = (const sr_raw_serdata_t *) dcmn;
  if (!d->implied_header)
    ref->iov_base = d->data + off;
  else if (off >= 4)
    ref->iov_base = d->data + (off - 4);
  else if (off + sz <= 4)
    ref->iov_base = (void *) (NATIVE_CDR_HEADER + off);
  else
  {
    ref->iov_base = ddsrt_malloc (sz);
    serdata_read (d, off, sz, ref->iov_base);
  }
  ref->iov_len = (ddsrt_iov_len_t) sz;
  return ddsi_serdata_ref (dcmn);
}

static void serdata_to_ser_unref (struct ddsi_serdata *dcmn, const ddsrt_iovec_t *ref)
{
  const sr_raw_serdata_t *d = (const sr_raw_serdata_t *) dcmn;
  if (d->implied_header)
  {
    const unsigned char *p = ref->iov_base;
    const bool in_body = p >= d->data && p <= d->data + (d->size - 4);
    const bool in_header = p >= NATIVE_CDR_HEADER && p <= NATIVE_CDR_HEADER + 4;
    if (!in_body && !in_header)
      ddsrt_free (ref->iov_base);
  }
  ddsi_serdata_unref (dcmn);
}

static bool serdata_to_sample (const struct ddsi_serdata *dcmn, void *sample, void **bufptr, void *buflim)
{
  (void) bufptr; (void) buflim;
  const sr_raw_serdata_t *d = (const sr_raw_serdata_t *) dcmn;
  sr_raw_sample_t *s = sample;
  ddsrt_free (s->data);
  s->data = d->size > 0 ? ddsrt_malloc (d->size) : NULL;
  if (s->data)
    serdata_read (d, 0, d->size, s->data);
  s->size = d->size;
  return true;
}

static struct ddsi_serdata *serdata_to_untyped (const struct ddsi_serdata *dcmn)
{
  /* Keyless: the untyped form (used for instance bookkeeping) carries no key bytes. */
  sr_raw_serdata_t *d = serdata_alloc (dcmn->type, SDK_KEY, 0);
  d->c.type = NULL;
  d->c.hash = dcmn->hash;
  return &d->c;
}

static bool serdata_untyped_to_sample (const struct ddsi_sertype *type, const struct ddsi_serdata *d, void *sample, void **bufptr, void *buflim)
{
  (void) type; (void) d; (void) sample; (void) bufptr; (void) buflim;
  return true;
}

#ifdef DDS_HAS_SHM
static void iox_chunk_release (sr_raw_serdata_t *d);
#endif

static void serdata_free (struct ddsi_serdata *dcmn)
{
  sr_raw_serdata_t *d = (sr_raw_serdata_t *) dcmn;
#ifdef DDS_HAS_SHM
  /* A received chunk goes back to its subscriber, unless that is gone (then iceoryx took the
     chunk back with it); a writer's chunk is published (and its pointer cleared) or released by
     Cyclone itself. */
  if (d->iox_rec != NULL)
    iox_chunk_release (d);
#endif
  if (d->slot)
    sr_pool_release (d->slot);
  ddsrt_free (d);
}

static size_t serdata_print (const struct ddsi_sertype *type, const struct ddsi_serdata *dcmn, char *buf, size_t size)
{
  const sr_raw_serdata_t *d = (const sr_raw_serdata_t *) dcmn;
  return (size_t) snprintf (buf, size, "%s: %zu CDR bytes", type ? type->type_name : "(untyped)", d->size);
}

static void serdata_get_keyhash (const struct ddsi_serdata *d, struct ddsi_keyhash *buf, bool force_md5)
{
  (void) d; (void) force_md5;
  memset (buf->value, 0, sizeof (buf->value));
}

bool sr_raw_shm_header_ok (const void *header)
{
  return memcmp (header, NATIVE_CDR_HEADER, 2) == 0;
}

#ifdef DDS_HAS_SHM
static uint32_t serdata_iox_size (const struct ddsi_serdata *dcmn)
{
  const sr_raw_serdata_t *d = (const sr_raw_serdata_t *) dcmn;
  return d->size >= 4 ? (uint32_t) (d->size - 4) : 0;
}

/*
 * Bytes from `p` to the end of the memory mapping that holds it (0 if none does), from
 * /proc/self/maps, cached: iceoryx maps its segments once for the process's life, so a few
 * entries serve every chunk. Why: the chunk header lives in the chunk, in memory every publisher
 * on the host can write, so its chunk_size is a claim, not a fact. A publisher that says 4 GB
 * (test/interop/cyclone_shm_hostile, case chunk_size_4g) made this sertype take a 2 GB body
 * from a chunk of a few hundred bytes, and the reader read (copied) far past RouDi's segment:
 * SIGSEGV. Within the mapping, a lie reads only the segment's other chunks, which that
 * publisher can read anyway.
 */
typedef struct map_range { uintptr_t lo, hi; } map_range_t;
static map_range_t map_cache[16];
static size_t n_map_cache;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

size_t sr_mapped_after (const void *p)
{
  const uintptr_t a = (uintptr_t) p;
  size_t left = 0;
  pthread_mutex_lock (&map_lock);
  for (size_t i = 0; i < n_map_cache && left == 0; i++)
    if (a >= map_cache[i].lo && a < map_cache[i].hi)
      left = map_cache[i].hi - a;
#ifdef __linux__
  if (left == 0)
  {
    FILE *f = fopen ("/proc/self/maps", "r");
    char line[512];
    while (f != NULL && left == 0 && fgets (line, sizeof (line), f) != NULL)
    {
      unsigned long lo, hi;
      if (sscanf (line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi)
      {
        left = hi - a;
        if (n_map_cache < sizeof (map_cache) / sizeof (map_cache[0]))
          map_cache[n_map_cache++] = (map_range_t) { lo, hi };
      }
    }
    if (f != NULL)
      fclose (f);
  }
#endif
  pthread_mutex_unlock (&map_lock);
  return left;
}

/* The body's size in a chunk, or SIZE_MAX when the chunk holds no serialized sample that fits.
   `extent` (if not NULL): the chunk's bytes from the payload's start to the chunk's end.
   Everything in a received chunk is the publisher's word, headers included: Cyclone itself
   checks only that the header's guid names a writer it knows (shm_monitor.c). So the user
   header must be a whole iceoryx_header_t between the chunk header and the payload (with a
   smaller one, or none, its fields would be read from the payload: a chunk could then be its
   own header and a forged body at once), the state must say serialized data, data_size must
   fit the payload, the payload the chunk, and the chunk the memory mapped there. */
static size_t chunk_body_size (void *chunk, size_t *extent)
{
  const iceoryx_header_t *h = iceoryx_header_from_chunk (chunk);
  const struct iox_chunk_header_v1 *ch = (const struct iox_chunk_header_v1 *) iox_chunk_header_from_user_payload (chunk);
  const size_t payload_offset = (size_t) ((const unsigned char *) chunk - (const unsigned char *) ch);
  if (h == NULL || ch->version != 1 || ch->user_header_size < sizeof (iceoryx_header_t) ||
      payload_offset < sizeof (*ch) + sizeof (iceoryx_header_t) || (const void *) h != (const void *) (ch + 1))
    return SIZE_MAX;
  if (h->shm_data_state != IOX_CHUNK_CONTAINS_SERIALIZED_DATA || h->data_size > ch->user_payload_size ||
      payload_offset > ch->chunk_size || ch->user_payload_size > ch->chunk_size - payload_offset ||
      ch->chunk_size > sr_mapped_after (ch))
    return SIZE_MAX;
  if (extent)
    *extent = ch->chunk_size - payload_offset;
  return h->data_size;
}

/* Samples received over shared memory from this size on (header included) are not copied out
   of their chunk: the same threshold as pooled memory, so what was lent from a pool slot before
   is now lent from the chunk. Smaller ones are copied (cheap, and they can be given or copied
   to JS without holding a chunk). */
#define SR_IOX_IN_PLACE_MIN_BYTES SR_POOL_MIN_BYTES

static uint64_t iox_in_place_count, iox_copied_count;

/*
 * The iceoryx subscribers of received samples still alive. A received serdata names its
 * subscriber by a pointer into Cyclone's reader (&reader->m_iox_sub), and deleting the reader
 * frees that and deinitialises the subscriber, whose chunks iceoryx then takes back: a sample
 * that outlives its reader (a JS lease, or our reader's queue) must then not be released through
 * it. So each serdata holds a counted record of its subscriber, which the reader marks gone once
 * dds_delete returned (sr_iox_subscriber_gone) and takes off the list of live ones, so that a
 * later reader allocated at the same address gets a record of its own. A record goes with the
 * last sample holding it: there are at most as many as samples alive, however many readers were
 * deleted (a list of gone subscribers kept forever grew by one per deleted reader and was
 * scanned on every sample's release).
 */
typedef struct iox_sub_rec {
  const void *sub;
  uint64_t refs;
  bool gone;
  struct iox_sub_rec *next;
} iox_sub_rec_t;
static pthread_mutex_t subs_lock = PTHREAD_MUTEX_INITIALIZER;
/* Records of subscribers not gone, the number of records (these and gone ones), and of the
   received samples holding a chunk (the records' references). */
static iox_sub_rec_t *live_subs;
static uint64_t n_sub_recs, n_chunks_held;

static iox_sub_rec_t *iox_sub_rec_ref (const void *sub)
{
  pthread_mutex_lock (&subs_lock);
  iox_sub_rec_t *rec = live_subs;
  while (rec != NULL && rec->sub != sub)
    rec = rec->next;
  if (rec == NULL)
  {
    rec = ddsrt_malloc (sizeof (*rec));
    rec->sub = sub;
    rec->refs = 0;
    rec->gone = false;
    rec->next = live_subs;
    live_subs = rec;
    n_sub_recs++;
  }
  rec->refs++;
  n_chunks_held++;
  pthread_mutex_unlock (&subs_lock);
  return rec;
}

static void iox_sub_unlink (iox_sub_rec_t *rec)
{
  iox_sub_rec_t **p = &live_subs;
  while (*p != rec)
    p = &(*p)->next;
  *p = rec->next;
}

/* Under the lock, so that the release and the subscriber's going are never interleaved. */
static void iox_chunk_release (sr_raw_serdata_t *d)
{
  iox_sub_rec_t *rec = d->iox_rec;
  pthread_mutex_lock (&subs_lock);
  if (!rec->gone)
    free_iox_chunk (d->c.iox_subscriber, &d->c.iox_chunk);
  n_chunks_held--;
  if (--rec->refs == 0)
  {
    if (!rec->gone)
      iox_sub_unlink (rec);
    ddsrt_free (rec);
    n_sub_recs--;
  }
  pthread_mutex_unlock (&subs_lock);
  d->iox_rec = NULL;
}

void sr_iox_subscriber_gone (const void *sub)
{
  if (sub == NULL)
    return;
  pthread_mutex_lock (&subs_lock);
  iox_sub_rec_t *rec = live_subs;
  while (rec != NULL && rec->sub != sub)
    rec = rec->next;
  /* None: no sample received through it is alive. */
  if (rec != NULL)
  {
    iox_sub_unlink (rec);
    rec->gone = true;
  }
  pthread_mutex_unlock (&subs_lock);
}

void sr_iox_get_stats (uint64_t *in_place, uint64_t *copied, uint64_t *subscribers, uint64_t *chunks_held)
{
  *in_place = __atomic_load_n (&iox_in_place_count, __ATOMIC_RELAXED);
  *copied = __atomic_load_n (&iox_copied_count, __ATOMIC_RELAXED);
  pthread_mutex_lock (&subs_lock);
  *subscribers = n_sub_recs;
  *chunks_held = n_chunks_held;
  pthread_mutex_unlock (&subs_lock);
}

void sr_raw_serdata_release_copied_chunk (struct ddsi_serdata *sd)
{
  sr_raw_serdata_t *d = (sr_raw_serdata_t *) sd;
  if (d->iox_rec != NULL && !d->implied_header)
    iox_chunk_release (d);
}

uint64_t sr_raw_serdata_iox_chunks_held (const struct ddsi_serdata *sd)
{
  const sr_raw_serdata_t *d = (const sr_raw_serdata_t *) sd;
  if (d->iox_rec == NULL)
    return 0;
  pthread_mutex_lock (&subs_lock);
  const uint64_t n = d->iox_rec->refs;
  pthread_mutex_unlock (&subs_lock);
  return n;
}

/* `sub` set: a chunk received from another writer over shared memory. A large sample (camera
   images) stays in its chunk: the serdata points at the body there, its header implied
   (implied_header), and the reader lends JS a view of the chunk itself. Why: copying it out cost
   the shm monitor thread ~0.5 ms of CPU per 640x480 RGB-D frame (1.8 MB read from memory another
   process wrote), a third of the node's budget. A small one, or one at an address not 8-aligned
   (its arrays could not be viewed in place), is copied with the header put back, as is a chunk
   of this process's writer (`sub` NULL, serialize_into has just filled `buffer`). Cyclone 0.10
   makes that one only when iceoryx alone carries the sample (no network or local non-iceoryx
   reader: those get a serdata_from_sample) and reads only its kind, timestamp and key before
   publishing the chunk and dropping it, so its copy is not needed (measured: 0.03 ms of a
   1.2 MB write's 0.07 ms, and a pool slot); it is kept so that a writer's serdata stays a whole
   sample whatever a later Cyclone does with it.
   Either way the chunk stays with the serdata (Cyclone reads the chunk's header after this
   returns, and publishes a writer's chunk) and goes back to iceoryx once: a copied one's when
   the reader takes the sample (sr_raw_serdata_release_copied_chunk), one left in place in
   serdata_free, when the last reference (the reader's queue's or a JS lease's) goes.
   A chunk without a serialized sample in it (raw data from a fixed-size type, or a size larger
   than the chunk) gives an empty sample, which the reader counts as malformed: Cyclone
   dereferences what this returns, so it never returns NULL. */
static struct ddsi_serdata *serdata_from_iox (const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, void *sub, void *buffer)
{
  if (sub != NULL)
    sr_iox_chunk_adopted (buffer);
#ifdef __linux__
  /* Received chunks come on iceoryx's listener thread, which has the process's name ("node") like
     V8's helpers: named here once, its CPU can be told apart (bench:dds counts it as DDS receive). */
  static _Thread_local bool named;
  if (sub != NULL && !named)
  {
    prctl (PR_SET_NAME, "sr-shm-recv", 0, 0, 0);
    named = true;
  }
#endif
  size_t extent = 0;
  const size_t body = chunk_body_size (buffer, &extent);
  sr_raw_serdata_t *d;
  if (sub != NULL && body != SIZE_MAX && body + 4 >= SR_IOX_IN_PLACE_MIN_BYTES && ((uintptr_t) buffer & 7) == 0)
  {
    d = serdata_alloc (type, kind, 0);
    d->data = buffer;
    d->size = body + 4;
    d->implied_header = true;
    d->chunk_extent = extent;
    __atomic_fetch_add (&iox_in_place_count, 1, __ATOMIC_RELAXED);
  }
  else
  {
    d = serdata_alloc (type, kind, body == SIZE_MAX ? 0 : body + 4);
    if (body != SIZE_MAX)
    {
      memcpy (d->data, NATIVE_CDR_HEADER, 4);
      memcpy (d->data + 4, buffer, body);
      if (sub != NULL)
        __atomic_fetch_add (&iox_copied_count, 1, __ATOMIC_RELAXED);
    }
  }
  d->c.iox_chunk = buffer;
  d->c.iox_subscriber = sub;
  if (sub != NULL)
  {
    d->iox_rec = iox_sub_rec_ref (sub);
    /* iceoryx evicts the oldest chunk from a subscriber's queue (its capacity is the reader's
       keep-last depth) when this thread falls behind the writers, and Cyclone 0.10 neither asks
       nor counts: the loss would be silent. iceoryx keeps a flag, cleared on reading (atomic). */
    d->iox_lost_before = iox_sub_has_lost_chunks (*(iox_sub_t *) sub);
  }
  return &d->c;
}

bool sr_raw_serdata_iox_lost_before (const struct ddsi_serdata *sd)
{
  return ((const sr_raw_serdata_t *) sd)->iox_lost_before;
}

const void *sr_raw_serdata_iox_subscriber (const struct ddsi_serdata *sd)
{
  return sd->iox_chunk != NULL ? sd->iox_subscriber : NULL;
}

uint32_t sr_iox_max_chunks_held (void)
{
  return iox_cfg_max_chunks_held_per_subscriber_simultaneously ();
}
#else
bool sr_raw_serdata_iox_lost_before (const struct ddsi_serdata *sd)
{
  (void) sd;
  return false;
}

void sr_iox_get_stats (uint64_t *in_place, uint64_t *copied, uint64_t *subscribers, uint64_t *chunks_held)
{
  *in_place = 0;
  *copied = 0;
  *subscribers = 0;
  *chunks_held = 0;
}

void sr_raw_serdata_release_copied_chunk (struct ddsi_serdata *sd)
{
  (void) sd;
}

uint64_t sr_raw_serdata_iox_chunks_held (const struct ddsi_serdata *sd)
{
  (void) sd;
  return 0;
}

void sr_iox_subscriber_gone (const void *sub)
{
  (void) sub;
}

const void *sr_raw_serdata_iox_subscriber (const struct ddsi_serdata *sd)
{
  (void) sd;
  return NULL;
}

uint32_t sr_iox_max_chunks_held (void)
{
  return 0;
}

size_t sr_mapped_after (const void *p)
{
  (void) p;
  return 0;
}
#endif

static const struct ddsi_serdata_ops raw_serdata_ops = {
  .eqkey = serdata_eqkey,
  .get_size = serdata_size,
  .from_ser = serdata_from_ser,
  .from_ser_iov = serdata_from_ser_iov,
  .from_keyhash = serdata_from_keyhash,
  .from_sample = serdata_from_sample,
  .to_ser = serdata_to_ser,
  .to_ser_ref = serdata_to_ser_ref,
  .to_ser_unref = serdata_to_ser_unref,
  .to_sample = serdata_to_sample,
  .to_untyped = serdata_to_untyped,
  .untyped_to_sample = serdata_untyped_to_sample,
  .free = serdata_free,
  .print = serdata_print,
  .get_keyhash = serdata_get_keyhash,
#ifdef DDS_HAS_SHM
  .get_sample_size = serdata_iox_size,
  .from_iox_buffer = serdata_from_iox,
#endif
};

static void sertype_free (struct ddsi_sertype *tp)
{
  ddsi_sertype_fini (tp);
  ddsrt_free (tp);
}

static void sertype_zero_samples (const struct ddsi_sertype *d, void *samples, size_t count)
{
  (void) d;
  memset (samples, 0, count * sizeof (sr_raw_sample_t));
}

static void sertype_realloc_samples (void **ptrs, const struct ddsi_sertype *d, void *old, size_t oldcount, size_t count)
{
  (void) d;
  sr_raw_sample_t *s = ddsrt_realloc (old, count * sizeof (*s));
  if (count > oldcount)
    memset (s + oldcount, 0, (count - oldcount) * sizeof (*s));
  for (size_t i = 0; i < count; i++)
    ptrs[i] = &s[i];
}

static void sertype_free_samples (const struct ddsi_sertype *d, void **ptrs, size_t count, dds_free_op_t op)
{
  (void) d;
  if (count == 0)
    return;
  sr_raw_sample_t *s = ptrs[0];
  for (size_t i = 0; i < count; i++)
  {
    ddsrt_free (s[i].data);
    s[i].data = NULL;
    s[i].size = 0;
  }
  if (op & DDS_FREE_ALL_BIT)
    ddsrt_free (s);
}

static bool sertype_equal (const struct ddsi_sertype *a, const struct ddsi_sertype *b)
{
  /* The generic code already compared type names and ops; nothing else distinguishes two. */
  (void) a; (void) b;
  return true;
}

static uint32_t sertype_hash (const struct ddsi_sertype *tp)
{
  (void) tp;
  return 0;
}

/* Used only for shared memory, which takes the body alone (see NATIVE_CDR_HEADER). */
static size_t sertype_get_serialized_size (const struct ddsi_sertype *d, const void *sample)
{
  (void) d;
  const sr_raw_sample_t *s = sample;
  return s->size >= 4 ? s->size - 4 : 0;
}

static bool sertype_serialize_into (const struct ddsi_sertype *d, const void *sample, void *dst, size_t dst_size)
{
  (void) d;
  const sr_raw_sample_t *s = sample;
  /* Another byte order or representation cannot be told apart in a chunk: refused. */
  if (s->size < 4 || !sr_raw_shm_header_ok (s->data) || s->size - 4 > dst_size)
    return false;
  memcpy (dst, (const unsigned char *) s->data + 4, s->size - 4);
  return true;
}

static const struct ddsi_sertype_ops raw_sertype_ops = {
  .version = ddsi_sertype_v0,
  .arg = NULL,
  .free = sertype_free,
  .zero_samples = sertype_zero_samples,
  .realloc_samples = sertype_realloc_samples,
  .free_samples = sertype_free_samples,
  .equal = sertype_equal,
  .hash = sertype_hash,
  /* No XTypes type information: peers match on the type name, as with rmw_cyclonedds. */
  .type_id = NULL,
  .type_map = NULL,
  .type_info = NULL,
  .derive_sertype = NULL,
  .get_serialized_size = sertype_get_serialized_size,
  .serialize_into = sertype_serialize_into,
};

struct ddsi_sertype *sr_raw_sertype_new (const char *type_name)
{
  struct ddsi_sertype *tp = ddsrt_malloc (sizeof (*tp));
  ddsi_sertype_init_flags (tp, type_name, &raw_sertype_ops, &raw_serdata_ops, DDSI_SERTYPE_FLAG_TOPICKIND_NO_KEY);
  /* ROS 2 data is plain XCDR1 (final structs); this is what rmw_cyclonedds announces. */
  tp->allowed_data_representation = DDS_DATA_REPRESENTATION_FLAG_XCDR1;
  return tp;
}

struct ddsi_serdata *sr_raw_serdata_from_bytes (const struct ddsi_sertype *type, const void *data, size_t size)
{
  sr_raw_serdata_t *d = serdata_alloc (type, SDK_DATA, size);
  if (size > 0)
    memcpy (d->data, data, size);
  return &d->c;
}

const unsigned char *sr_raw_serdata_bytes (const struct ddsi_serdata *sd, size_t *size)
{
  const sr_raw_serdata_t *d = (const sr_raw_serdata_t *) sd;
  *size = d->size;
  return d->implied_header ? NULL : d->data;
}

void sr_raw_serdata_copy (const struct ddsi_serdata *sd, void *buf)
{
  const sr_raw_serdata_t *d = (const sr_raw_serdata_t *) sd;
  serdata_read (d, 0, d->size, buf);
}

const unsigned char *sr_raw_serdata_chunk_body (const struct ddsi_serdata *sd, size_t *body_size, size_t *extent)
{
  const sr_raw_serdata_t *d = (const sr_raw_serdata_t *) sd;
  if (!d->implied_header)
    return NULL;
  *body_size = d->size - 4;
  *extent = d->chunk_extent;
  return d->data;
}

sr_pool_slot_t *sr_raw_serdata_slot (const struct ddsi_serdata *sd)
{
  return ((const sr_raw_serdata_t *) sd)->slot;
}

struct ddsi_serdata *sr_serdata_ref (struct ddsi_serdata *sd)
{
  return ddsi_serdata_ref (sd);
}

void sr_serdata_unref (struct ddsi_serdata *sd)
{
  ddsi_serdata_unref (sd);
}

struct ddsi_sertype *sr_sertype_ref (struct ddsi_sertype *tp)
{
  return ddsi_sertype_ref (tp);
}

void sr_sertype_unref (struct ddsi_sertype *tp)
{
  ddsi_sertype_unref (tp);
}
