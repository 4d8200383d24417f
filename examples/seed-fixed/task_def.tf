resource "aws_cloudwatch_log_group" "task" {
  name              = "/ecs/fargate-task-definition"
  retention_in_days = 7
}

resource "aws_ecs_task_definition" "task_def" {
  family                   = "ecs-scheduled-batch-task"
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  requires_compatibilities = ["FARGATE"]
  container_definitions = templatefile("./container_def/container_def.json", {
    image     = var.image
    log_group = aws_cloudwatch_log_group.task.name
    region    = var.region
  })
  execution_role_arn = aws_iam_role.ecs_role.arn
}
