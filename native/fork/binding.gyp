{
  "targets": [
    {
      "target_name": "memkit_fork",
      "sources": ["fork.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-std=gnu11"]
    }
  ]
}
