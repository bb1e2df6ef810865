{
  # Built only where Debian's libtorch-dev is installed (scripts/build-addon.mjs checks first).
  # Headers: /usr/include/torch (script.h) and /usr/include/torch/csrc/api/include (torch/all.h).
  "targets": [
    {
      "target_name": "ferry_torchscript",
      "sources": [
        "native/addon.cc",
        "native/dtype.cc",
        "native/errors.cc",
        "native/forward-worker.cc",
        "native/load-worker.cc",
        "native/script-module.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include/torch/csrc/api/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=1"],
      # libtorch throws c10::Error (C++ exceptions) and uses typeid: keep both enabled
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter"],
      "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
    }
  ]
}
