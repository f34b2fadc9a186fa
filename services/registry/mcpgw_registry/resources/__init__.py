"""The resources: request bodies, stored records, the checks that need no store, and API views.

One module (or package) per resource: `servers` (and their kinds), `tools` (the tools document,
its JSON Schemas and its write-only secrets), `consumers` (API keys, JWT settings), `grants`,
`services`, `hosted` (backends, upstream credentials), `assembly`. `ids` and `validation` (error
messages that name the field) serve them all.
"""
