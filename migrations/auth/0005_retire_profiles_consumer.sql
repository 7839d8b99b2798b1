-- Auth no longer keeps a copy of display names fed by users.profile_updated.v1: it owns the name
-- (users renames through auth::Accounts). Its consumer's offset goes, or the event log's pruning,
-- which keeps what every stored offset has not passed, would wait on it forever.
DELETE FROM event_offsets WHERE consumer = 'auth.profiles';
