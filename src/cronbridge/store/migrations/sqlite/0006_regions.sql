-- Regions and accounts: every regional resource is kept apart by (account, region), as AWS keeps it.
-- A resource that carries an ARN moves to the account and Region of its ARN; one without (log groups, metric
-- samples, metric filters, alarm history, Logs Insights queries) moves to the server's own: the named parameters
-- :account and :region.

-- documents (clusters, task definitions, buses, rules, targets, schedules, schedule groups, alarms, metric filters)
-- gain their scope
CREATE TEMP TABLE scope_of (kind TEXT NOT NULL, key TEXT NOT NULL, rest TEXT);
INSERT INTO scope_of (kind, key, rest)
    SELECT kind, key, COALESCE(
        json_extract(body, '$.cluster_arn'), json_extract(body, '$.task_definition_arn'),
        CASE WHEN kind IN ('events.rule', 'events.bus', 'scheduler.schedule', 'scheduler.group', 'scheduler.retired')
             THEN json_extract(body, '$.arn') END,
        CASE WHEN kind = 'cloudwatch.alarm' THEN json_extract(body, '$.alarm_arn') END)
    FROM documents;
-- a rule's targets live where the rule lives
UPDATE scope_of SET rest = (
    SELECT json_extract(d.body, '$.arn') FROM documents d
    WHERE d.kind = 'events.rule' AND d.key = (SELECT parent FROM documents t WHERE t.kind = scope_of.kind
                                                AND t.key = scope_of.key))
    WHERE kind = 'events.target';
-- arn:aws:SERVICE:REGION:ACCOUNT:... -> REGION:ACCOUNT:... (anything else: the server's own scope)
UPDATE scope_of SET rest = NULL WHERE rest NOT LIKE 'arn:%:%:%:%:%';
UPDATE scope_of SET rest = substr(rest, instr(rest, ':') + 1) WHERE rest IS NOT NULL;
UPDATE scope_of SET rest = substr(rest, instr(rest, ':') + 1) WHERE rest IS NOT NULL;
UPDATE scope_of SET rest = substr(rest, instr(rest, ':') + 1) WHERE rest IS NOT NULL;
CREATE TABLE documents_scoped (
    kind TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, key TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, account, region, key));
INSERT INTO documents_scoped (kind, account, region, key, parent, seq, body)
    SELECT d.kind,
           CASE WHEN s.rest LIKE '%:%:%' THEN substr(substr(s.rest, instr(s.rest, ':') + 1), 1,
                instr(substr(s.rest, instr(s.rest, ':') + 1), ':') - 1) ELSE :account END,
           CASE WHEN s.rest LIKE '%:%:%' THEN substr(s.rest, 1, instr(s.rest, ':') - 1) ELSE :region END,
           d.key, d.parent, d.seq, d.body
    FROM documents d JOIN scope_of s ON s.kind = d.kind AND s.key = d.key;
DROP TABLE scope_of;
DROP TABLE documents;
ALTER TABLE documents_scoped RENAME TO documents;
CREATE INDEX documents_parent ON documents (kind, account, region, parent, key);
CREATE INDEX documents_seq ON documents (kind, seq);

-- task-definition revisions count per family in each account and Region: every Region that has the family
-- continues from the number the family had reached
INSERT OR IGNORE INTO counters (name, value)
    SELECT 'ecs.taskdef:' || d.account || ':' || d.region || ':' || substr(c.name, length('ecs.taskdef:') + 1), c.value
    FROM counters c JOIN documents d ON d.kind = 'ecs.taskdef'
         AND d.parent = substr(c.name, length('ecs.taskdef:') + 1)
    WHERE c.name LIKE 'ecs.taskdef:%' AND c.name NOT LIKE 'ecs.taskdef:%:%:%';
DELETE FROM counters WHERE name LIKE 'ecs.taskdef:%' AND name NOT LIKE 'ecs.taskdef:%:%:%';

-- log groups: unique per account and Region (streams and events follow their group's id)
CREATE TABLE log_groups_scoped (
    id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
    creation_time INTEGER NOT NULL, retention_in_days INTEGER, kms_key_id TEXT, log_group_class TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}',
    UNIQUE (account, region, name));
INSERT INTO log_groups_scoped (id, account, region, name, creation_time, retention_in_days, kms_key_id,
                               log_group_class, tags)
    SELECT id, :account, :region, name, creation_time, retention_in_days, kms_key_id, log_group_class, tags
    FROM log_groups;
DROP TABLE log_groups;
ALTER TABLE log_groups_scoped RENAME TO log_groups;

-- SQS queues are known by their ARN (account, Region and name); messages and deduplication records name it
CREATE TABLE sqs_queues_scoped (
    arn TEXT PRIMARY KEY, name TEXT NOT NULL, attributes TEXT NOT NULL, tags TEXT NOT NULL,
    created_at REAL NOT NULL, modified_at REAL NOT NULL, purged_at REAL);
INSERT INTO sqs_queues_scoped (arn, name, attributes, tags, created_at, modified_at, purged_at)
    SELECT arn, name, attributes, tags, created_at, modified_at, purged_at FROM sqs_queues;
UPDATE sqs_messages SET queue = COALESCE((SELECT arn FROM sqs_queues q WHERE q.name = sqs_messages.queue), queue);
UPDATE sqs_dedup SET queue = COALESCE((SELECT arn FROM sqs_queues q WHERE q.name = sqs_dedup.queue), queue);
DROP TABLE sqs_queues;
ALTER TABLE sqs_queues_scoped RENAME TO sqs_queues;

-- metric samples (PutMetricData) are per account and Region
ALTER TABLE metric_samples ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE metric_samples ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE metric_samples SET account = :account, region = :region;
DROP INDEX metric_samples_metric;
CREATE INDEX metric_samples_metric ON metric_samples (account, region, namespace, name, dims, ts);

-- a rule's invocations are found by its ARN (names repeat across Regions), by id and by slot (the console's history)
CREATE INDEX invocations_rule_arn ON invocations (rule_arn, id);
CREATE INDEX invocations_rule_arn_at ON invocations (rule_arn, scheduled_at);

-- an alarm's history is that of its account and Region (alarm names repeat across Regions): where its alarm's ARN
-- says, else (the alarm is gone) the server's own
ALTER TABLE alarm_history ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE alarm_history ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE alarm_history SET
    account = COALESCE((SELECT d.account FROM documents d WHERE d.kind = 'cloudwatch.alarm'
                        AND d.key = alarm_history.alarm_name), :account),
    region = COALESCE((SELECT d.region FROM documents d WHERE d.kind = 'cloudwatch.alarm'
                       AND d.key = alarm_history.alarm_name), :region);
DROP INDEX alarm_history_alarm;
CREATE INDEX alarm_history_alarm ON alarm_history (account, region, alarm_name, at);

-- a Logs Insights query searches the log groups of its account and Region, and only they see it
ALTER TABLE insights_queries ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE insights_queries ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE insights_queries SET account = :account, region = :region;
CREATE INDEX insights_queries_scope ON insights_queries (account, region, created);
