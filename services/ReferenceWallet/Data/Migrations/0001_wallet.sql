-- The reference operator wallet (spec/wallet-thrillgate-freebets.md §3): players, sessions, the ledger.
create table players (
    player_id     text           primary key,
    player_token  text           not null unique,
    operator_id   text           not null,
    brand_id      text           not null,
    currency      text           not null,
    balance       numeric(30, 8) not null check (balance >= 0),
    nickname      text           null,
    gender        text           not null default '?',
    country       text           not null default 'MT',
    date_of_birth date           null,
    jurisdiction  text           null,
    segments      text[]         null,
    created_at    timestamptz    not null default now(),
    updated_at    timestamptz    not null default now()
);

create table sessions (
    session_token text        primary key,
    player_id     text        not null references players (player_id) on delete cascade,
    source_id     text        null,
    created_at    timestamptz not null default now()
);
create index sessions_player on sessions (player_id);

-- A batch row is share-locked by each of its items and updated by the batch cancel, so a cancel
-- waits for items in flight and items that come after it see the batch cancelled.
create table batches (
    batch_id     text        primary key,
    created_at   timestamptz not null default now(),
    cancelled_at timestamptz null
);

-- One row per caller transaction id, whatever became of it. The primary key is what settles repeats,
-- concurrent duplicates and the debit/cancel race to one outcome. A row without a type is a tombstone:
-- a cancel that arrived before (or instead of) its transaction (§3.9).
create table wallet_transactions (
    transaction_id           text           primary key,
    wallet_transaction_id    uuid           not null unique,
    player_id                text           null,
    transaction_type         text           null check (transaction_type in ('Debit', 'Credit')),
    amount                   numeric(30, 8) null check (amount > 0),
    currency                 text           null,
    provider_id              text           null,
    token                    text           null,
    gameround_id             text           null,
    source_id                text           null,
    close_round              boolean        not null default false,
    reference_transaction_id text           null,
    batch_id                 text           null references batches (batch_id),
    balance_after            numeric(30, 8) null,
    created_at               timestamptz    not null default now(),
    cancelled_at             timestamptz    null,
    cancel_balance_after     numeric(30, 8) null,
    check ((transaction_type is null) = (amount is null)),
    check ((transaction_type is null) = (balance_after is null)),
    check (transaction_type is not null or cancelled_at is not null)
);
create index wallet_transactions_player on wallet_transactions (player_id, created_at);
create index wallet_transactions_batch on wallet_transactions (batch_id) where batch_id is not null;
