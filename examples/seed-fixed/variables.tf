variable "ecs_cluster_arn" {
  type        = string
  description = "The cluster the rule runs the task on (the seed's <<cluster>> placeholder)."
}

variable "image" {
  type        = string
  description = "The container image (the seed's <<ECR Repository>> placeholder). cronbridge never pulls: with the docker launcher, build this one first with scripts/busybox-image; the process launcher runs the command without an image."
  default     = "cronbridge/busybox:latest"
}

variable "subnets" {
  type        = list(string)
  description = "Subnets for awsvpc networking (the seed's <<Subnet ID>> placeholder)."
  default     = ["subnet-00000000"]
}

variable "security_groups" {
  type    = list(string)
  default = ["sg-00000000"]
}

variable "region" {
  type    = string
  default = "us-east-1"
}
