resource "aws_cloudwatch_event_target" "scheduled_batch" {
  target_id = "hello"
  arn       = var.ecs_cluster_arn
  rule      = aws_cloudwatch_event_rule.scheduled_batch.name
  role_arn  = aws_iam_role.events_role.arn

  ecs_target {
    task_count          = 1
    task_definition_arn = aws_ecs_task_definition.task_def.arn
    launch_type         = "FARGATE"
    platform_version    = "1.4.0"
    network_configuration {
      subnets          = var.subnets
      security_groups  = var.security_groups
      assign_public_ip = true
    }
  }

  input = jsonencode(
    {
      containerOverrides = [
        {
          name    = "hello",
          command = ["echo", "Hello,World!"]
        }
      ]
    }
  )
}

resource "aws_cloudwatch_event_rule" "scheduled_batch" {
  name                = "hello"
  is_enabled          = true
  schedule_expression = "cron(*/30 * * * ? *)"
}
