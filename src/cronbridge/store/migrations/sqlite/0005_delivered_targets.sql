-- Issue 17 (the gaps): what a target made of an invocation, beside task ARNs. Scheduled rules and schedules now
-- deliver to SQS, another bus and log groups too (the message id, the event id put on the bus, the log stream);
-- event-driven deliveries keep the tasks an ECS target started, so both histories show the same outcome.

ALTER TABLE invocations ADD COLUMN delivered TEXT;

ALTER TABLE event_invocations ADD COLUMN task_arns TEXT NOT NULL DEFAULT '[]';

ALTER TABLE event_invocations ADD COLUMN delivered TEXT;

-- a rule's history by name (the invocation log is read by name too): /_cronbridge/invocations?rule=NAME&bus=BUS
CREATE INDEX IF NOT EXISTS event_invocations_name ON event_invocations (rule_name, bus, at);
