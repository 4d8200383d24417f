-- Issue 16 (sqlite/0006 in PostgreSQL's spelling): every regional resource is kept apart by (account, region), as
-- AWS keeps it. A resource that carries an ARN moves to the account and Region of its ARN; one without (log groups,
-- metric samples, metric filters, alarm history, Logs Insights queries) moves to the server's own: the named
-- parameters :account and :region.

-- documents gain their scope: the ARN a document carries is kept in `region` a moment, then split
ALTER TABLE documents ADD COLUMN account TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN region TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE documents SET region = COALESCE(
    CAST(body AS json)->>'cluster_arn', CAST(body AS json)->>'task_definition_arn',
    CASE WHEN kind IN ('events.rule', 'events.bus', 'scheduler.schedule', 'scheduler.group', 'scheduler.retired')
         THEN CAST(body AS json)->>'arn' END,
    CASE WHEN kind = 'cloudwatch.alarm' THEN CAST(body AS json)->>'alarm_arn' END, '');
-- a rule's targets live where the rule lives
UPDATE documents AS t SET region = COALESCE((
    SELECT CAST(d.body AS json)->>'arn' FROM documents AS d WHERE d.kind = 'events.rule' AND d.key = t.parent), '')
    WHERE t.kind = 'events.target';
-- arn:aws:SERVICE:REGION:ACCOUNT:... -> its Region and account (anything else: the server's own scope)
UPDATE documents SET
    account = CASE WHEN region LIKE 'arn:%:%:%:%:%' THEN split_part(region, ':', 5) ELSE :account END,
    region = CASE WHEN region LIKE 'arn:%:%:%:%:%' THEN split_part(region, ':', 4) ELSE :region END;
ALTER TABLE documents ALTER COLUMN account DROP DEFAULT;
ALTER TABLE documents ALTER COLUMN region DROP DEFAULT;
ALTER TABLE documents DROP CONSTRAINT documents_pkey;
ALTER TABLE documents ADD PRIMARY KEY (kind, account, region, key);
DROP INDEX documents_parent;
CREATE INDEX documents_parent ON documents (kind, account, region, parent, key);

-- task-definition revisions count per family in each account and Region: every Region that has the family
-- continues from the number the family had reached
INSERT INTO counters (name, value)
    SELECT DISTINCT 'ecs.taskdef:' || d.account || ':' || d.region || ':' || substr(c.name, length('ecs.taskdef:') + 1),
           c.value
    FROM counters AS c JOIN documents AS d ON d.kind = 'ecs.taskdef'
         AND d.parent = substr(c.name, length('ecs.taskdef:') + 1)
    WHERE c.name LIKE 'ecs.taskdef:%' AND c.name NOT LIKE 'ecs.taskdef:%:%:%'
    ON CONFLICT (name) DO NOTHING;
DELETE FROM counters WHERE name LIKE 'ecs.taskdef:%' AND name NOT LIKE 'ecs.taskdef:%:%:%';

-- log groups: unique per account and Region (streams and events follow their group's id)
ALTER TABLE log_groups ADD COLUMN account TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE log_groups ADD COLUMN region TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE log_groups SET account = :account, region = :region;
ALTER TABLE log_groups ALTER COLUMN account DROP DEFAULT;
ALTER TABLE log_groups ALTER COLUMN region DROP DEFAULT;
ALTER TABLE log_groups DROP CONSTRAINT log_groups_name_key;
ALTER TABLE log_groups ADD CONSTRAINT log_groups_scope_name_key UNIQUE (account, region, name);

-- SQS queues are known by their ARN (account, Region and name); messages and deduplication records name it
UPDATE sqs_messages SET queue = COALESCE((SELECT arn FROM sqs_queues AS q WHERE q.name = sqs_messages.queue), queue);
UPDATE sqs_dedup SET queue = COALESCE((SELECT arn FROM sqs_queues AS q WHERE q.name = sqs_dedup.queue), queue);
ALTER TABLE sqs_queues DROP CONSTRAINT sqs_queues_pkey;
ALTER TABLE sqs_queues DROP CONSTRAINT sqs_queues_arn_key;
ALTER TABLE sqs_queues ADD PRIMARY KEY (arn);

-- metric samples (PutMetricData) are per account and Region
ALTER TABLE metric_samples ADD COLUMN account TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE metric_samples ADD COLUMN region TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE metric_samples SET account = :account, region = :region;
DROP INDEX metric_samples_metric;
CREATE INDEX metric_samples_metric ON metric_samples (account, region, namespace, name, dims, ts);

-- a rule's invocations are found by its ARN (names repeat across Regions), by id and by slot (the console's history)
CREATE INDEX invocations_rule_arn ON invocations (rule_arn, id);
CREATE INDEX invocations_rule_arn_at ON invocations (rule_arn, scheduled_at);

-- an alarm's history is that of its account and Region: where its alarm's ARN says, else the server's own
ALTER TABLE alarm_history ADD COLUMN account TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE alarm_history ADD COLUMN region TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE alarm_history SET
    account = COALESCE((SELECT d.account FROM documents AS d WHERE d.kind = 'cloudwatch.alarm'
                        AND d.key = alarm_history.alarm_name LIMIT 1), :account),
    region = COALESCE((SELECT d.region FROM documents AS d WHERE d.kind = 'cloudwatch.alarm'
                       AND d.key = alarm_history.alarm_name LIMIT 1), :region);
DROP INDEX alarm_history_alarm;
CREATE INDEX alarm_history_alarm ON alarm_history (account, region, alarm_name, at);

-- a Logs Insights query searches the log groups of its account and Region, and only they see it
ALTER TABLE insights_queries ADD COLUMN account TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE insights_queries ADD COLUMN region TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE insights_queries SET account = :account, region = :region;
CREATE INDEX insights_queries_scope ON insights_queries (account, region, created);
