/** ROS 2 parameter values (rcl_interfaces ParameterValue without byte arrays). */
export type ParameterValue = boolean | number | string | boolean[] | number[] | string[];
