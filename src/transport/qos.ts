/** DDS/ROS 2 quality of service, the subset ROS 2 profiles use. */
export interface QoS {
  reliability: "reliable" | "best_effort";
  durability: "volatile" | "transient_local";
  history: "keep_last" | "keep_all";
  depth: number;
}

/** rmw_qos_profile_default. */
export const QOS_DEFAULT: QoS = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 };
/** rmw_qos_profile_sensor_data: newest data matters more than every sample. */
export const QOS_SENSOR_DATA: QoS = { reliability: "best_effort", durability: "volatile", history: "keep_last", depth: 5 };
/** rclcpp::ClockQoS: /clock, only the newest tick matters. */
export const QOS_CLOCK: QoS = { reliability: "best_effort", durability: "volatile", history: "keep_last", depth: 1 };
/** Camera info from any driver: best effort matches reliable and best-effort publishers alike. */
export const QOS_CAMERA_INFO: QoS = { reliability: "best_effort", durability: "volatile", history: "keep_last", depth: 5 };
/** tf2_ros::DynamicBroadcasterQoS (/tf): reliable, keep-last 100. */
export const QOS_TF: QoS = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 100 };
/** Latched topics (specs, static info): late joiners get the last value. */
export const QOS_LATCHED: QoS = { reliability: "reliable", durability: "transient_local", history: "keep_last", depth: 1 };
