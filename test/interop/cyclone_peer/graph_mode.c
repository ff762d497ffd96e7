/*
 * `graph`: reads `ros_discovery_info` (rmw_dds_common/msg/ParticipantEntitiesInfo, the 16-byte
 * GID layout of Iron and later) as a ROS 2 node's graph cache does, with types idlc generated,
 * and prints the newest announcement of every participant as one JSON line:
 * {"participants":[{"gid":"<32 hex>","nodes":[{"namespace","name","readers":[hex],"writers":[hex]}]}]}
 * Stops after --seconds, or as soon as a node named --node is announced (then waits 200 ms
 * more for the rest of that announcement's peers).
 */
#include <stdlib.h>
#include <string.h>

#include "modes.h"
#include "peer_common.h"
#include "rmw_dds_common.h"

#define MAX_PARTICIPANTS 64

typedef rmw_dds_common_msg_dds__ParticipantEntitiesInfo_ info_t;

static void gid_hex(FILE *f, const rmw_dds_common_msg_dds__Gid_ *g)
{
  fputc('"', f);
  for (int i = 0; i < 16; i++) fprintf(f, "%02x", g->data[i]);
  fputc('"', f);
}

static void gid_list(FILE *f, const dds_sequence_rmw_dds_common_msg_dds__Gid_ *s)
{
  fputc('[', f);
  for (uint32_t i = 0; i < s->_length; i++) {
    if (i) fputc(',', f);
    gid_hex(f, &s->_buffer[i]);
  }
  fputc(']', f);
}

static bool names_node(const info_t *m, const char *name)
{
  for (uint32_t i = 0; i < m->node_entities_info_seq._length; i++)
    if (!strcmp(m->node_entities_info_seq._buffer[i].node_name, name)) return true;
  return false;
}

int graph_mode(const peer_options_t *o)
{
  const dds_entity_t pp = check(dds_create_participant(peer_domain(), NULL, NULL), "dds_create_participant");
  const dds_entity_t topic =
    check(dds_create_topic(pp, &rmw_dds_common_msg_dds__ParticipantEntitiesInfo__desc, "ros_discovery_info", NULL, NULL), "dds_create_topic");
  /* rmw's publisher: reliable, transient local, keep last 1; a late reader gets the newest. */
  dds_qos_t *q = qos_reliable(100, true);
  const dds_entity_t rd = check(dds_create_reader(pp, topic, q, NULL), "dds_create_reader");
  dds_delete_qos(q);
  const dds_entity_t ws = check(dds_create_waitset(pp), "dds_create_waitset");
  check(dds_waitset_attach(ws, check(dds_create_readcondition(rd, DDS_ANY_STATE), "dds_create_readcondition"), 0), "dds_waitset_attach");

  /* Newest announcement per participant; samples are taken into our own memory, so they can be kept. */
  const dds_topic_descriptor_t *desc = &rmw_dds_common_msg_dds__ParticipantEntitiesInfo__desc;
  info_t *latest[MAX_PARTICIPANTS] = { NULL };
  size_t n_latest = 0;
  uint64_t received = 0;
  const int64_t end = now_ns() + (int64_t) (o->seconds * 1e9);
  int64_t found_at = 0;
  while (!stop_requested && now_ns() < end && !(found_at && now_ns() > found_at + DDS_MSECS(200))) {
    dds_waitset_wait(ws, NULL, 0, DDS_MSECS(50));
    for (;;) {
      void *buf[1] = { dds_alloc(sizeof(info_t)) };
      memset(buf[0], 0, sizeof(info_t));
      dds_sample_info_t si;
      const dds_return_t n = dds_take(rd, buf, &si, 1, 1);
      info_t *m = buf[0];
      if (n <= 0 || !si.valid_data) {
        dds_sample_free(m, desc, DDS_FREE_ALL);
        if (n <= 0) break;
        continue;
      }
      received++;
      size_t k = 0;
      while (k < n_latest && memcmp(latest[k]->gid.data, m->gid.data, 16)) k++;
      if (k == n_latest && n_latest == MAX_PARTICIPANTS) {
        dds_sample_free(m, desc, DDS_FREE_ALL);
        continue;
      }
      if (k == n_latest) n_latest++;
      else dds_sample_free(latest[k], desc, DDS_FREE_ALL);
      latest[k] = m;
      if (o->node && !found_at && names_node(m, o->node)) found_at = now_ns();
    }
  }

  printf("{\"received\":%llu,\"participants\":[", (unsigned long long) received);
  for (size_t k = 0; k < n_latest; k++) {
    const info_t *m = latest[k];
    printf(k ? ",{\"gid\":" : "{\"gid\":");
    gid_hex(stdout, &m->gid);
    printf(",\"nodes\":[");
    for (uint32_t j = 0; j < m->node_entities_info_seq._length; j++) {
      const rmw_dds_common_msg_dds__NodeEntitiesInfo_ *ni = &m->node_entities_info_seq._buffer[j];
      printf(j ? ",{\"namespace\":" : "{\"namespace\":");
      json_string(stdout, ni->node_namespace);
      printf(",\"name\":");
      json_string(stdout, ni->node_name);
      printf(",\"readers\":");
      gid_list(stdout, &ni->reader_gid_seq);
      printf(",\"writers\":");
      gid_list(stdout, &ni->writer_gid_seq);
      printf("}");
    }
    printf("]}");
    dds_sample_free(latest[k], desc, DDS_FREE_ALL);
  }
  printf("]}\n");
  check(dds_delete(pp), "dds_delete participant");
  return o->node && !found_at ? 1 : 0;
}
