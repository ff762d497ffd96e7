"""The teleop data-collection graph: motion capture over MQTT, the recorder, and the processing
graph on the simulated camera, one process each.

    ros2 launch spatial_reward teleop.launch.py
    ros2 launch spatial_reward teleop.launch.py use_sim:=false backend:=dds

mocap_ingest subscribes to mocap/<stream>/frame at its broker (params/teleop.yaml: the embedded
broker on 127.0.0.1:1883; point `broker` at Mosquitto in production) and publishes poses, /tf,
MocapFrame and mocap rewards; the recorder writes episodes as MCAP, started and stopped by its
record_episode service, the recorder/control topic, or RecorderControl on MQTT mocap/control.
With use_sim:=false no simulated camera starts: run a camera driver on the camera/ topics (see
camera_graph.launch.py for remapping a RealSense). In separate processes the recorder records
ROS topics only: list the mocap streams' topics in params/teleop.yaml (`spatial-reward launch`
and `collect`, in one process, also record the frames as they arrived).
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import EnvironmentVariable, LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = "spatial_reward"
NODES = ["sim_camera", "mocap_ingest", "recorder", "perception", "spatial", "reward"]


def generate_launch_description():
    backend = LaunchConfiguration("backend")
    namespace = LaunchConfiguration("namespace")
    params_file = LaunchConfiguration("params_file")
    log_level = LaunchConfiguration("log_level")
    use_sim = LaunchConfiguration("use_sim")
    actions = [
        DeclareLaunchArgument(
            "backend",
            default_value=EnvironmentVariable("SPATIAL_REWARD_BACKEND", default_value="rclnodejs"),
            description="rclnodejs (rcl nodes of the sourced ROS 2) | dds (Cyclone DDS directly)",
        ),
        DeclareLaunchArgument("namespace", default_value="", description="namespace of the graph, e.g. /cam1"),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([FindPackageShare(PACKAGE), "params", "teleop.yaml"]),
            description="ROS 2 parameter file for the nodes",
        ),
        DeclareLaunchArgument("log_level", default_value="info", description="debug | info | warn | error | fatal"),
        DeclareLaunchArgument("use_sim", default_value="true", description="start the simulated camera (false: a camera driver supplies camera/)"),
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
                condition=IfCondition(use_sim) if name == "sim_camera" else None,
            )
        )
    return LaunchDescription(actions)
