-- A brand is named "operator:brand" everywhere outside this table (tokens, ledger rows, allowed_brands, sources), and the
-- contribution path looks brands up by that name: each writer batch reads its brands' flags, and wallet integration is
-- read per brand. Without an index on the name every such lookup read the whole table (≈ 1 ms per batch with 5,000
-- brands). Ids hold no ':' (Ids.Rule), so the name is unique.
create unique index brands_name on brands ((operator_id || ':' || id));
