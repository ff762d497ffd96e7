{
  "targets": [
    {
      # The hot per-frame kernels (native/src/kernels/*.cc, each with a TS reference). Needs only
      # a C++17 compiler and node-addon-api; build.mjs builds it on every host, with or without
      # Cyclone DDS. Sources are globbed, so a kernel family is added by adding its file.
      # Results must equal the TS references bit for bit where the math allows: -O2 with no
      # FMA contraction (-ffp-contract=off; GNU C++ defaults to fast) and no -ffast-math.
      "target_name": "spatial_reward_kernels",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('src/kernels').filter((f) => f.endsWith('.cc')).sort().map((f) => 'src/kernels/' + f).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "src/kernels"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-ffp-contract=off", "-fno-fast-math"],
      "configurations": {
        "Release": {
          "cflags!": ["-O3"],
          "cflags_cc!": ["-O3"],
          "cflags_cc": ["-O2"]
        }
      },
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "2",
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-ffp-contract=off", "-fno-fast-math"]
      },
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "spatial_reward_dds",
      "sources": [
        "src/addon.cc",
        "src/domain.cc",
        "src/reader.cc",
        "src/endpoint_watcher.cc",
        "src/iox_errors.cc",
        "src/iox_take_guard.c",
        "src/qos.cc",
        "src/raw_sertype.c",
        "src/sample_pool.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"process.env.CYCLONEDDS_HOME ? process.env.CYCLONEDDS_HOME + '/include' : '/usr/include'\")",
        # Cyclone built with shared memory (Debian's is) includes iceoryx's C binding in its headers.
        "<!@(node -p \"const fs = require('fs'); const d = '/usr/include/iceoryx'; (fs.existsSync(d) ? fs.readdirSync(d).filter((v) => /^v[0-9]/.test(v)).sort().slice(-1).map((v) => d + '/' + v) : []).join(' ')\")"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "libraries": [
        "<!(node -p \"process.env.CYCLONEDDS_HOME ? '-L' + process.env.CYCLONEDDS_HOME + '/lib -Wl,-rpath,' + process.env.CYCLONEDDS_HOME + '/lib' : ''\")",
        "-lddsc",
        # iceoryx's error handler (iox_errors.cc), where Cyclone was built with shared memory.
        "<!(node -p \"require('fs').existsSync('/usr/include/iceoryx') ? '-liceoryx_hoofs' : ''\")"
      ],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
