"""The auth worker's index: every consumer's verification material and every grant, at a revision."""

from __future__ import annotations

from mcpgw.contracts.registry import AuthIndex
from mcpgw_registry.resources.consumers.model import to_credentials
from mcpgw_registry.resources.grants import to_grant
from mcpgw_registry.stores.consumers import ConsumerRepository
from mcpgw_registry.stores.grants import GrantRepository
from mcpgw_registry.stores.kv import Store


async def build(store: Store, consumers: ConsumerRepository, grants: GrantRepository) -> AuthIndex:
    # Read first: every write up to this revision is in the listings below (later ones may be too),
    # so auth can tell whether its index reflects a change the edge has already heard of.
    revision = await store.last_revision()
    credentials = [to_credentials(record) for record, _ in await consumers.all()]
    # Only rules whose consumer and server exist: a deleted owner's rules grant nothing, also before
    # they are swept (see stores.grant_records).
    rules = [to_grant(record) for record, _ in await grants.all()]
    return AuthIndex(consumers=credentials, grants=rules, revision=revision)
