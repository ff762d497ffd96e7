"""The tabletop graph: simulated RGB-D camera, perception, spatial, reward and backbone, one process each.

    ros2 launch spatial_reward spatial_reward.launch.py
    ros2 launch spatial_reward spatial_reward.launch.py backend:=dds namespace:=/cam1

Each node is an executable of the spatial_reward package (lib/spatial_reward/<name>, a wrapper
that execs node on the installed app) with params/tabletop.yaml as its parameter file.
Arguments: backend (rclnodejs: rcl nodes of the sourced ROS 2; dds: Cyclone DDS, no
rclnodejs needed; default $SPATIAL_REWARD_BACKEND or rclnodejs), namespace, params_file,
log_level.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import EnvironmentVariable, LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = "spatial_reward"
NODES = ["sim_camera", "perception", "spatial", "reward", "backbone"]


def generate_launch_description():
    backend = LaunchConfiguration("backend")
    namespace = LaunchConfiguration("namespace")
    params_file = LaunchConfiguration("params_file")
    log_level = LaunchConfiguration("log_level")
    actions = [
        DeclareLaunchArgument(
            "backend",
            default_value=EnvironmentVariable("SPATIAL_REWARD_BACKEND", default_value="rclnodejs"),
            description="rclnodejs (rcl nodes of the sourced ROS 2) | dds (Cyclone DDS directly)",
        ),
        DeclareLaunchArgument("namespace", default_value="", description="namespace of the graph, e.g. /cam1"),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([FindPackageShare(PACKAGE), "params", "tabletop.yaml"]),
            description="ROS 2 parameter file for the nodes",
        ),
        DeclareLaunchArgument("log_level", default_value="info", description="debug | info | warn | error | fatal"),
    ]
    for name in NODES:
        actions.append(
            Node(
                package=PACKAGE,
                executable=name,
                name=name,
                namespace=namespace,
                arguments=["--backend", backend],
                parameters=[params_file],
                ros_arguments=["--log-level", log_level],
                output="screen",
            )
        )
    return LaunchDescription(actions)
