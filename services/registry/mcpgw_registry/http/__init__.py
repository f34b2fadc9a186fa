"""The admin REST API (`/v1/...`) on aiohttp: thin handlers that decode, call a store, and wrap.

`envelope` guarantees the `{requestId, code, message, data}` answer (errors included), `admin_auth`
the bearer token, `paging` the list parameters; then one module of routes per resource, and
`apispec` the API's own OpenAPI document; `context` is what handlers work with and `routes`
every route table in mounting order. Outside this package only the composition root (`app.py`,
`service.py`) touches aiohttp.
"""
