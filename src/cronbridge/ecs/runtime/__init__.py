"""The task runtime: RunTask and StopTask, each live task's lifecycle on a launcher, and the awslogs driver."""
