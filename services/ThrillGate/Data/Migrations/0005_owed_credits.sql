-- The owed credits counted every few seconds (thrillgate.credits.pending): paid credits accumulate, so the count must not
-- read them (Credits/Credits.cs, OwedCount).
create index credits_owed on credits (state) where state in ('queued', 'pending', 'failed');
