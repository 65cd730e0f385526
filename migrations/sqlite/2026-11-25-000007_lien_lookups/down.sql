DROP INDEX liens_asset;
