-- When the win was recorded in ThrillPots (CreditWin.WonAt): thrillgate.payout.latency runs from it to the wallet's
-- acknowledgement. Null for batch credits and commands from before it was sent; created_at stands in.
alter table credits add column won_at timestamptz null;
