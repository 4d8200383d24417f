# Every resource type and data source cronbridge claims for the real AWS provider (docs/terraform.md) but SQS (see
# ../queue), driven through create, update in place and replacement by var.step; test_terraform_provider.py runs it.

variable "step" {
  type    = string
  default = "create"
}

variable "dead_letters_arn" {
  type        = string
  description = "a queue made outside this folder (queues have a folder of their own: their waits are long)"
}

locals {
  updated  = var.step != "create"
  replaced = var.step == "replace"
  suffix   = local.replaced ? "-2" : ""
  tags     = { team = "data", step = local.updated ? "updated" : "created" }
}

provider "aws" {
  default_tags {
    tags = { owner = "cronbridge-tests" }
  }
}

data "aws_caller_identity" "me" {}
data "aws_region" "here" {}

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "runner_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "scheduler.amazonaws.com"]
    }
  }
}

resource "aws_ecs_cluster" "batch" {
  name = "batch${local.suffix}"
  setting {
    name  = "containerInsights"
    value = local.updated ? "enabled" : "disabled"
  }
  tags = local.tags
}

resource "aws_cloudwatch_log_group" "task" {
  name              = "/ecs/every-type${local.suffix}"
  retention_in_days = local.updated ? 14 : 7
  tags              = local.tags
}

resource "aws_iam_role" "execution" {
  name                 = "every-type-execution${local.suffix}"
  description          = local.updated ? "runs the batch (updated)" : "runs the batch"
  max_session_duration = local.updated ? 7200 : 3600
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags                 = local.tags
  inline_policy {
    name = "logs"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = local.updated ? ["logs:CreateLogStream", "logs:PutLogEvents"] : ["logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.task.arn}:*"
      }]
    })
  }
}

resource "aws_iam_role" "runner" {
  name               = "every-type-runner${local.suffix}"
  assume_role_policy = data.aws_iam_policy_document.runner_trust.json
}

data "aws_iam_policy_document" "run" {
  statement {
    actions   = ["ecs:RunTask"]
    resources = ["arn:aws:ecs:${data.aws_region.here.name}:${data.aws_caller_identity.me.account_id}:task-definition/every-type*"]
  }
  statement {
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn]
    condition {
      test     = "StringLike"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "run" {
  name        = "every-type-run${local.suffix}"
  description = "run the batch"
  policy      = local.updated ? data.aws_iam_policy_document.run.json : jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "ecs:RunTask", Resource = "*" }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "run" {
  role       = aws_iam_role.runner.name
  policy_arn = aws_iam_policy.run.arn
}

resource "aws_iam_role_policy" "extra" {
  name = "extra${local.suffix}"
  role = aws_iam_role.runner.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = local.updated ? "sqs:SendMessage" : "sqs:GetQueueUrl", Resource = var.dead_letters_arn }]
  })
}

resource "aws_ecs_task_definition" "batch" {
  family                   = "every-type${local.suffix}"
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  requires_compatibilities = ["FARGATE"]
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name      = "hello"
    image     = "busybox"
    essential = true
    command   = ["echo", local.replaced ? "replaced" : "Hello,World!"]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.task.name
        "awslogs-region"        = data.aws_region.here.name
        "awslogs-stream-prefix" = "ecs"
      }
    }
  }])
  tags = local.tags
}

resource "aws_cloudwatch_event_rule" "batch" {
  name                = "every-type${local.suffix}"
  description         = local.updated ? "every half hour (updated)" : "every half hour"
  schedule_expression = local.updated ? "cron(0/30 * * * ? *)" : "cron(*/30 * * * ? *)"
  state               = local.updated ? "DISABLED" : "ENABLED"
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "batch" {
  target_id = "batch${local.suffix}"
  rule      = aws_cloudwatch_event_rule.batch.name
  arn       = aws_ecs_cluster.batch.arn
  role_arn  = aws_iam_role.runner.arn
  input     = jsonencode({ containerOverrides = [{ name = "hello", command = ["echo", local.updated ? "updated" : "created"] }] })
  ecs_target {
    task_count          = local.updated ? 2 : 1
    task_definition_arn = aws_ecs_task_definition.batch.arn
    launch_type         = "FARGATE"
    network_configuration {
      subnets          = ["subnet-00000000"]
      assign_public_ip = true
    }
  }
  dead_letter_config {
    arn = var.dead_letters_arn
  }
  retry_policy {
    maximum_event_age_in_seconds = local.updated ? 600 : 3600
    maximum_retry_attempts       = 3
  }
}

resource "aws_scheduler_schedule_group" "team" {
  name = "every-type${local.suffix}"
  tags = local.tags
}

resource "aws_scheduler_schedule" "nightly" {
  name                         = "nightly${local.suffix}"
  group_name                   = aws_scheduler_schedule_group.team.name
  description                  = local.updated ? "nightly (updated)" : "nightly"
  schedule_expression          = local.updated ? "cron(30 2 * * ? *)" : "cron(0 2 * * ? *)"
  schedule_expression_timezone = "Asia/Tokyo"
  state                        = local.updated ? "DISABLED" : "ENABLED"
  flexible_time_window {
    mode                      = local.updated ? "FLEXIBLE" : "OFF"
    maximum_window_in_minutes = local.updated ? 15 : null
  }
  target {
    arn      = aws_ecs_cluster.batch.arn
    role_arn = aws_iam_role.runner.arn
    input    = jsonencode({ containerOverrides = [{ name = "hello", command = ["echo", "nightly"] }] })
    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.batch.arn
      launch_type         = "FARGATE"
      network_configuration {
        subnets = ["subnet-00000000"]
      }
    }
    dead_letter_config {
      arn = var.dead_letters_arn
    }
    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = local.updated ? 5 : 3
    }
  }
}

output "account_id" { value = data.aws_caller_identity.me.account_id }
output "region" { value = data.aws_region.here.name }
output "task_definition_arn" { value = aws_ecs_task_definition.batch.arn }
