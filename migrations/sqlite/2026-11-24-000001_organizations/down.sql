DROP TABLE api_keys;
DROP TABLE risk_officers;
DROP TABLE organization_keys;
DROP TABLE organizations;
