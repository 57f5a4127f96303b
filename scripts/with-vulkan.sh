#!/usr/bin/env bash
# Runs a command with a Vulkan driver for Dawn (the `webgpu` package): the one the environment names
# (the GPU machine's on-device.sh sets VK_DRIVER_FILES), else Chromium's SwiftShader — a CPU
# implementation, good for correctness and relative figures, never for GPU speed claims.
set -euo pipefail
if [[ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" && -f /usr/lib/chromium/vk_swiftshader_icd.json ]]; then
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
  export LD_LIBRARY_PATH=/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
exec "$@"
