"""OpenAPI 3.0/3.1 and Swagger 2.0 documents -> a Higress tools document (one tool per operation).

`convert` is the whole interface: the import workflow (preview, diff, apply) calls it and works
on the `ToolsDocument` it returns. Nothing here fetches anything: external references are refused.

What a generated tool looks like:
- `name` from operationId (else method + path), `[A-Za-z0-9_-]{1,64}`, unique and stable;
  `source` = method, path template, operationId (the key re-imports match on).
- `inputSchema`: one flat object over path, query, header, cookie and body fields; `args` is the
  parameter map toolexec runs by: `position`, `wireName` when the argument is renamed (`id__path`
  -> `id`), `style`/`explode` where serialisation differs from toolexec's default, `format:
  binary` for base64 file arguments. A body that is not an object is the single argument `body`
  with wire name `$body`: it is sent as the whole payload.
- `requestTemplate`: `url` = `{{.config.baseUrl}}` + the path with `{argument}` placeholders (or
  an operation's own absolute server), `bodyMediaType`, `securityRequirements` (OR of ANDs of
  `server.securitySchemes` ids, whose credentials the operator configures) and, when the first
  alternative is a single scheme, the Higress `security` reference.
- `outputSchema` from the JSON success response (wrapped as `{result: …}` when not an object),
  `annotations` from the method, `description` from summary + description without HTML.

The pipeline is in `convert`; the modules follow its steps: `load`, `refs`, `operations` /
`swagger2`, `media`, `schemas` (with `schema_nodes`, `schema_graph`, `schema_tree`), `inputs`,
`security`, `servers`, `outputs`, `naming`, `text`.
"""

from mcpgw_registry.importing.openapi.convert import convert
from mcpgw_registry.importing.openapi.model import ImportOptions, ImportResult, Skipped

__all__ = ["ImportOptions", "ImportResult", "Skipped", "convert"]
