-- Community payouts (issue 8): the part of a pot win the triggering player keeps (jackpot currency). wins.win_amount stays
-- the pot's whole payout; for a win with a community part, player_portion + Σ its community payouts = win_amount, which
-- reconciliation checks. Null (no community part): the player's portion is the whole win_amount.
alter table wins add column player_portion numeric null;
