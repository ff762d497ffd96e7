/*
 * `fixed-writer`: writes --count samples of a fixed-size type (shm_probe.idl) on --topic, reliable
 * keep-last 10, 50 ms apart, after a reader matched. Over Cyclone's shared memory such samples
 * travel as raw memory, not CDR: test/interop/cyclone_shm checks that the node's sertype turns
 * them into empty (malformed) samples instead of reading them as CDR or crashing.
 */
#include <stdio.h>
#include <string.h>

#include "dds/ddsc/dds_loan_api.h"
#include "modes.h"
#include "peer_common.h"
#include "shm_probe.h"

int fixed_writer_mode(const peer_options_t *o)
{
  const dds_entity_t pp = check(dds_create_participant(peer_domain(), NULL, NULL), "dds_create_participant");
  char name[512];
  ros_topic(name, sizeof name, "", o->topic[0] == '/' ? o->topic + 1 : o->topic);
  const dds_entity_t topic = check(dds_create_topic(pp, &spatial_reward_test_msg_dds__Fixed__desc, name, NULL, NULL), "dds_create_topic");
  dds_qos_t *q = qos_reliable(10, false);
  const dds_entity_t wr = check(dds_create_writer(pp, topic, q, NULL), "dds_create_writer");
  dds_delete_qos(q);
  if (wait_matched(wr, o->wait_subscribers_ms > 0 ? o->wait_subscribers_ms : 10000) < 0) {
    fprintf(stderr, "cyclone_peer fixed-writer: no reader on %s\n", name);
    dds_delete(pp);
    return 1;
  }
  const uint64_t n = o->count > 0 ? o->count : 5;
  for (uint64_t i = 0; i < n && !stop_requested; i++) {
    spatial_reward_test_msg_dds__Fixed_ s;
    memset(s.data, (int) (i + 1), sizeof s.data);
    check(dds_write(wr, &s), "dds_write");
    dds_sleepfor(DDS_MSECS(50));
  }
  printf("{\"written\":%llu,\"shared_memory\":%s}\n", (unsigned long long) n, dds_is_shared_memory_available(wr) ? "true" : "false");
  dds_sleepfor(DDS_MSECS(300));
  dds_delete(pp);
  return 0;
}
