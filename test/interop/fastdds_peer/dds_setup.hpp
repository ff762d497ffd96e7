// Fast DDS 2.9 entities set up for interop with Cyclone DDS / rmw: UDPv4 only (no shared
// memory transport, no data sharing), ROS_DOMAIN_ID, rt/ topic names, ROS-like QoS.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <fastdds/dds/domain/DomainParticipant.hpp>
#include <fastdds/dds/publisher/DataWriter.hpp>
#include <fastdds/dds/publisher/Publisher.hpp>
#include <fastdds/dds/subscriber/DataReader.hpp>
#include <fastdds/dds/subscriber/DataReaderListener.hpp>
#include <fastdds/dds/subscriber/Subscriber.hpp>
#include <fastdds/dds/topic/TypeSupport.hpp>

namespace peer {

namespace fdds = eprosima::fastdds::dds;

struct EndpointQos {
  bool reliable = true;
  bool transient_local = false;
  int32_t depth = 10;
  /**
   * Writers only: MANUAL_BY_TOPIC liveliness (infinite lease), so that assert_liveliness()
   * sends a heartbeat to every matched reader even before the first sample (see main.cpp).
   */
  bool manual_liveliness = false;
};

/** Owns a participant, its publisher and subscriber; deletes everything on destruction. */
class Participant {
 public:
  /**
   * `iface`: an IPv4 address to restrict Fast DDS to (its interface whitelist), empty for
   * Fast DDS's default (every interface). `throughput_mb_s` > 0 paces every writer through
   * one flow controller (MB/s, in 1 ms periods); 0 sends each sample as fast as it can.
   * Throws std::runtime_error on failure.
   */
  Participant(const std::string& name, const std::string& iface, double throughput_mb_s = 0);
  ~Participant();
  Participant(const Participant&) = delete;
  Participant& operator=(const Participant&) = delete;

  /** Registers `type` once (by name) and creates (or reuses) the topic `dds_topic`. */
  fdds::Topic* topic(const std::string& dds_topic, fdds::TypeSupport type);
  fdds::DataWriter* writer(fdds::Topic* topic, const EndpointQos& q);
  fdds::DataReader* reader(fdds::Topic* topic, const EndpointQos& q, fdds::DataReaderListener* listener);

  uint32_t domain() const { return domain_; }

 private:
  uint32_t domain_ = 0;
  bool paced_ = false;
  fdds::DomainParticipant* participant_ = nullptr;
  fdds::Publisher* publisher_ = nullptr;
  fdds::Subscriber* subscriber_ = nullptr;
};

/** "rt" + normalized prefix + "/" + ros_topic: ("/cam0", "camera/x") -> "rt/cam0/camera/x". */
std::string dds_topic_name(const std::string& prefix, const std::string& ros_topic);

}  // namespace peer
