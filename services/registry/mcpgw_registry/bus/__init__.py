"""The registry on NATS: the lookups it answers (`handlers`: server snapshots for toolexec, server
views for the edge, the auth index, hosted upstreams) and the change events it publishes (`events`)."""
