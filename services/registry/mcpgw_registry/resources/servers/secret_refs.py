"""A server record without its secret values, and with them again: what a revision keeps.

A revision keeps the tools text as readers see it (`******` at every secret, the places
`resources.tools.secrets` masks on any read) and the upstream credential with its value and
password masked. The values taken out are returned by place: the locations
`secrets.credentials_of` names (`scheme:<id>`, `tool:<name>:request`, `config:<path>`, …) and
`upstreamCredential.value|password`; `stores.secret_store` keeps them, the revision only
references. `join` puts them back where a rollback needs them, through the same restore a write of
`******` goes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from mcpgw.contracts.errors import invalid
from mcpgw_registry.resources.servers.model import ServerRecord
from mcpgw_registry.resources.tools.secrets import mask, restore_from, stored_credentials
from mcpgw_registry.resources.validation import MASK

UPSTREAM_VALUE = "upstreamCredential.value"
UPSTREAM_PASSWORD = "upstreamCredential.password"


@dataclass
class Separated:
    # tools_text is the masked text (a str); no import state (it holds overrides with credentials,
    # and a rollback forgets the import anyway).
    record: ServerRecord
    values: dict[str, Any]


def separate(record: ServerRecord, text: str, *, tools_secrets: bool = True) -> Separated:
    """`record` (whose tools text is `text`) with every secret value replaced by `******`;
    `tools_secrets` False: the text is known to hold none."""
    values: dict[str, Any] = {}
    if tools_secrets:
        values = {place: value for place, value in stored_credentials(text, record.tools_format).items()
                  if value != ""}
        text = mask(text, record.tools_format)
    credential = record.upstream_credential
    if credential is not None:
        if credential.value:
            values[UPSTREAM_VALUE] = credential.value
        if credential.password:
            values[UPSTREAM_PASSWORD] = credential.password
        credential = msgspec.structs.replace(credential, value=MASK if credential.value else "",
                                             password=MASK if credential.password else "")
    kept = msgspec.structs.replace(record, tools_text=text, upstream_credential=credential,
                                   imported=None, overflow=None, tools_secrets=None)
    return Separated(kept, values)


def join(record: ServerRecord, values: dict[str, Any], field: str) -> ServerRecord:
    """`record` as `separate` left it with `values` put back; a `******` with nothing behind it is
    a 400 naming the place under `field`."""
    text = record.tools_text if isinstance(record.tools_text, str) else ""
    text = restore_from(text, record.tools_format, values, field)
    credential = record.upstream_credential
    if credential is not None:
        for attr, place in (("value", UPSTREAM_VALUE), ("password", UPSTREAM_PASSWORD)):
            if getattr(credential, attr) == MASK:
                if place not in values:
                    raise invalid(f"{field}.{place}", "the secret this revision refers to is not stored any more")
                credential = msgspec.structs.replace(credential, **{attr: values[place]})
    return msgspec.structs.replace(record, tools_text=text, upstream_credential=credential)


def changed(before: dict[str, str], after: dict[str, str]) -> list[dict[str, str]]:
    """Which secrets differ between two revisions' references, by place, never their values.

    Places by position (`scheme#0`, `tool#1:request`) repeat what the named ones say and are left out.
    """
    out = []
    for place in sorted(set(before) | set(after)):
        if "#" in place or before.get(place) == after.get(place):
            continue
        change = "added" if place not in before else "removed" if place not in after else "changed"
        out.append({"place": place, "change": change})
    return out
