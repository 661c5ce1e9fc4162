variable "name_prefix" {
  description = "Prefix of the servers' names: <prefix>-1, <prefix>-2, ..."
  type        = string
}

variable "size" {
  description = "How many web servers."
  type        = number
  default     = 2

  validation {
    condition     = var.size >= 1 && var.size <= 10
    error_message = "size must be from 1 to 10."
  }
}

variable "domain" {
  description = "Domain of the servers' host names."
  type        = string
  default     = "example.com"
}

variable "plan_id" {
  description = "Plan of every server (1 is Standard VPS)."
  type        = number
  default     = 1
}

variable "os_id" {
  description = "Operating system of every server (5 is Ubuntu 22.04 LTS)."
  type        = number
  default     = 5
}

variable "location" {
  description = "Location of every server."
  type        = string
  default     = "us-west"
}
