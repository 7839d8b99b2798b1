-- Consumers read only the event types they handle (EventLog::subscribe with types): by type, in
-- seq order, without scanning the events of other types.
CREATE INDEX events_type_seq ON events (type, seq);
