"""The registry: mcpgw's control plane (servers, tools, consumers, grants, services).

    http/        the admin REST API (aiohttp): routes per resource, the envelope, paging, the
                 admin token, and the API's own OpenAPI document (`http/apispec`)
    stores/      JetStream access: the KV bucket (every key in `stores/keys`) and the object
                 store, unique-name claims, one repository per resource (every check first, then
                 the writes), and the consistency between resources (links, cascades)
    resources/   each resource's model: request bodies, the stored record, validation that
                 needs no store, the API view; the tools document and its secrets
    importing/   the OpenAPI/Swagger import workflow: the converter (`importing/openapi`), the
                 plan, incremental re-import with operator overrides, PATCH of one tool
    bus/         what the registry answers on NATS and the change events it publishes
    app.py       the composition root: builds the stores, serves the bus, mounts the routes
    service.py   the process (`python -m mcpgw_registry`), settings.py its settings

A resource's routes are `http/<resource>.py`, its repository `stores/<resource>.py`, its model
`resources/<resource>`. Handlers (http, bus) call stores and importing, which work on resources
and publish change events through `bus.events`; a rule another service applies as well lives in
the shared package (`mcpgw.*`), never here.
"""
