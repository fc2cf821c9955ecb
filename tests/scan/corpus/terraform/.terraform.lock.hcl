# This file is maintained automatically by "terraform init".
provider "registry.terraform.io/bpg/proxmox" {
  version     = "0.66.1"
  constraints = "0.66.1"
  hashes = [
    "h1:7d0Gs1kUr9Dx0bVaWn/3QHZ2DQeZ3dZ2oWgR3YlR7rE=",
    "zh:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "zh:1f2e3d4c5b6a79880f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a6978",
  ]
}
