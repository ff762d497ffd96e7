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

namespace dds = eprosima::fastdds::dds;

struct EndpointQos {
  bool reliable = true;
  bool transient_local = false;
  int32_t depth = 10;
};

/** Owns a participant, its publisher and subscriber; deletes everything on destruction. */
class Participant {
 public:
  /**
   * `iface`: an IPv4 address to restrict Fast DDS to (its interface whitelist), empty for
   * Fast DDS's default (every interface). Throws std::runtime_error on failure.
   */
  Participant(const std::string& name, const std::string& iface);
  ~Participant();
  Participant(const Participant&) = delete;
  Participant& operator=(const Participant&) = delete;

  /** Registers `type` once (by name) and creates (or reuses) the topic `dds_topic`. */
  dds::Topic* topic(const std::string& dds_topic, dds::TypeSupport type);
  dds::DataWriter* writer(dds::Topic* topic, const EndpointQos& q);
  dds::DataReader* reader(dds::Topic* topic, const EndpointQos& q, dds::DataReaderListener* listener);

  uint32_t domain() const { return domain_; }

 private:
  uint32_t domain_ = 0;
  dds::DomainParticipant* participant_ = nullptr;
  dds::Publisher* publisher_ = nullptr;
  dds::Subscriber* subscriber_ = nullptr;
};

/** "rt" + normalized prefix + "/" + ros_topic: ("/cam0", "camera/x") -> "rt/cam0/camera/x". */
std::string dds_topic_name(const std::string& prefix, const std::string& ros_topic);

}  // namespace peer
