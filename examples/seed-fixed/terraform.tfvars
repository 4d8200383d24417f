ecs_cluster_arn = "arn:aws:ecs:us-east-1:000000000000:cluster/default"
