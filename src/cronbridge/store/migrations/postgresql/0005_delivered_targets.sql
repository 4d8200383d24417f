-- Issue 17 (sqlite/0005 in PostgreSQL's types): what a target made of an invocation, beside task ARNs (the message
-- id, the event id put on the bus, the log stream); event-driven deliveries keep the tasks an ECS target started.

ALTER TABLE invocations ADD COLUMN delivered TEXT;

ALTER TABLE event_invocations ADD COLUMN task_arns TEXT NOT NULL DEFAULT '[]';

ALTER TABLE event_invocations ADD COLUMN delivered TEXT;

-- a rule's history by name: /_cronbridge/invocations?rule=NAME&bus=BUS
CREATE INDEX event_invocations_name ON event_invocations (rule_name, bus, at);
