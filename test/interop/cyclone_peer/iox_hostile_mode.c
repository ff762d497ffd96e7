/*
 * `iox-hostile`: a hostile process on the host that writes iceoryx chunks straight into the
 * iceoryx service a Cyclone DDS 0.10 reader subscribes to, not through Cyclone, with lying
 * headers and bodies. test/interop/cyclone_shm_hostile checks that the node refuses each one
 * (counted, never a crash, never a wrong message) and still receives the good chunks after them.
 *
 * What a Cyclone 0.10.2 reader does with a chunk (src/core/ddsc/src/dds_reader.c, shm_monitor.c,
 * src/core/ddsi/src/ddsi_shm_transport.c):
 *  - its iceoryx subscriber is iox_sub_init(service = Internal/SharedMemory/Prefix, by default
 *    "DDS_CYCLONE"; instance = the DDS type name; event = the DDS topic name), so any process
 *    attached to RouDi that offers a publisher on that triple reaches it. Queue capacity: the
 *    reader's keep-last depth (or RouDi's maximum).
 *  - receive_data_wakeup_handler takes each chunk, reads Cyclone's iceoryx_header_t from the
 *    chunk's user header (iceoryx_header_from_chunk: iox_chunk_header_from_user_payload, which
 *    trusts the back-offset in the 4 bytes before the payload, then the ChunkHeader's user-header
 *    position, without looking at the user header's size), looks its `guid` up in the entity
 *    index and IGNORES the chunk unless it names a known local writer or proxy writer; 0.10.2 also
 *    never releases such an ignored chunk (fixed upstream in 0.10.3, commit 84b8713f5 "Fix
 *    subscriber's chunk leak in shm_monitor"), so each one stays held by the reader's subscriber.
 *  - for a known guid it calls the sertype's from_iox_buffer (ddsi_serdata_from_iox) with
 *    data_kind from the header, then sets timestamp and statusinfo from the header. It checks
 *    nothing else: not shm_data_state, not data_size. Those are the sertype's to check
 *    (native/src/raw_sertype.c chunk_body_size).
 * So to reach the node's sertype this program needs the guid of a writer the node knows: it
 * creates an ordinary Cyclone writer on the topic (CYCLONEDDS_URI without shared memory: this
 * process's iceoryx runtime is its own, named below), waits until the node's reader matched it,
 * and writes that writer's guid into the headers. `--guid unknown` uses a made-up guid instead.
 *
 * Every chunk is published on its own, `--interval` ms apart, so the reader's iceoryx queue (its
 * keep-last depth) never overflows: each one is taken by Cyclone's listener thread.
 * One JSON line per chunk ({"case", "frame_id"} where a body names one) and a summary at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <unistd.h>

#include "dds/dds.h"
#include "dds/ddsc/dds_loan_api.h"
#include "dds/ddsi/ddsi_shm_transport.h"
#include "iceoryx_binding_c/chunk.h"
#include "iceoryx_binding_c/publisher.h"
#include "iceoryx_binding_c/runtime.h"

#include "modes.h"
#include "peer_common.h"
#include "sensor_msgs.h"

/* The chunk header's fields, which a hostile publisher writes: the layout the node's sertype
   reads (native/src/iox_chunk_header.h). */
#include "iox_chunk_header.h"

/* --- little-endian XCDR1 bodies (no encapsulation header: a chunk carries the body alone) --- */
typedef struct cdr { unsigned char *b; size_t n, cap; } cdr_t;

static void cdr_put(cdr_t *c, const void *p, size_t len)
{
  if (c->n + len > c->cap) {
    c->cap = (c->n + len) * 2 + 64;
    c->b = realloc(c->b, c->cap);
    if (!c->b) { perror("realloc"); exit(1); }
  }
  memcpy(c->b + c->n, p, len);
  c->n += len;
}
static void cdr_align(cdr_t *c, size_t a) { static const unsigned char z[8]; if (c->n % a) cdr_put(c, z, a - c->n % a); }
/* This host is little-endian (x86-64, aarch64): values are stored as they are in memory. */
static void cdr_u32(cdr_t *c, uint32_t v) { cdr_align(c, 4); cdr_put(c, &v, 4); }
static void cdr_u8(cdr_t *c, uint8_t v) { cdr_put(c, &v, 1); }
static void cdr_string(cdr_t *c, const char *s, uint32_t declared)
{
  const uint32_t len = (uint32_t) strlen(s) + 1;
  cdr_u32(c, declared ? declared : len);
  cdr_put(c, s, len);
}

/* sensor_msgs/Image: header (stamp, frame_id), height, width, encoding, is_bigendian, step, data.
   `declared_frame` / `declared_data` (nonzero) replace the true lengths of frame_id / data. */
static void image_body(cdr_t *c, const char *frame_id, uint32_t width, uint32_t declared_frame, uint32_t declared_data)
{
  c->n = 0;
  cdr_u32(c, 4242);  /* stamp.sec */
  cdr_u32(c, 7);     /* stamp.nanosec */
  cdr_string(c, frame_id, declared_frame);
  cdr_u32(c, 1);     /* height */
  cdr_u32(c, width);
  cdr_string(c, "mono8", 0);
  cdr_u8(c, 0);      /* is_bigendian */
  cdr_u32(c, width); /* step */
  cdr_u32(c, declared_data ? declared_data : width);
  for (uint32_t i = 0; i < width; i++) cdr_u8(c, (uint8_t) (i * 7 + 3));
}

/* --- the publisher --- */
static iox_pub_t pub;
static ddsi_guid_t writer_guid; /* host byte order, as Cyclone keeps it in its entity index */
static int64_t interval_ms = 40;
static unsigned published;

static void *loan(uint32_t payload_size, uint32_t user_header_size)
{
  void *chunk = NULL;
  enum iox_AllocationResult r = user_header_size
    ? iox_pub_loan_aligned_chunk_with_user_header(pub, &chunk, payload_size, 8, user_header_size, 8)
    : iox_pub_loan_aligned_chunk(pub, &chunk, payload_size, 8);
  if (r != AllocationResult_SUCCESS) { fprintf(stderr, "cyclone_peer iox-hostile: loan of %u bytes failed (%d)\n", payload_size, (int) r); exit(1); }
  return chunk;
}

static struct iox_chunk_header_v1 *chunk_header(void *chunk) { return (struct iox_chunk_header_v1 *) iox_chunk_header_from_user_payload(chunk); }

/* A header as Cyclone's writer fills one (ddsi_shm_transport.c shm_create_chunk, dds_write):
   the writer's guid, a time, statusinfo 0 (data), data_size, SDK_DATA, serialized data. */
static void fill_header(iceoryx_header_t *h, uint32_t data_size, iox_shm_data_state_t state)
{
  memset(h, 0, sizeof *h);
  h->guid = writer_guid;
  h->tstamp = dds_time();
  h->statusinfo = 0;
  h->data_size = data_size;
  h->data_kind = 2; /* SDK_DATA */
  h->shm_data_state = state;
}

/* `data_size`: what the chunk's header says (for the test's expectations). */
static void publish(void *chunk, const char *name, const char *frame_id, uint32_t data_size)
{
  iox_pub_publish_chunk(pub, chunk);
  published++;
  printf("{\"case\":\"%s\",\"data_size\":%u", name, data_size);
  if (frame_id) printf(",\"frame_id\":\"%s\"", frame_id);
  printf("}\n");
  dds_sleepfor(DDS_MSECS(interval_ms));
}

/* A chunk with Cyclone's header and `body` in its payload (payload_size >= body size). */
static void *chunk_with(const cdr_t *body, uint32_t payload_size, uint32_t data_size, iox_shm_data_state_t state)
{
  void *chunk = loan(payload_size, sizeof(iceoryx_header_t));
  memset(chunk, 0, payload_size);
  memcpy(chunk, body->b, body->n < payload_size ? body->n : payload_size);
  fill_header(iox_chunk_header_to_user_header((iox_chunk_header_t *) chunk_header(chunk)), data_size, state);
  return chunk;
}

static void good(cdr_t *c, const char *frame_id, uint32_t width)
{
  image_body(c, frame_id, width, 0, 0);
  publish(chunk_with(c, (uint32_t) c->n, (uint32_t) c->n, IOX_CHUNK_CONTAINS_SERIALIZED_DATA), "good", frame_id, (uint32_t) c->n);
}

/* A body Cyclone would accept, under a header that lies in one way. */
static void lying_header(cdr_t *c, const char *name, uint32_t width, int64_t data_size_delta, int64_t data_size_abs, iox_shm_data_state_t state)
{
  char frame[96];
  snprintf(frame, sizeof frame, "hostile:%s", name);
  image_body(c, frame, width, 0, 0);
  const uint32_t ds = data_size_abs >= 0 ? (uint32_t) data_size_abs : (uint32_t) ((int64_t) c->n + data_size_delta);
  publish(chunk_with(c, (uint32_t) c->n, ds, state), name, frame, ds);
}

/* A valid header over a body that is not a valid Image (declared sizes are the true ones). */
static void lying_body(cdr_t *c, const char *name, uint32_t data_size)
{
  publish(chunk_with(c, (uint32_t) c->n, data_size, IOX_CHUNK_CONTAINS_SERIALIZED_DATA), name, NULL, data_size);
}

/* Fields of a header written at `hdr_off` bytes from the chunk header, where the chunk's user
   header is smaller than iceoryx_header_t or absent: the parts past the user header land in the
   4-byte back-offset (left alone: iceoryx finds the chunk header through it) or in the payload. */
static void put_at(unsigned char *ch, size_t payload_off, size_t off, const void *src, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    size_t at = off + i;
    if (at >= payload_off - 4 && at < payload_off) continue;
    ch[at] = ((const unsigned char *) src)[i];
  }
}

static void short_header(const char *name, uint32_t user_header_size)
{
  /* The payload: zeros, then the header's fields wherever Cyclone reads them. */
  const uint32_t payload_size = 256;
  void *chunk = loan(payload_size, user_header_size);
  memset(chunk, 0, payload_size);
  unsigned char *ch = (unsigned char *) chunk_header(chunk);
  const size_t hdr_off = (size_t) ((unsigned char *) iox_chunk_header_to_user_header((iox_chunk_header_t *) ch) - ch);
  const size_t payload_off = (size_t) ((unsigned char *) chunk - ch);
  iceoryx_header_t h;
  fill_header(&h, payload_size, IOX_CHUNK_CONTAINS_SERIALIZED_DATA);
  if (user_header_size == 16 && payload_off - hdr_off == 24) {
    /* 16 bytes of user header hold the guid; the rest of the header lands in the payload, which
       is built to be a valid Image at the same time: statusinfo 0 = stamp.sec, data_size =
       stamp.nanosec, data_kind 2 + keyhash[0..2] = frame_id's length (2), keyhash[3..] = "F",
       height 1, width 1, encoding's length (4) whose bytes are shm_data_state (2, 0, 0, 0), then
       is_bigendian, step 1 and 1 byte of data. A sertype that reads the header's tail from the
       payload delivers this Image (frame_id "F"); the header is not Cyclone's: it is refused. */
    h.data_size = 45;
    memset(h.keyhash.value, 0, sizeof h.keyhash.value);
    h.keyhash.value[3] = 'F';
    h.keyhash.value[7] = 1;   /* height (payload 16..20) */
    h.keyhash.value[11] = 1;  /* width (payload 20..24) */
    h.keyhash.value[15] = 4;  /* encoding's length (payload 24..28) */
    put_at(ch, payload_off, hdr_off, &h, sizeof h);
    unsigned char *p = chunk;
    p[36] = 1;    /* step */
    p[40] = 1;    /* data's length */
    p[44] = 0xab; /* data */
    publish(chunk, name, "F", h.data_size);
    return;
  }
  put_at(ch, payload_off, hdr_off, &h, sizeof h);
  publish(chunk, name, NULL, h.data_size);
}

/* The chunk header's own fields, which the publisher can overwrite too: `what` says which. */
static void lying_chunk_header(cdr_t *c, const char *name, int what)
{
  char frame[96];
  snprintf(frame, sizeof frame, "hostile:%s", name);
  image_body(c, frame, 100, 0, 0);
  void *chunk = chunk_with(c, (uint32_t) c->n, (uint32_t) c->n, IOX_CHUNK_CONTAINS_SERIALIZED_DATA);
  struct iox_chunk_header_v1 *ch = chunk_header(chunk);
  iceoryx_header_t *h = iox_chunk_header_to_user_header((iox_chunk_header_t *) ch);
  const uint32_t payload_off = (uint32_t) ((unsigned char *) chunk - (unsigned char *) ch);
  switch (what) {
    case 0: /* another chunk-header version */
      ch->version = 2;
      break;
    case 1: /* a payload larger than the chunk */
      ch->user_payload_size = ch->chunk_size;
      h->data_size = ch->chunk_size;
      break;
    case 2: /* a chunk far larger than any of RouDi's: 4 GB, with a 2 GB body to match */
      ch->chunk_size = 0xffffffffu;
      ch->user_payload_size = 0xffffffffu - payload_off;
      h->data_size = 0x7ffffff0u;
      break;
  }
  publish(chunk, name, frame, h->data_size);
}

/* Chunks that crash a Cyclone 0.10.2 reader's process inside Cyclone (shm_monitor.c
   receive_data_wakeup_handler) or iceoryx, before any sertype code:
   1 "no_user_header": iceoryx's ChunkHeader::userHeader() is NULL when the chunk has no user
     header (user_header_id NO_USER_HEADER, iceoryx_posh/source/mepoo/chunk_header.cpp), so
     iceoryx_header_from_chunk returns NULL and Cyclone reads ice_hdr->guid through it.
   2 "user_header_id_zero": the same through a chunk that has a user header but whose
     user_header_id the publisher cleared (the chunk header is in memory it can write).
   3 "payload_offset_wild": the chunk header's user_payload_offset points 3 GB past the chunk;
     iceoryx's subscriber hands that address to Cyclone as the payload, and Cyclone reads the
     back-offset before it (iox_chunk_header_from_user_payload).
   4 "chunk_header_version": a chunk header of version 2. iceoryx's own subscriber
     (ChunkQueuePopper::tryPop) drops it with an error of level SEVERE, and iceoryx_hoofs's
     ErrorHandler::reactOnErrorLevel does assert(false) for SEVERE: Debian's iceoryx 2.0.3 keeps
     assertions, so the reader's process aborts inside iceoryx, before Cyclone sees the chunk.
   The node's addon survives all four (test/interop/cyclone_shm_hostile): it keeps chunks like
   1-3 from Cyclone (native/src/iox_take_guard.c) and replaces iceoryx's reaction to 4
   (native/src/iox_errors.h). Other Cyclone programs on the host still crash on them. */
static void crash_case(cdr_t *c, int which)
{
  image_body(c, "hostile:crash", 100, 0, 0);
  if (which == 5) {
    /* 5 "back_offset_forged": the chunk header's user_payload_offset moved 64 bytes into the
       payload, and the 4 bytes before that address (where iceoryx keeps its back-offset) lead
       into the chunk's 256-byte user header, to a second chunk header that agrees with them
       (its user_payload_offset is that back-offset) and has no user header. A check that the
       back-offset and the header it leads to agree passes; iceoryx's release of that payload
       (ChunkHeader::fromUserPayload, then the subscriber's used-chunk list) finds no such chunk:
       kPOPO__CHUNK_RECEIVER_INVALID_CHUNK_TO_RELEASE_FROM_USER, SEVERE, abort(). Published
       through the true back-offset, which is left alone. */
    void *chunk = loan(256, 256);
    memcpy(chunk, c->b, c->n < 256 ? c->n : 256);
    struct iox_chunk_header_v1 *ch = chunk_header(chunk);
    unsigned char *fake = (unsigned char *) ch + sizeof *ch + 64;
    unsigned char *moved = (unsigned char *) chunk + 64;
    const uint32_t back = (uint32_t) (moved - fake);
    struct iox_chunk_header_v1 f = *ch;
    f.user_header_id = 0;
    f.user_header_size = 0;
    f.user_payload_offset = back;
    memcpy(fake, &f, sizeof f);
    memcpy(moved - 4, &back, 4);
    ch->user_payload_offset += 64;
    publish(chunk, "back_offset_forged", "hostile:crash", (uint32_t) c->n);
    return;
  }
  if (which == 4) {
    lying_chunk_header(c, "chunk_header_version", 0);
    return;
  }
  if (which == 1) {
    void *chunk = loan((uint32_t) c->n, 0);
    memcpy(chunk, c->b, c->n);
    publish(chunk, "no_user_header", "hostile:crash", (uint32_t) c->n);
    return;
  }
  void *chunk = chunk_with(c, (uint32_t) c->n, (uint32_t) c->n, IOX_CHUNK_CONTAINS_SERIALIZED_DATA);
  if (which == 2) {
    chunk_header(chunk)->user_header_id = 0;
    publish(chunk, "user_header_id_zero", "hostile:crash", (uint32_t) c->n);
  } else {
    chunk_header(chunk)->user_payload_offset = 0xc0000000u;
    publish(chunk, "payload_offset_wild", "hostile:crash", (uint32_t) c->n);
  }
}

static void unknown_writer(cdr_t *c, unsigned i)
{
  char frame[96];
  snprintf(frame, sizeof frame, "hostile:unknown_writer_%u", i);
  image_body(c, frame, 100, 0, 0);
  void *chunk = chunk_with(c, (uint32_t) c->n, (uint32_t) c->n, IOX_CHUNK_CONTAINS_SERIALIZED_DATA);
  iceoryx_header_t *h = iox_chunk_header_to_user_header((iox_chunk_header_t *) chunk_header(chunk));
  h->guid.prefix.u[0] ^= 0x5a5a5a5au;
  h->guid.prefix.u[2] = 0x12345678u + i;
  publish(chunk, "unknown_writer", frame, h->data_size);
}

int iox_hostile_mode(const peer_options_t *o)
{
  const char *type = o->type && strcmp(o->type, "image") != 0 ? o->type : "sensor_msgs::msg::dds_::Image_";
  char topic_name[512];
  ros_topic(topic_name, sizeof topic_name, "", o->topic[0] == '/' ? o->topic + 1 : o->topic);

  /* An ordinary DDS writer: only for a guid the node's Cyclone knows (see the file's header). */
  const dds_entity_t pp = check(dds_create_participant(peer_domain(), NULL, NULL), "dds_create_participant");
  const dds_entity_t topic = check(dds_create_topic(pp, &sensor_msgs_msg_dds__Image__desc, topic_name, NULL, NULL), "dds_create_topic");
  dds_qos_t *q = qos_reliable(10, false);
  const dds_entity_t wr = check(dds_create_writer(pp, topic, q, NULL), "dds_create_writer");
  dds_delete_qos(q);
  if (dds_is_shared_memory_available(wr)) {
    /* Cyclone would own this process's iceoryx runtime: give it a configuration without shared memory. */
    fputs("cyclone_peer iox-hostile: run with a CYCLONEDDS_URI without shared memory (e.g. cyclone_lo.xml)\n", stderr);
    return 2;
  }
  dds_guid_t g;
  check(dds_get_guid(wr, &g), "dds_get_guid");
  /* dds_get_guid gives the guid in network byte order; Cyclone's entity index holds it in host order. */
  memcpy(&writer_guid, g.v, sizeof writer_guid);
  for (int i = 0; i < 3; i++) writer_guid.prefix.u[i] = be32toh(writer_guid.prefix.u[i]);
  writer_guid.entityid.u = be32toh(writer_guid.entityid.u);
  if (o->unknown_guid) {
    writer_guid.prefix.u[0] ^= 0xa5a5a5a5u;
    writer_guid.prefix.u[1] ^= 0xa5a5a5a5u;
  }
  const int64_t wait_ms = o->wait_subscribers_ms > 0 ? o->wait_subscribers_ms : 15000;
  if (wait_matched(wr, wait_ms) < 0) {
    fprintf(stderr, "cyclone_peer iox-hostile: no DDS reader matched on %s\n", topic_name);
    return 1;
  }

  char runtime[64];
  snprintf(runtime, sizeof runtime, "sr_iox_hostile_%d", (int) getpid());
  iox_runtime_init(runtime);
  iox_pub_options_t po;
  iox_pub_options_init(&po);
  po.historyCapacity = 0;
  iox_pub_storage_t storage;
  pub = iox_pub_init(&storage, "DDS_CYCLONE", type, topic_name, &po);
  iox_pub_offer(pub);
  const int64_t start = now_ns();
  while (!iox_pub_has_subscribers(pub)) {
    if ((now_ns() - start) / 1000000 > wait_ms || stop_requested) {
      fprintf(stderr, "cyclone_peer iox-hostile: no iceoryx subscriber on DDS_CYCLONE/%s/%s\n", type, topic_name);
      return 1;
    }
    dds_sleepfor(DDS_MSECS(10));
  }
  /* The node's reader has this writer as a proxy writer once its SEDP arrived: the match above is
     the writer's side of the same exchange. */
  dds_sleepfor(DDS_MSECS(500));
  if (o->interval_ms > 0) interval_ms = o->interval_ms;

  cdr_t c = { 0 };
  good(&c, "good:first", 6);
  if (o->crash_cases) {
    /* Not among the default cases: each crashes a plain Cyclone 0.10.2 reader's process before
       its sertype is called (see crash_case). Only the one given by --crash-case is sent. */
    crash_case(&c, o->crash_cases);
  }
  const uint32_t big = 70000; /* past SR_IOX_IN_PLACE_MIN_BYTES (64 KiB): lent in place */
  /* Lying iceoryx_header_t (Cyclone's user header). */
  lying_header(&c, "data_size_over_payload", 100, 1, -1, IOX_CHUNK_CONTAINS_SERIALIZED_DATA);
  lying_header(&c, "data_size_over_payload_large", big, 4096, -1, IOX_CHUNK_CONTAINS_SERIALIZED_DATA);
  lying_header(&c, "data_size_max", 100, 0, 0xffffffffu, IOX_CHUNK_CONTAINS_SERIALIZED_DATA);
  lying_header(&c, "state_raw", 100, 0, -1, IOX_CHUNK_CONTAINS_RAW_DATA);
  lying_header(&c, "state_uninitialized", 100, 0, -1, IOX_CHUNK_UNINITIALIZED);
  lying_header(&c, "state_bogus", 100, 0, -1, (iox_shm_data_state_t) 0x7fffffff);
  for (int n = 0; n <= 3; n++) {
    char name[32];
    snprintf(name, sizeof name, "data_size_%d", n);
    lying_header(&c, name, 100, 0, n, IOX_CHUNK_CONTAINS_SERIALIZED_DATA);
  }
  /* A valid header over a bad body. */
  c.n = 0;
  uint32_t x = 12345;
  for (int i = 0; i < 300; i++) { x = x * 1103515245u + 12345u; cdr_u8(&c, (uint8_t) (x >> 16)); }
  lying_body(&c, "garbage", (uint32_t) c.n);
  image_body(&c, "hostile:truncated", 100, 0, 0);
  lying_body(&c, "truncated", (uint32_t) c.n / 2);
  image_body(&c, "hostile:truncated_large", big, 0, 0);
  lying_body(&c, "truncated_large", (uint32_t) c.n - 10);
  image_body(&c, "hostile:huge_data_length", 100, 0, 0xfffffff0u);
  lying_body(&c, "huge_data_length", (uint32_t) c.n);
  image_body(&c, "hostile:huge_data_length_large", big, 0, 0xfffffff0u);
  lying_body(&c, "huge_data_length_large", (uint32_t) c.n);
  image_body(&c, "hostile:huge_string_length", 100, 0x7fffffffu, 0);
  lying_body(&c, "huge_string_length", (uint32_t) c.n);
  /* A user header smaller than iceoryx_header_t: Cyclone reads the header anyway. */
  short_header("user_header_8", 8);
  short_header("user_header_16_forged_image", 16);
  /* The chunk header's own fields, from a second publisher on the same service, removed after:
     iceoryx's publisher reuses its last chunk for the next loan when no subscriber holds it and
     the chunk header's chunk_size (which we lie about here) says it is large enough, keeping that
     chunk_size (ChunkSender::tryAllocate): the good chunks after would carry the lie too, and a
     large one would overrun the small chunk it really is. */
  iox_pub_t first = pub;
  iox_pub_storage_t storage2;
  pub = iox_pub_init(&storage2, "DDS_CYCLONE", type, topic_name, &po);
  iox_pub_offer(pub);
  while (!iox_pub_has_subscribers(pub) && !stop_requested) dds_sleepfor(DDS_MSECS(10));
  lying_chunk_header(&c, "payload_over_chunk", 1);
  lying_chunk_header(&c, "chunk_size_4g", 2);
  iox_pub_stop_offer(pub);
  iox_pub_deinit(pub);
  pub = first;
  /* A writer Cyclone does not know: ignored by Cyclone (never reaches the sertype). */
  for (unsigned i = 0; i < o->unknown_count; i++) unknown_writer(&c, i);
  /* The reader still works: a small image (copied out of its chunk) and a large one (lent in place). */
  good(&c, "good:small", 6);
  good(&c, "good:large", big);
  free(c.b);
  printf("{\"published\":%u,\"runtime\":\"%s\",\"unknown_guid\":%s}\n", published, runtime, o->unknown_guid ? "true" : "false");
  /* Chunks still held by the reader stay valid after this process is gone (RouDi owns them). */
  dds_sleepfor(DDS_MSECS(300));
  iox_pub_stop_offer(pub);
  iox_pub_deinit(pub);
  iox_runtime_shutdown();
  dds_delete(pp);
  return 0;
}
