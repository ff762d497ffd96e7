#include "dds_setup.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <fastdds/dds/domain/DomainParticipantFactory.hpp>
#include <fastdds/dds/domain/qos/DomainParticipantQos.hpp>
#include <fastdds/dds/publisher/qos/DataWriterQos.hpp>
#include <fastdds/dds/subscriber/qos/DataReaderQos.hpp>
#include <fastdds/dds/topic/Topic.hpp>
#include <fastdds/rtps/flowcontrol/FlowControllerDescriptor.hpp>
#include <fastdds/rtps/transport/UDPv4TransportDescriptor.h>

namespace peer {

static uint32_t domain_from_env() {
  const char* raw = std::getenv("ROS_DOMAIN_ID");
  if (!raw || !*raw) return 0;
  char* end = nullptr;
  unsigned long d = std::strtoul(raw, &end, 10);
  if (*end != '\0' || d > 232) throw std::runtime_error(std::string("ROS_DOMAIN_ID must be 0..232, got '") + raw + "'");
  return static_cast<uint32_t>(d);
}

static const char* const kFlowController = "fastdds_peer_pacing";

Participant::Participant(const std::string& name, const std::string& iface, double throughput_mb_s)
    : domain_(domain_from_env()), paced_(throughput_mb_s > 0) {
  fdds::DomainParticipantQos pq;
  pq.name(name);
  // rmw puts the security enclave in the participant's user data; harmless elsewhere.
  const std::string enclave = "enclave=/;";
  pq.user_data().data_vec(std::vector<eprosima::fastrtps::rtps::octet>(enclave.begin(), enclave.end()));
  // UDPv4 only: Fast DDS's shared-memory transport (and data sharing, off per endpoint
  // below) would be invisible to Cyclone DDS.
  pq.transport().use_builtin_transports = false;
  auto udp = std::make_shared<eprosima::fastdds::rtps::UDPv4TransportDescriptor>();
  if (!iface.empty()) udp->interfaceWhiteList.push_back(iface);
  // Images arrive as ~2 MB bursts of fragments: room in the socket buffers (the kernel
  // caps these at net.core.[rw]mem_max).
  udp->sendBufferSize = 4 * 1024 * 1024;
  udp->receiveBufferSize = 4 * 1024 * 1024;
  pq.transport().user_transports.push_back(udp);
  if (paced_) {
    auto fc = std::make_shared<eprosima::fastdds::rtps::FlowControllerDescriptor>();
    fc->name = kFlowController;
    fc->period_ms = 1;
    fc->max_bytes_per_period = static_cast<int32_t>(std::min(2.0e9, std::max(1500.0, throughput_mb_s * 1e6 / 1000)));
    pq.flow_controllers().push_back(fc);
  }
  participant_ = fdds::DomainParticipantFactory::get_instance()->create_participant(domain_, pq);
  if (!participant_) throw std::runtime_error("create_participant failed (domain " + std::to_string(domain_) + ")");
  publisher_ = participant_->create_publisher(fdds::PUBLISHER_QOS_DEFAULT);
  subscriber_ = participant_->create_subscriber(fdds::SUBSCRIBER_QOS_DEFAULT);
  if (!publisher_ || !subscriber_) throw std::runtime_error("create_publisher/create_subscriber failed");
}

Participant::~Participant() {
  if (!participant_) return;
  participant_->delete_contained_entities();
  fdds::DomainParticipantFactory::get_instance()->delete_participant(participant_);
}

fdds::Topic* Participant::topic(const std::string& dds_topic, fdds::TypeSupport type) {
  if (!participant_->find_type(type.get_type_name())) {
    if (type.register_type(participant_) != ReturnCode_t::RETCODE_OK)
      throw std::runtime_error("register_type " + type.get_type_name() + " failed");
  }
  fdds::TopicDescription* existing = participant_->lookup_topicdescription(dds_topic);
  if (existing) return static_cast<fdds::Topic*>(existing);
  fdds::Topic* t = participant_->create_topic(dds_topic, type.get_type_name(), fdds::TOPIC_QOS_DEFAULT);
  if (!t) throw std::runtime_error("create_topic " + dds_topic + " failed");
  return t;
}

fdds::DataWriter* Participant::writer(fdds::Topic* topic, const EndpointQos& q) {
  fdds::DataWriterQos wq = publisher_->get_default_datawriter_qos();
  wq.reliability().kind = q.reliable ? fdds::RELIABLE_RELIABILITY_QOS : fdds::BEST_EFFORT_RELIABILITY_QOS;
  wq.durability().kind = q.transient_local ? fdds::TRANSIENT_LOCAL_DURABILITY_QOS : fdds::VOLATILE_DURABILITY_QOS;
  wq.history().kind = fdds::KEEP_LAST_HISTORY_QOS;
  wq.history().depth = q.depth;
  wq.data_sharing().off();
  // Samples larger than a UDP datagram are fragmented; asynchronous publishing sends them
  // from Fast DDS's own thread (write() only queues), as large data wants.
  wq.publish_mode().kind = fdds::ASYNCHRONOUS_PUBLISH_MODE;
  if (paced_) wq.publish_mode().flow_controller_name = kFlowController;
  // Unbounded types: payloads sized per sample and reused, not preallocated at m_typeSize.
  wq.endpoint().history_memory_policy = eprosima::fastrtps::rtps::DYNAMIC_REUSABLE_MEMORY_MODE;
  // Reliable readers that lost a fragment hear of it within 100 ms, not the 3 s default.
  wq.reliable_writer_qos().times.heartbeatPeriod = eprosima::fastrtps::Duration_t(0, 100000000);
  if (q.manual_liveliness) wq.liveliness().kind = fdds::MANUAL_BY_TOPIC_LIVELINESS_QOS;
  fdds::DataWriter* w = publisher_->create_datawriter(topic, wq);
  if (!w) throw std::runtime_error("create_datawriter on " + topic->get_name() + " failed");
  return w;
}

fdds::DataReader* Participant::reader(fdds::Topic* topic, const EndpointQos& q, fdds::DataReaderListener* listener) {
  fdds::DataReaderQos rq = subscriber_->get_default_datareader_qos();
  rq.reliability().kind = q.reliable ? fdds::RELIABLE_RELIABILITY_QOS : fdds::BEST_EFFORT_RELIABILITY_QOS;
  rq.durability().kind = q.transient_local ? fdds::TRANSIENT_LOCAL_DURABILITY_QOS : fdds::VOLATILE_DURABILITY_QOS;
  rq.history().kind = fdds::KEEP_LAST_HISTORY_QOS;
  rq.history().depth = q.depth;
  rq.data_sharing().off();
  rq.endpoint().history_memory_policy = eprosima::fastrtps::rtps::DYNAMIC_REUSABLE_MEMORY_MODE;
  fdds::DataReader* r = subscriber_->create_datareader(topic, rq, listener, fdds::StatusMask::data_available());
  if (!r) throw std::runtime_error("create_datareader on " + topic->get_name() + " failed");
  return r;
}

std::string dds_topic_name(const std::string& prefix, const std::string& ros_topic) {
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (!p.empty() && p.front() != '/') p.insert(p.begin(), '/');
  return "rt" + p + "/" + ros_topic;
}

}  // namespace peer
