terraform {
  required_providers {
    proxmox = {
      source  = "bpg/proxmox"
      version = "0.66.1"
    }
  }
}

provider "proxmox" {
  endpoint  = "https://pve.lab.home:8006/"
  api_token = "terraform@pve!provider=@@GEN:uuid:1@@"
  insecure  = true
}

variable "db_password" {
  type      = string
  default   = "Winter-is-coming-2024!"
  sensitive = true
}

variable "admin_password" {
  type      = string
  sensitive = true
}

variable "api_token" {
  type    = string
  default = "" # set in terraform.tfvars (encrypted)
}

resource "random_password" "db" {
  length  = 24
  special = true
}

resource "proxmox_virtual_environment_vm" "db" {
  name      = "db-01"
  node_name = "pve1"
  initialization {
    user_account {
      username = "ubuntu"
      password = random_password.db.result
      keys     = [trimspace(file("~/.ssh/id_ed25519.pub"))]
    }
  }
  smbios {
    uuid = "5f0e6a3c-9d7b-4c1e-8a2f-3b6d9e0c1a47"
  }
}

module "app" {
  source         = "./modules/app"
  db_password    = var.db_password
  admin_password = var.admin_password
  token          = data.sops_file.secrets.data["api_token"]
  grafana_admin_password = "correct horse battery staple"
  registry_token = "${var.registry_token}"
}

provider "azurerm" {
  features {}
  subscription_id = "8c2a1f3e-4b5d-4e6f-9a7b-1c2d3e4f5a6b"
  tenant_id       = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
  client_id       = "3a4b5c6d-7e8f-4a1b-9c2d-3e4f5a6b7c8d"
  client_secret   = "Qx7~Rt5.Yu3-Io1_Pa9~Sd7.Fg5-Hj3_Kl"
}

provider "tfe" {
  token = "@@GEN:tfc:1@@"
}
