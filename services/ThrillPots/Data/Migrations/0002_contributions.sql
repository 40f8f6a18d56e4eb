-- The contribution path (design.md §3–§5): the append-only ledger, wins, opt-ins, asynchronous requests with their
-- webhook deliveries, and the ticker's bookkeeping.

-- One row per applied contribution, written by the instance's single writer in the batch that applied it. The
-- idempotency key is (instance_id, brand_id, player_id, gameround_id); request_hash tells a repeat from other content.
-- pot_shares follow pots.position. No foreign key: the writer holds the instance row locked while it inserts, and a
-- per-row FK check would cost the hot path for nothing.
create table contributions (
    id                 uuid primary key,
    instance_id        uuid        not null,
    brand_id           text        not null,
    player_id          text        not null,
    gameround_id       text        not null,
    request_hash       bytea       not null,
    source_id          text        null,
    player_country     text        null,
    player_currency    text        not null,
    base_wager         numeric     not null,
    value              numeric     not null,
    player_value       numeric     not null,
    base_currency      text        not null,
    player_multiplier  numeric     not null,
    jackpot_multiplier numeric     not null,
    house_share        numeric     not null,
    pot_shares         numeric[]   not null,
    metadata           jsonb       null,
    wins               jsonb       null,
    created_at         timestamptz not null default now(),
    constraint contributions_key unique (instance_id, brand_id, player_id, gameround_id)
);

-- Every pot won. Written with the pot update, the JackpotWon event and the CreditWin command in one transaction.
create table wins (
    id                uuid primary key,
    instance_id       uuid        not null references instances (id),
    pot_id            text        not null,
    contribution_id   uuid        null,
    brand_id          text        not null,
    player_id         text        not null,
    source_id         text        null,
    gameround_id      text        null,
    trigger           text        not null,
    value_before      numeric     not null,
    win_amount        numeric     not null,
    remainder         numeric     not null,
    seed              numeric     not null,
    seed_deficit      numeric     not null,
    from_reseed_fund  numeric     not null,
    from_boosts       numeric     not null,
    jackpot_currency  text        not null,
    player_currency   text        not null,
    player_win_amount numeric     not null,
    reveals           jsonb       not null default '[]',
    win_withheld      boolean     not null default false,
    payout_status     text        not null default 'owed' check (payout_status in ('owed', 'paid', 'pending', 'failed')),
    created_at        timestamptz not null default now()
);
create index wins_instance on wins (instance_id, created_at);

-- A player's participation in an instance (spec §10): opt-in state, preferred contribution value (in its currency) and
-- running totals of applied contributions (jackpot currency).
create table opt_ins (
    instance_id        uuid        not null references instances (id),
    brand_id           text        not null,
    player_id          text        not null,
    opted_in           boolean     not null,
    preferred_value    numeric     null,
    preferred_currency text        null,
    player_country     text        null,
    contribution_count bigint      not null default 0,
    contribution_value numeric     not null default 0,
    updated_at         timestamptz not null default now(),
    primary key (instance_id, brand_id, player_id)
);

-- Asynchronous contributions: stored before the 202, applied by the async worker (idempotent by key, so a crash in
-- between only repeats work), each result then queued as a webhook delivery.
create table async_requests (
    id           uuid primary key,
    operator_id  text        not null,
    kind         text        not null check (kind in ('source', 'instance', 'v2')),
    request      jsonb       not null,
    state           text        not null default 'pending' check (state in ('pending', 'done')),
    attempts        int         not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error      text        null,
    created_at      timestamptz not null default now(),
    completed_at    timestamptz null
);
create index async_requests_pending on async_requests (next_attempt_at) where state = 'pending';

create table webhook_deliveries (
    id              uuid primary key,
    request_id      uuid        not null references async_requests (id),
    operator_id     text        not null,
    payload         jsonb       not null,
    state           text        not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
    attempts        int         not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_status     int         null,
    last_error      text        null,
    created_at      timestamptz not null default now(),
    delivered_at    timestamptz null
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where state = 'pending';
create index webhook_deliveries_request on webhook_deliveries (request_id);

-- What the ticker last announced per instance: the pot and instance versions it showed, and when.
create table tickers (
    instance_id  uuid primary key references instances (id),
    version      bigint      not null,
    published_at timestamptz not null
);
