-- BitBridge: dispatchers (the transports), templates (the content), the events taken in and one delivery per (event, dispatcher).

-- config holds the type's settings without its secrets (smtp pass, telegram token, webhook secret, amqp password), which are
-- kept as one AES-GCM sealed JSON object (Dispatchers:EncryptionKey) and never returned. A brand binding needs an operator.
create table dispatchers (
    id              text primary key,
    dispatcher_type text        not null check (dispatcher_type in ('Smtp', 'Telegram', 'Webhook', 'Amqp')),
    operator_id     text        null,
    brand_id        text        null,
    owner_id        text        not null,
    event_types     text[]      not null,
    enabled         boolean     not null default true,
    config          jsonb       not null,
    secrets         bytea       null,
    priority        int         not null default 0,
    version         int         not null default 1,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    check (brand_id is null or operator_id is not null)
);
create index dispatchers_event_types on dispatchers using gin (event_types) where enabled;

-- One enabled template per (type, event, scope): the most specific scope that matches an event is chosen.
create table templates (
    id              text primary key,
    owner_id        text        not null,
    operator_id     text        null,
    brand_id        text        null,
    dispatcher_type text        not null check (dispatcher_type in ('Smtp', 'Telegram', 'Webhook', 'Amqp')),
    event_type      text        not null,
    subject         text        null,
    body            text        not null,
    enabled         boolean     not null default true,
    version         int         not null default 1,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    check (brand_id is null or operator_id is not null)
);
create unique index templates_scope on templates (dispatcher_type, event_type, coalesce(operator_id, ''), coalesce(brand_id, '')) where enabled;

-- An event as it arrived (id = its MassTransit MessageId, stable across outbox re-publishes and broker redeliveries).
create table events (
    id          uuid primary key,
    event_type  text        not null,
    operator_id text        null,
    brand_id    text        null,
    payload     jsonb       not null,
    received_at timestamptz not null default now()
);

-- One row per (event, dispatcher): a redelivered event finds its rows and sends nothing twice. pending rows are due at
-- next_attempt_at (a worker moves it forward while it sends: the lease); sent and dead are final until a replay.
create table deliveries (
    id              uuid primary key,
    event_id        uuid        not null references events (id),
    dispatcher_id   text        not null,
    status          text        not null default 'pending' check (status in ('pending', 'sent', 'dead')),
    attempts        int         not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error      text        null,
    created_at      timestamptz not null default now(),
    sent_at         timestamptz null,
    unique (event_id, dispatcher_id)
);
create index deliveries_due on deliveries (next_attempt_at) where status = 'pending';
create index deliveries_dead on deliveries (created_at) where status = 'dead';
