-- ThrillPots' admin model: operators and brands, contribution sources, currency multipliers, templates, instances and
-- their pots. Later kinds (community payouts, raffles, schedules, links, boosts, free bets) add
-- nullable columns or tables; the contribution ledger comes with the contribution path; the audit log is a platform table (ThrillSuite.Data).

create table operators (
    id             text primary key,
    name           text        not null,
    enabled        boolean     not null default true,
    -- Where asynchronous contribution results go (POST, HMAC-SHA256 signed with the secret, AES-GCM encrypted here).
    webhook_url    text        null,
    webhook_secret bytea       null,
    created_at     timestamptz not null default now()
);

create table brands (
    operator_id text        not null references operators (id),
    id          text        not null,
    name        text        not null,
    enabled     boolean     not null default true,
    created_at  timestamptz not null default now(),
    primary key (operator_id, id)
);

-- A source is bound to one brand (owner_id operator:brand); its id is unique within that owner.
create table sources (
    owner_id    text        not null,
    source_id   text        not null,
    source_name text        not null,
    created_at  timestamptz not null default now(),
    primary key (owner_id, source_id)
);

-- Multipliers per currency, relative to base_currency. scope '' is the system default; otherwise an owner_id
-- (operator:brand) whose entries override the defaults.
create table currency_tables (
    scope         text primary key,
    base_currency text        not null,
    multipliers   jsonb       not null,
    updated_at    timestamptz not null default now()
);
insert into currency_tables (scope, base_currency, multipliers) values ('', 'EUR', '{"EUR": 1}');

create table templates (
    id           uuid primary key,
    owner_id     text        not null,
    name         text        not null,
    currency     text        not null,
    jackpot_type text        not null,
    definition   jsonb       not null,
    published_at timestamptz null,
    version      int         not null default 1,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);
create index templates_owner on templates (owner_id);

create table instances (
    id              uuid primary key,
    template_id     uuid        not null references templates (id),
    owner_id        text        not null,
    name            text        not null,
    currency        text        not null,
    state           text        not null check (state in ('Pending', 'Active', 'Paused', 'Terminated')),
    allowed_brands  text[]      not null,
    allowed_sources text[]      not null default '{}',
    start_at        timestamptz null,
    end_at          timestamptz null,
    schedule        jsonb       null,
    linked_instance uuid        null references instances (id),
    version         int         not null default 1,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index instances_owner on instances (owner_id);
-- The engine's activation sweep: Pending instances whose start has come.
create index instances_pending_start on instances (start_at) where state = 'Pending';

-- One row per pot, updated once per contribution batch by the instance's single writer. position is the pot's place in
-- the template (the engine's order); initial_seed is what reconciliation starts from; drops holds the hidden MustDrop
-- points of the current cycle (never served by the API until revealed on a win).
create table pots (
    instance_id  uuid        not null references instances (id),
    pot_id       text        not null,
    position     int         not null,
    initial_seed numeric     not null,
    value        numeric     not null,
    reseed_fund  numeric     not null default 0,
    seed_boost   numeric     not null default 0,
    drops        jsonb       null,
    version      bigint      not null default 0,
    last_win_at  timestamptz null,
    updated_at   timestamptz not null default now(),
    primary key (instance_id, pot_id)
);

create table source_instances (
    owner_id    text        not null,
    source_id   text        not null,
    instance_id uuid        not null references instances (id),
    assigned_at timestamptz not null default now(),
    primary key (owner_id, source_id, instance_id),
    foreign key (owner_id, source_id) references sources (owner_id, source_id)
);
create index source_instances_instance on source_instances (instance_id);
