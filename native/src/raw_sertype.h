/*
 * A Cyclone DDS sertype whose samples are already-serialized CDR bytes (4-byte encapsulation
 * header + payload). Serialization happens in TypeScript; DDS only carries the bytes under a
 * ROS 2 type name. Topics are keyless, as every ROS 2 topic is.
 */
#ifndef SPATIAL_REWARD_RAW_SERTYPE_H
#define SPATIAL_REWARD_RAW_SERTYPE_H

#include <stddef.h>
#include <stdint.h>
#include "dds/dds.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ddsi_sertype;
struct ddsi_serdata;
struct sr_pool_slot;

/* The sample type seen by dds_write/dds_take with sample pointers (we use the cdr calls). */
typedef struct sr_raw_sample {
  void *data;
  size_t size;
} sr_raw_sample_t;

/* A new sertype (refcount owned by the caller until dds_create_topic_sertype takes it). */
struct ddsi_sertype *sr_raw_sertype_new (const char *type_name);

/* A serdata holding a copy of `size` bytes; the bytes must start with a CDR encapsulation header. */
struct ddsi_serdata *sr_raw_serdata_from_bytes (const struct ddsi_sertype *type, const void *data, size_t size);

/* The bytes of a serdata made by this sertype (header included); NULL for one whose body stays
   in a shared-memory chunk (see sr_raw_serdata_chunk_body). */
const unsigned char *sr_raw_serdata_bytes (const struct ddsi_serdata *sd, size_t *size);

/*
 * A sample received over shared memory and left in its iceoryx chunk: its CDR body (8-aligned,
 * `*body_size` bytes; the encapsulation header is implied: native byte order, XCDR1) and the
 * chunk's bytes from there to its end (`*extent`). NULL for every other serdata. The chunk is
 * the serdata's until its last reference goes; its memory stays mapped for the process's life
 * (iceoryx maps RouDi's segments once), and holds other samples after that.
 */
const unsigned char *sr_raw_serdata_chunk_body (const struct ddsi_serdata *sd, size_t *body_size, size_t *extent);

/* Whether a sample with this encapsulation header (4 bytes) can go in a shared-memory chunk,
   which carries the body alone: only native byte order XCDR1, the header a reader implies. */
bool sr_raw_shm_header_ok (const void *header);

/* The whole sample, header included (an implied one written out), into `buf` (get_size bytes). */
void sr_raw_serdata_copy (const struct ddsi_serdata *sd, void *buf);

/* The iceoryx subscriber a sample received over shared memory came through (NULL for others). */
const void *sr_raw_serdata_iox_subscriber (const struct ddsi_serdata *sd);
/*
 * Says that subscriber's reader was deleted (dds_delete returned): samples received through it
 * before then no longer return their chunk through it when they go (iceoryx took the chunks back
 * with the subscriber; the memory stays mapped, so views of them stay readable, but iceoryx gives
 * those chunks to writers again: what the views show may change).
 */
void sr_iox_subscriber_gone (const void *sub);

/* Samples received over shared memory so far: left in their chunk, and copied out of it; the
   iceoryx subscribers tracked for the received samples still alive, and the samples alive that
   still hold their chunk. */
void sr_iox_get_stats (uint64_t *in_place, uint64_t *copied, uint64_t *subscribers, uint64_t *chunks_held);

/*
 * A taken sample that was copied out of its shared-memory chunk when it arrived (small, or not
 * 8-aligned) gives the chunk back now rather than when the sample goes: the JS view of a given
 * sample lives until V8 collects it, and each chunk kept that long is one fewer for the writer
 * (RouDi's pools are the host's) and for the subscriber (iceoryx lets it hold 256). Call only
 * on a sample Cyclone has handed over (dds_takecdr): it read the chunk's header before.
 */
void sr_raw_serdata_release_copied_chunk (struct ddsi_serdata *sd);

/* How many samples received through this sample's iceoryx subscriber (it included) still hold
   their chunk; 0 for a sample that holds none. */
uint64_t sr_raw_serdata_iox_chunks_held (const struct ddsi_serdata *sd);

/* Bytes from `p` to the end of the memory mapping holding it, 0 if none does (from
   /proc/self/maps, cached; shared-memory builds only, 0 otherwise). */
size_t sr_mapped_after (const void *p);

/* Called by the sertype for each received chunk Cyclone makes a sample of, on Cyclone's thread
   (iox_take_guard.c: a chunk not adopted was dropped by Cyclone). */
void sr_iox_chunk_adopted (const void *chunk);

/* How many chunks iceoryx lets one subscriber hold at once (its build's
   MAX_CHUNKS_HELD_PER_SUBSCRIBER_SIMULTANEOUSLY, 256 in Debian's); 0 without shared memory. Past
   it Cyclone takes nothing more from the subscriber and only logs it (shm_monitor.c). */
uint32_t sr_iox_max_chunks_held (void);

/* A chunk received over shared memory whose subscriber's iceoryx queue had overflowed (one or
   more older chunks evicted unseen) since the last one came. */
bool sr_raw_serdata_iox_lost_before (const struct ddsi_serdata *sd);

/* The pooled slot holding a serdata's bytes, or NULL when they are inline (small samples). */
struct sr_pool_slot *sr_raw_serdata_slot (const struct ddsi_serdata *sd);

/* Reference counting, so C++ code need not include Cyclone's internal ddsi headers. */
struct ddsi_serdata *sr_serdata_ref (struct ddsi_serdata *sd);
void sr_serdata_unref (struct ddsi_serdata *sd);
struct ddsi_sertype *sr_sertype_ref (struct ddsi_sertype *tp);
void sr_sertype_unref (struct ddsi_sertype *tp);

#ifdef __cplusplus
}
#endif

#endif
