-- Wallet integration per brand (issue 5): when on, a contribution is first debited from the player's wallet through
-- ThrillGate and wins are credited; when off, the operator settles both itself and wins are withheld from automatic payment.
alter table brands add column wallet_integration boolean not null default false;

-- The debit a contribution took, on its ledger row.
alter table contributions add column debit_transaction_id text null;

-- Debits asked of the wallet and not yet settled by a committed or refused contribution: written before the debit,
-- deleted once the contribution's outcome is known. A row left behind (the process died in between, and the client
-- never retried) is resolved by the sweeper: cancelled unless the ledger has the contribution.
create table pending_debits (
    transaction_id text primary key,
    instance_id    uuid        not null,
    operator_id    text        not null,
    brand_id       text        not null,
    player_id      text        not null,
    gameround_id   text        not null,
    created_at     timestamptz not null default now()
);
create index pending_debits_age on pending_debits (created_at);
