{
  "targets": [
    {
      "target_name": "spatial_reward_dds",
      "sources": [
        "src/addon.cc",
        "src/reader.cc",
        "src/endpoint_watcher.cc",
        "src/qos.cc",
        "src/raw_sertype.c"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "libraries": ["-lddsc"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
