"""The processing graph for a real RGB-D camera: perception, spatial and reward, no simulator.

    ros2 launch realsense2_camera rs_launch.py align_depth.enable:=true
    ros2 launch spatial_reward camera_graph.launch.py
    ros2 launch spatial_reward camera_graph.launch.py camera_namespace:=/camera \
        segmentation:=detections detections_topic:=/detector/detections backend:=dds

The perception node's camera inputs are remapped to the driver's topics under
camera_namespace; the default, /camera/camera, is where realsense2_camera 4.51+ publishes with
its defaults (camera_namespace:=camera camera_name:=camera; older 4.x wrappers: /camera):
  camera/color/image_raw                  <- <camera_namespace>/color/image_raw
  camera/aligned_depth_to_color/image_raw <- <camera_namespace>/aligned_depth_to_color/image_raw
  camera/color/camera_info                <- <camera_namespace>/color/camera_info
Object masks come from a segmenter (segmentation:=masks, spatial_reward_msgs/InstanceMasks on
masks_topic) or 2D boxes from a detector (segmentation:=detections,
vision_msgs/Detection2DArray on detections_topic). The task comes from reward/spec (latched)
unless params_file sets reward_spec.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import EnvironmentVariable, LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = "spatial_reward"
NODES = ["perception", "spatial", "reward"]
# (topic the perception node subscribes, topic of the camera driver under camera_namespace)
CAMERA_TOPICS = [
    ("camera/color/image_raw", "color/image_raw"),
    ("camera/aligned_depth_to_color/image_raw", "aligned_depth_to_color/image_raw"),
    ("camera/color/camera_info", "color/camera_info"),
]


def generate_launch_description():
    backend = LaunchConfiguration("backend")
    namespace = LaunchConfiguration("namespace")
    params_file = LaunchConfiguration("params_file")
    log_level = LaunchConfiguration("log_level")
    camera_namespace = LaunchConfiguration("camera_namespace")
    actions = [
        DeclareLaunchArgument(
            "backend",
            default_value=EnvironmentVariable("SPATIAL_REWARD_BACKEND", default_value="rclnodejs"),
            description="rclnodejs (rcl nodes of the sourced ROS 2) | dds (Cyclone DDS directly)",
        ),
        DeclareLaunchArgument("namespace", default_value="", description="namespace of the graph, e.g. /cam1"),
        DeclareLaunchArgument(
            "camera_namespace",
            default_value="/camera/camera",
            description="where the camera driver publishes (realsense2_camera 4.51+: /camera/camera)",
        ),
        DeclareLaunchArgument("segmentation", default_value="masks", description="masks | detections"),
        DeclareLaunchArgument("masks_topic", default_value="camera/instances", description="InstanceMasks input"),
        DeclareLaunchArgument(
            "detections_topic", default_value="camera/detections", description="vision_msgs/Detection2DArray input"
        ),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([FindPackageShare(PACKAGE), "params", "camera_graph.yaml"]),
            description="ROS 2 parameter file for the nodes (camera_graph_lossless.yaml: reliable keep-all inputs)",
        ),
        DeclareLaunchArgument("log_level", default_value="info", description="debug | info | warn | error | fatal"),
    ]
    camera_remaps = [(ours, [camera_namespace, "/", theirs]) for ours, theirs in CAMERA_TOPICS] + [
        ("camera/instances", LaunchConfiguration("masks_topic")),
        ("camera/detections", LaunchConfiguration("detections_topic")),
    ]
    for name in NODES:
        parameters = [params_file]
        if name == "perception":
            parameters.append({"segmentation": LaunchConfiguration("segmentation")})
        actions.append(
            Node(
                package=PACKAGE,
                executable=name,
                name=name,
                namespace=namespace,
                arguments=["--backend", backend],
                parameters=parameters,
                remappings=camera_remaps if name == "perception" else [],
                ros_arguments=["--log-level", log_level],
                output="screen",
            )
        )
    return LaunchDescription(actions)
