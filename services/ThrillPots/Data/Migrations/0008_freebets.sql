-- Free bets (issue 9): a contribution paid by a ThrillGate player bonus instead of a wallet debit records the bonus it used;
-- its value is what the bonus gave (Prepaid), and it never has a debit transaction.
alter table contributions add column free_bet_id uuid null;
create index contributions_free_bet on contributions (free_bet_id) where free_bet_id is not null;
