-- Platform tables every service has: the transactional outbox, the consumer inbox, diagnostic probes.
create table outbox_messages (
    id           uuid primary key,
    message_type text        not null,
    body         jsonb       not null,
    trace_parent text        null,
    trace_state  text        null,
    created_at   timestamptz not null default now(),
    published_at timestamptz null,
    attempts     int         not null default 0,
    last_error   text        null
);
create index outbox_messages_pending on outbox_messages (created_at, id) where published_at is null;
create index outbox_messages_published on outbox_messages (published_at) where published_at is not null;

create table inbox_messages (
    message_id   uuid        not null,
    consumer     text        not null,
    processed_at timestamptz not null default now(),
    primary key (message_id, consumer)
);

create table diagnostic_probes (
    probe_id    uuid        not null,
    role        text        not null check (role in ('sent', 'received')),
    trace_id    text        not null,
    detail      jsonb       not null,
    recorded_at timestamptz not null default now(),
    primary key (probe_id, role)
);
