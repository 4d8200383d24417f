# An SQS queue and its queue policy, driven through create, update in place and replacement by var.step. Apart
# from ../every_type because the provider waits about 25 s after each queue change (six equal reads 5 s apart).

variable "step" {
  type    = string
  default = "create"
}

variable "name" {
  type = string
}

locals {
  updated = var.step != "create"
  name    = var.step == "replace" ? "${var.name}-2" : var.name
}

resource "aws_sqs_queue" "dead_letters" {
  name                       = local.name
  visibility_timeout_seconds = local.updated ? 60 : 30
  message_retention_seconds  = 86400
  tags                       = { team = "data", step = local.updated ? "updated" : "created" }
}

resource "aws_sqs_queue_policy" "dead_letters" {
  queue_url = aws_sqs_queue.dead_letters.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = local.updated ? "EventsUpdated" : "Events"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letters.arn
    }]
  })
}

output "url" { value = aws_sqs_queue.dead_letters.id }
output "arn" { value = aws_sqs_queue.dead_letters.arn }
