-- Issue 18 (sqlite/0004 in PostgreSQL's types): what became of each stopped task, kept after the task itself is
-- swept; counts of stops by rule, stop code and exit code for /metrics (counters that only grow); indexes for the
-- console's task filters.
CREATE TABLE task_outcomes (
    task_arn TEXT COLLATE "C" PRIMARY KEY, rule TEXT COLLATE "C" NOT NULL, state TEXT COLLATE "C" NOT NULL,
    exit_code BIGINT, container TEXT, stop_code TEXT, reason TEXT, stopped_at DOUBLE PRECISION NOT NULL);
CREATE INDEX task_outcomes_stopped ON task_outcomes (stopped_at);
CREATE TABLE task_stop_counts (
    rule TEXT COLLATE "C" NOT NULL, stop_code TEXT COLLATE "C" NOT NULL, exit_code TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL, PRIMARY KEY (rule, stop_code, exit_code));
CREATE INDEX tasks_family_created ON tasks (family, created_at);
CREATE INDEX tasks_started_by_created ON tasks (started_by, created_at);
CREATE INDEX tasks_status_created ON tasks (last_status, created_at);
