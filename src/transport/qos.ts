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
/** Latched topics (specs, static info): late joiners get the last value. */
export const QOS_LATCHED: QoS = { reliability: "reliable", durability: "transient_local", history: "keep_last", depth: 1 };
