-- Issue 17: event-driven invocations (rules matching events on a bus), alarm history, Logs Insights queries.

-- one row per event a rule matched (MatchedEvents, TriggeredRules, the rule page's matched events)
CREATE TABLE IF NOT EXISTS event_matches (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, bus TEXT NOT NULL, rule_name TEXT NOT NULL, rule_arn TEXT NOT NULL,
    event_id TEXT NOT NULL, targets INTEGER NOT NULL, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS event_matches_rule ON event_matches (rule_arn, at);
CREATE INDEX IF NOT EXISTS event_matches_at ON event_matches (at);

-- one row per (matched event, target): its delivery, retries and dead letter
CREATE TABLE IF NOT EXISTS event_invocations (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, event_id TEXT NOT NULL, bus TEXT NOT NULL,
    rule_name TEXT NOT NULL, rule_arn TEXT NOT NULL, target_id TEXT NOT NULL, target_arn TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL, finished_at REAL,
    error_code TEXT, error_message TEXT, dead_letter TEXT, payload TEXT NOT NULL, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS event_invocations_rule ON event_invocations (rule_arn, at);
CREATE INDEX IF NOT EXISTS event_invocations_pending ON event_invocations (next_attempt_at) WHERE state = 'PENDING';
CREATE INDEX IF NOT EXISTS event_invocations_at ON event_invocations (at);

-- every change of an alarm (state, configuration), kept two weeks as CloudWatch does
CREATE TABLE IF NOT EXISTS alarm_history (
    id INTEGER PRIMARY KEY, alarm_name TEXT NOT NULL, at REAL NOT NULL, kind TEXT NOT NULL,
    summary TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alarm_history_alarm ON alarm_history (alarm_name, at);
CREATE INDEX IF NOT EXISTS alarm_history_at ON alarm_history (at);

-- Logs Insights queries: what was asked, its state, and its results once complete
CREATE TABLE IF NOT EXISTS insights_queries (
    id TEXT PRIMARY KEY, created REAL NOT NULL, query TEXT NOT NULL, groups TEXT NOT NULL,
    start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, query_limit INTEGER, status TEXT NOT NULL,
    results TEXT, statistics TEXT, completed REAL);
CREATE INDEX IF NOT EXISTS insights_queries_created ON insights_queries (created);
