"""api — the REST API under /api/v1/ and its OpenAPI schema and docs.

Owns `ApiToken` (per-integration tokens, stored hashed, scoped, revocable, with their last use), the
authentication and the deny-by-default permission class (views name a token scope and staff permissions per
action), and the views and serializers. Views are adapters: they validate, call one selector or service of
another app (registry, requests_app, dispatch, audit), record reads of personal data and evidence with
`audit.ledger.record`, and answer. No other app imports `api`.
"""
