/*
 * A guard between Cyclone DDS 0.10 and iceoryx's subscriber: this addon defines
 * iox_sub_take_chunk, so Cyclone's calls (libddsc imports it; the dynamic linker resolves it in
 * the addon first, the root of the libraries loaded with it) come here. The real one (next in
 * the lookup order, RTLD_NEXT) takes the chunk; the guard hands Cyclone only chunks it can read
 * safely, and takes the next one instead of any other.
 *
 * Why: a received chunk's headers are in memory every process that can reach RouDi can write,
 * and Cyclone's shm_monitor.c reads the iceoryx_header_t through them before any code of ours
 * runs: a chunk without a user header (or with its id cleared) made it read through NULL, and
 * one whose user_payload_offset points far away made it read the back-offset before a wild
 * address: SIGSEGV in the node's process (test/interop/cyclone_peer iox-hostile --crash-case
 * 1..3). Checked here: the 4 bytes before the payload (iceoryx's back-offset to its chunk header)
 * and the chunk header plus an iceoryx_header_t after it lie in mapped memory; the back-offset
 * and the header's user_payload_offset agree; the header says it has a user header. A refused
 * chunk is counted (errors.shm_chunk_refused, see iox_errors.h) and given back to iceoryx when
 * its header is its own (the release looks the chunk up from the back-offset; a wrong one makes
 * iceoryx abort), else kept: one of the subscriber's chunks is lost to it, not the process. A
 * back-offset and header forged to agree cannot be told from the chunk's own: iceoryx's release
 * then finds nothing and the error handler lets it fail (iox_errors.h).
 *
 * It also gives back what Cyclone 0.10.0-0.10.4 keeps: a chunk whose header names a writer
 * Cyclone does not know (not yet discovered, or a guid a hostile process made up) is skipped by
 * shm_monitor.c without being released (fixed in 0.10.5, 84b8713), so ~256 of them left the
 * reader unable to take anything. Cyclone handles a subscriber's chunks one at a time on its
 * monitor thread, each taken under the subscriber's lock, and turns every chunk of a known
 * writer into a sample through this addon's sertype (sr_iox_chunk_adopted, same thread). So
 * when the next take on that subscriber comes (under its lock again) and the chunk handed out
 * before was not adopted, Cyclone dropped it: the guard releases it and counts it.
 *
 * Where the addon is not the first to load libddsc (another addon in the process loaded it
 * before), Cyclone is bound to iceoryx directly and nothing here runs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "dds/dds.h"
#include "dds/version.h"

#ifdef DDS_HAS_SHM
#include "dds/ddsi/ddsi_shm_transport.h"
#include "iceoryx_binding_c/subscriber.h"
#include "iox_chunk_header.h"
#include "iox_errors_c.h"
#include "raw_sertype.h"

typedef enum iox_ChunkReceiveResult (*take_fn) (iox_sub_t, const void **);
static take_fn real_take;
static pthread_once_t real_take_once = PTHREAD_ONCE_INIT;

static void find_real_take (void)
{
  real_take = (take_fn) dlsym (RTLD_NEXT, "iox_sub_take_chunk");
}

#if DDS_VERSION_MAJOR == 0 && DDS_VERSION_MINOR == 10 && DDS_VERSION_PATCH < 5
#define SR_RELEASE_DROPPED_CHUNKS 1
#endif

/* The chunk last handed to Cyclone on this thread and its subscriber; the chunk last adopted. */
static _Thread_local const void *handed;
static _Thread_local iox_sub_t handed_sub;
static _Thread_local const void *adopted;

void sr_iox_chunk_adopted (const void *chunk)
{
  adopted = chunk;
}

typedef enum { CHUNK_OK, CHUNK_BAD, CHUNK_BAD_KEEP } chunk_verdict_t;

static chunk_verdict_t check_chunk (const void *payload)
{
  const unsigned char *p = (const unsigned char *) payload;
  if ((uintptr_t) p < 4 || sr_mapped_after (p - 4) < 4)
    return CHUNK_BAD_KEEP;
  uint32_t back;
  memcpy (&back, p - 4, sizeof back);
  const unsigned char *h = p - back;
  if (back > (uintptr_t) p || sr_mapped_after (h) < sizeof (struct iox_chunk_header_v1) + sizeof (iceoryx_header_t))
    return CHUNK_BAD_KEEP;
  struct iox_chunk_header_v1 ch;
  memcpy (&ch, h, sizeof ch);
  if (ch.user_payload_offset != back)
    return CHUNK_BAD_KEEP;
  /* iceoryx's ChunkHeader::userHeader() is NULL for NO_USER_HEADER (0). */
  if (ch.user_header_id == 0)
    return CHUNK_BAD;
  return CHUNK_OK;
}

__attribute__ ((visibility ("default")))
enum iox_ChunkReceiveResult iox_sub_take_chunk (iox_sub_t const self, const void **const userPayload)
{
  pthread_once (&real_take_once, find_real_take);
  if (real_take == NULL)
    return ChunkReceiveResult_UNDEFINED_ERROR;
#ifdef SR_RELEASE_DROPPED_CHUNKS
  if (handed != NULL && handed_sub == self && handed != adopted)
  {
    iox_sub_release_chunk (self, handed);
    sr_iox_count_refused ();
  }
  handed = NULL;
#endif
  for (;;)
  {
    const enum iox_ChunkReceiveResult r = real_take (self, userPayload);
    if (r != ChunkReceiveResult_SUCCESS)
      return r;
    const chunk_verdict_t v = check_chunk (*userPayload);
    if (v == CHUNK_OK)
    {
      handed = *userPayload;
      handed_sub = self;
      adopted = NULL;
      return r;
    }
    sr_iox_count_refused ();
    if (v == CHUNK_BAD)
      iox_sub_release_chunk (self, *userPayload);
    *userPayload = NULL;
  }
}
#endif
