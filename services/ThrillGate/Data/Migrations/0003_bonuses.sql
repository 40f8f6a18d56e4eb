-- Free bets (issue 9, spec wallet-thrillgate-freebets.md §8): templates → instances → player bonuses. A player bonus keeps
-- its own copy of the type, value and scope, so changing or removing a template or instance never changes an award.
-- Times are epoch milliseconds as on the wire; 0 = never (no expiry, no start, no end).
create table bonus_templates (
    id               uuid        primary key,
    name             text        not null,
    operator_id      text        not null,
    brand_id         text        not null,
    freespin_type    jsonb       not null,
    expires_after_ms bigint      not null,
    created_by       text        null,
    created_at       timestamptz not null default now()
);

create table bonus_instances (
    id               uuid        primary key,
    name             text        not null,
    operator_id      text        not null,
    brand_id         text        not null,
    template_id      uuid        not null references bonus_templates (id),
    freespin_type    jsonb       not null,
    available_for    jsonb       not null,
    expires_after_ms bigint      not null,
    timestamp_start  bigint      not null,
    timestamp_end    bigint      not null,
    created_at       timestamptz not null default now()
);

-- One row per award request: request_id is the idempotency key (per brand); the answer is kept so a replay returns it.
create table bonus_awards (
    operator_id  text        not null,
    brand_id     text        not null,
    request_id   text        not null,
    request_hash text        not null,
    response     jsonb       null,
    created_at   timestamptz not null default now(),
    primary key (operator_id, brand_id, request_id)
);

create table player_bonuses (
    id                uuid    primary key,
    operator_id       text    not null,
    brand_id          text    not null,
    player_id         text    not null,
    request_id        text    not null,
    instance_id       uuid    null references bonus_instances (id),
    promo_id          text    null,
    name              text    not null,
    kind              text    not null check (kind in ('Fixed', 'Variable')),
    currency          text    not null,
    value             numeric null,
    count             int     null,
    used              int     not null default 0,
    amount            numeric null,
    amount_used       numeric not null default 0,
    available_for     jsonb   not null,
    state             text    not null check (state in ('Available', 'Consumed', 'Expired', 'Removed')),
    awarded_at        bigint  not null,
    expires_at        bigint  not null,
    consumed_at       bigint  null,
    ended_at          bigint  null,
    check (kind = 'Fixed' and count > 0 and value > 0 and used between 0 and count
        or kind = 'Variable' and amount > 0 and amount_used between 0 and amount)
);
create index player_bonuses_player on player_bonuses (operator_id, brand_id, player_id, state);
create index player_bonuses_expiry on player_bonuses (expires_at) where state = 'Available' and expires_at > 0;

-- One use of a bonus by one contribution, keyed by the contribution: a retry finds it and gets the same answer. A release
-- deletes it (and gives the use back), so a later retry of a refused contribution starts afresh.
create table bonus_consumptions (
    contribution_key text        primary key,
    bonus_id         uuid        not null references player_bonuses (id),
    amount           numeric     not null,
    currency         text        not null,
    created_at       timestamptz not null default now()
);
create index bonus_consumptions_bonus on bonus_consumptions (bonus_id);
