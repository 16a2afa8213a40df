{
  "targets": [
    {
      "target_name": "test_rig",
      "sources": [
        "native/addon.cc",
        "native/inline_guard.cc",
        "native/interpreter.cc",
        "native/js_calls.cc",
        "native/lanes.cc",
        "native/module.cc",
        "native/pyref.cc",
        "native/rows.cc",
        "native/value.cc",
        "native/wakeups.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node scripts/python-include.cjs)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "Py_LIMITED_API=0x03090000"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-O2"]
    }
  ]
}
