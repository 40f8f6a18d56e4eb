-- Published messages leave the queue (OutboxRelay moves each one, in the transaction that records it as published):
-- outbox_messages holds only what is still to be published, so its pending index and its vacuum stay the size of the
-- backlog. Kept in the same table until the retention's clean-up (3 days; JackpotUpdated ticks every second per live
-- instance), published rows left dead entries at the head of the pending index until autovacuum, which waits for 20% of
-- the table: a relay poll took 4–43 ms with 200,000 of them, 0.1–0.3 ms after a vacuum.
-- The table as it is, with its history, becomes the archive (a rename: no rows copied); a new queue takes the pending ones.
alter table outbox_messages rename to outbox_published;
alter index outbox_messages_pkey rename to outbox_published_pkey;
alter index outbox_messages_published rename to outbox_published_at;
drop index outbox_messages_pending;

-- published_at stays: a relay of the previous version (during a rolling upgrade) marks rows published instead of moving
-- them, and the pending index leaves those out; the clean-up deletes them after the retention.
create table outbox_messages (
    id           uuid primary key,
    message_type text        not null,
    body         jsonb       not null,
    trace_parent text        null,
    trace_state  text        null,
    created_at   timestamptz not null default now(),
    published_at timestamptz null,
    attempts     int         not null default 0,
    last_error   text        null,
    destination  text        null,
    secret       boolean     not null default false
);
create index outbox_messages_pending on outbox_messages (created_at, id) where published_at is null;

insert into outbox_messages (id, message_type, body, trace_parent, trace_state, created_at, published_at, attempts, last_error, destination, secret)
select id, message_type, body, trace_parent, trace_state, created_at, published_at, attempts, last_error, destination, secret
from outbox_published where published_at is null;
delete from outbox_published where published_at is null;

-- Every message, pending or published (until the retention's clean-up): for diagnosis.
create view outbox_all as
select id, message_type, body, trace_parent, trace_state, created_at, published_at, attempts, last_error, destination, secret
from outbox_messages
union all
select id, message_type, body, trace_parent, trace_state, created_at, published_at, attempts, last_error, destination, secret
from outbox_published;
