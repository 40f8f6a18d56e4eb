-- The ticker's once-a-second statements read live instances only (Jackpots/Ticker.cs): Terminated instances accumulate for
-- ever, and reading all of them each second cost ≈ 32 ms at 5,000 instances. instances_live serves "not Terminated" and
-- each live state (start, end, deadlines); instances_ended the instances that ended recently.
create index instances_live on instances (state) where state <> 'Terminated';
create index instances_ended on instances (updated_at) where state = 'Terminated';
