-- Multi-player payouts (issue 8): community shares of a pot win and raffle prizes. One row per player credit, paid
-- through ThrillGate in CreditBatch commands (one per brand); a row's id is the credit's payout id (its wallet
-- transaction id derives from it), so ThrillGate's per-item outcomes (WinCredited / WinCreditPending / WinCreditFailed,
-- WinId = payout id) land here as they land on wins.
create table payouts (
    id                uuid primary key,
    kind              text        not null check (kind in ('community', 'raffle')),
    instance_id       uuid        not null references instances (id),
    pot_id            text        null,
    -- community: the pot win this share was carved from; raffle: the draw (raffle_draws, issue 8 raffles).
    win_id            uuid        null references wins (id),
    draw_id           uuid        null,
    batch_id          uuid        not null,
    brand_id          text        not null,
    player_id         text        not null,
    jackpot_currency  text        not null,
    amount            numeric     not null,
    player_currency   text        not null,
    player_amount     numeric     not null,
    -- strategy and rank (community), place and tickets (raffle)
    detail            jsonb       null,
    win_withheld      boolean     not null default false,
    payout_status     text        not null default 'owed' check (payout_status in ('owed', 'paid', 'pending', 'failed')),
    created_at        timestamptz not null default now()
);
create index payouts_instance on payouts (instance_id, created_at);
create index payouts_win on payouts (win_id) where win_id is not null;
create index payouts_draw on payouts (draw_id) where draw_id is not null;

-- Ledger reads by time (community ActivePlayers window, "since the pot's last win" rankings, leaderboards).
create index contributions_instance_time on contributions (instance_id, created_at);
