-- Server processes sharing one database (`cronbridge server --workers N`, or servers on one --data-dir): who is
-- alive, which process runs which task, requests from one process to another, what cached answers a change made
-- stale, and secrets every process must share. A reset (POST /_cronbridge/reset) wipes task_owners only.

CREATE TABLE peers (
    id TEXT PRIMARY KEY,            -- host:pid:nonce (the scheduler lease names its holder the same way)
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started TEXT NOT NULL,          -- the process's start time as its host counts it ('' when unknown)
    joined_at REAL NOT NULL,        -- wall clock
    seen_at REAL NOT NULL           -- its last heartbeat (wall clock)
);

CREATE TABLE task_owners (
    task_arn TEXT PRIMARY KEY,
    owner TEXT NOT NULL             -- the peer that runs the task: its containers, log pumps and lifecycle
);
CREATE INDEX task_owners_by_owner ON task_owners (owner);

CREATE TABLE control_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,           -- the peer that must act
    kind TEXT NOT NULL,             -- stop-task | pause | resume
    subject TEXT NOT NULL DEFAULT '',  -- a stop-task's task ARN
    body TEXT NOT NULL DEFAULT '{}',   -- JSON details (a stop's reason and code)
    created_at REAL NOT NULL,
    done_at REAL                    -- when the target acted
);
CREATE INDEX control_requests_open ON control_requests (target, done_at);

CREATE TABLE cache_generations (
    name TEXT PRIMARY KEY,          -- ecs | iam | events: the cached answers a change there makes stale
    generation INTEGER NOT NULL
);

CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,          -- e.g. the key task-role credential tokens are derived with
    value TEXT NOT NULL
);
