"""ROS 2 launch file: the tabletop graph, one process per node.

    ros2 launch launch/spatial_reward.launch.py backend:=rclnodejs

Each node is `spatial-reward node <name>` (this package's CLI) with the standard ROS 2
arguments and launch/params/tabletop.yaml as its parameter file.
"""
import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.substitutions import LaunchConfiguration

NODES = ["sim_camera", "perception", "spatial", "reward"]


def generate_launch_description():
    here = os.path.dirname(os.path.abspath(__file__))
    backend = LaunchConfiguration("backend")
    params_file = LaunchConfiguration("params_file")
    actions = [
        DeclareLaunchArgument("backend", default_value="rclnodejs", description="dds | rclnodejs"),
        DeclareLaunchArgument(
            "params_file", default_value=os.path.join(here, "params", "tabletop.yaml")
        ),
    ]
    for name in NODES:
        actions.append(
            ExecuteProcess(
                cmd=[
                    "npx", "spatial-reward", "node", name, "--backend", backend,
                    "--ros-args", "-r", "__node:=" + name, "--params-file", params_file,
                ],
                name=name,
                output="screen",
            )
        )
    return LaunchDescription(actions)
