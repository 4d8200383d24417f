-- What became of each stopped task (issue 18): kept after the task itself is swept, so an invocation's history
-- still says whether its task succeeded; counts of stops by rule, stop code and exit code for /metrics (counters
-- that only grow); indexes for the console's task filters.
CREATE TABLE IF NOT EXISTS task_outcomes (
    task_arn TEXT PRIMARY KEY, rule TEXT NOT NULL, state TEXT NOT NULL, exit_code INTEGER, container TEXT,
    stop_code TEXT, reason TEXT, stopped_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS task_outcomes_stopped ON task_outcomes (stopped_at);
CREATE TABLE IF NOT EXISTS task_stop_counts (
    rule TEXT NOT NULL, stop_code TEXT NOT NULL, exit_code TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (rule, stop_code, exit_code));
CREATE INDEX IF NOT EXISTS tasks_family_created ON tasks (family, created_at);
CREATE INDEX IF NOT EXISTS tasks_started_by_created ON tasks (started_by, created_at);
CREATE INDEX IF NOT EXISTS tasks_status_created ON tasks (last_status, created_at);
