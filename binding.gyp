# The native addon (native/vrrp.cc): raw VRRP sockets, gratuitous ARP and unsolicited NA. npm's install step runs
# `node-gyp rebuild` (package.json "install"), which writes build/Release/tandem_vrrp.node.
{
  "targets": [
    {
      "target_name": "tandem_vrrp",
      "sources": ["native/vrrp.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # Node-API 8 (Node >= 12.22): ABI-stable, so the binary does not depend on the Node version it was built for.
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-Wall", "-Wextra"]
    }
  ]
}
