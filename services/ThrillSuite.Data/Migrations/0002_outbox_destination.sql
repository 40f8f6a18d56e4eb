-- A row with a destination is a command sent to that queue (durable even before its consumer first starts);
-- without one it is an event published to every subscriber.
alter table outbox_messages add column destination text null;
