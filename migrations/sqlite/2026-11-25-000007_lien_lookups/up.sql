-- Whether a bank may see an asset is asked of the asset's liens of any
-- status (active or settled); the partial unique index holds active ones only.
CREATE INDEX liens_asset ON liens (asset_id);
