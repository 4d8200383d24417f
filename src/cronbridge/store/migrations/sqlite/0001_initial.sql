-- The schema of cronbridge 0.1.0, the first release: every table as it stood when versions began.

-- Written IF NOT EXISTS so that a database made before versions (release 0.1.0) is adopted as version 1.

CREATE TABLE IF NOT EXISTS task_events (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, source TEXT NOT NULL, task_arn TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS task_events_task ON task_events (task_arn, id);
CREATE INDEX IF NOT EXISTS task_events_at ON task_events (at);

CREATE TABLE IF NOT EXISTS tasks (
    arn TEXT PRIMARY KEY, cluster TEXT NOT NULL, family TEXT NOT NULL,
    last_status TEXT NOT NULL, desired_status TEXT NOT NULL, started_by TEXT,
    created_at REAL NOT NULL, stopped_at REAL, client_token TEXT, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_cluster ON tasks (cluster, desired_status, created_at);
CREATE INDEX IF NOT EXISTS tasks_token ON tasks (client_token) WHERE client_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_stopped ON tasks (stopped_at) WHERE stopped_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL, key TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS documents_parent ON documents (kind, parent, key);
CREATE INDEX IF NOT EXISTS documents_seq ON documents (kind, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS iam_users (
    name TEXT PRIMARY KEY COLLATE NOCASE, user_id TEXT NOT NULL, arn TEXT NOT NULL, path TEXT NOT NULL,
    created_at REAL NOT NULL, tags TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS iam_roles (
    name TEXT PRIMARY KEY COLLATE NOCASE, role_id TEXT NOT NULL, arn TEXT NOT NULL, path TEXT NOT NULL,
    trust_policy TEXT NOT NULL, description TEXT, max_session_duration INTEGER NOT NULL,
    created_at REAL NOT NULL, tags TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS iam_policies (
    arn TEXT PRIMARY KEY, name TEXT NOT NULL, policy_id TEXT NOT NULL, path TEXT NOT NULL,
    default_version TEXT NOT NULL, description TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    tags TEXT NOT NULL, next_version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS iam_policy_versions (
    policy_arn TEXT NOT NULL, version_id TEXT NOT NULL, document TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (policy_arn, version_id));
CREATE TABLE IF NOT EXISTS iam_inline_policies (
    owner_kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE,
    document TEXT NOT NULL, PRIMARY KEY (owner_kind, owner, name));
CREATE TABLE IF NOT EXISTS iam_attachments (
    owner_kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE, policy_arn TEXT NOT NULL,
    seq INTEGER NOT NULL, PRIMARY KEY (owner_kind, owner, policy_arn));
CREATE TABLE IF NOT EXISTS iam_access_keys (
    access_key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, status TEXT NOT NULL, created_at REAL NOT NULL,
    user_name TEXT COLLATE NOCASE, role_arn TEXT, session_name TEXT, session_token TEXT, expires_at REAL,
    session_policy TEXT, session_policy_arns TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS iam_access_keys_user ON iam_access_keys (user_name);

CREATE TABLE IF NOT EXISTS log_groups (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, creation_time INTEGER NOT NULL,
    retention_in_days INTEGER, kms_key_id TEXT, log_group_class TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS log_streams (
    id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, name TEXT NOT NULL,
    creation_time INTEGER NOT NULL, first_ts INTEGER, last_ts INTEGER, last_ingestion INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0, sequence INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name));
CREATE TABLE IF NOT EXISTS log_events (
    id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, stream_id INTEGER NOT NULL,
    ts INTEGER NOT NULL, ingestion INTEGER NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS log_events_stream ON log_events (stream_id, ts, id);
CREATE INDEX IF NOT EXISTS log_events_group ON log_events (group_id, ts, id);

CREATE TABLE IF NOT EXISTS metric_samples (
    id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL, dims TEXT NOT NULL,
    ts REAL NOT NULL, total REAL NOT NULL, count REAL NOT NULL, minimum REAL, maximum REAL,
    vals TEXT NOT NULL DEFAULT '[]', unit TEXT NOT NULL DEFAULT 'None');
CREATE INDEX IF NOT EXISTS metric_samples_metric ON metric_samples (namespace, name, dims, ts);

CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY, rule_arn TEXT NOT NULL, rule_name TEXT NOT NULL, target_id TEXT NOT NULL,
    scheduled_at REAL NOT NULL, manual INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,
    client_token TEXT NOT NULL, started_at REAL, finished_at REAL, attempts INTEGER NOT NULL DEFAULT 0,
    task_arns TEXT NOT NULL DEFAULT '[]', error_code TEXT, error_message TEXT,
    fired_at REAL, next_attempt_at REAL, exhausted TEXT, dead_letter TEXT, dead_letter_detail TEXT,
    covers_until REAL, slot_count INTEGER NOT NULL DEFAULT 1,
    UNIQUE (rule_arn, target_id, scheduled_at, manual));
CREATE INDEX IF NOT EXISTS invocations_rule ON invocations (rule_name, scheduled_at);
CREATE INDEX IF NOT EXISTS invocations_pending ON invocations (state) WHERE state = 'PENDING';
CREATE INDEX IF NOT EXISTS invocations_target ON invocations (rule_arn, target_id, id);
CREATE INDEX IF NOT EXISTS invocations_summaries ON invocations (rule_arn, target_id, scheduled_at)
    WHERE covers_until IS NOT NULL;
CREATE TABLE IF NOT EXISTS invocation_notes (invocation_id INTEGER PRIMARY KEY, note TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS sqs_queues (
    name TEXT PRIMARY KEY, arn TEXT NOT NULL UNIQUE, attributes TEXT NOT NULL, tags TEXT NOT NULL,
    created_at REAL NOT NULL, modified_at REAL NOT NULL, purged_at REAL);
CREATE TABLE IF NOT EXISTS sqs_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL, attributes TEXT NOT NULL, system_attributes TEXT NOT NULL,
    sent_at REAL NOT NULL, visible_at REAL NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0,
    first_received_at REAL, receipt TEXT, group_id TEXT, dedup_id TEXT, sender_id TEXT,
    dead_letter_source TEXT);
CREATE INDEX IF NOT EXISTS sqs_messages_queue ON sqs_messages (queue, seq);
CREATE TABLE IF NOT EXISTS sqs_dedup (
    queue TEXT NOT NULL, dedup_id TEXT NOT NULL, message_id TEXT NOT NULL, seq INTEGER NOT NULL,
    expires_at REAL NOT NULL, PRIMARY KEY (queue, dedup_id));

CREATE INDEX IF NOT EXISTS invocations_rule_id ON invocations (rule_name, id);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_at, arn);
