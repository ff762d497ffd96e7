{
  "targets": [
    {
      "target_name": "spatial_reward_dds",
      "sources": [
        "src/addon.cc",
        "src/domain.cc",
        "src/reader.cc",
        "src/endpoint_watcher.cc",
        "src/qos.cc",
        "src/raw_sertype.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"process.env.CYCLONEDDS_HOME ? process.env.CYCLONEDDS_HOME + '/include' : '/usr/include'\")"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "libraries": [
        "<!(node -p \"process.env.CYCLONEDDS_HOME ? '-L' + process.env.CYCLONEDDS_HOME + '/lib -Wl,-rpath,' + process.env.CYCLONEDDS_HOME + '/lib' : ''\")",
        "-lddsc"
      ],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
