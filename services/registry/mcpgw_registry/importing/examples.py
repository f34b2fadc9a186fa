"""Starting points served by `GET /v1/mcp-servers/tools/import/example`: a tools YAML and an OpenAPI document.

Both are tested to be valid (the YAML parses, the OpenAPI document converts), so they never rot.
"""

TOOLS_YAML = """\
# An mcpgw tools document (the Higress REST-to-MCP schema). Save it with
#   PUT /v1/mcp-servers/{mcpServerId}/tools   (Content-Type: application/yaml)
server:
  name: weather                   # informational; the MCP server's name is the resource's
  config:                         # values templates can read as {{.config.<key>}}
    baseUrl: https://api.example.com
    accountId: "12345"            # write-only (reads show ******): declared in secretConfig;
  secretConfig: [accountId]       # keys containing key/token/secret/password are write-only anyway
  securitySchemes:                # backend credentials, injected by the gateway, never seen by clients
    - id: apikey
      type: apiKey                # or: type: http with scheme: bearer | basic
      in: header
      name: X-Api-Key
      defaultCredential: change-me
tools:
  - name: get_forecast            # [A-Za-z0-9_-], at most 64 characters works with every client
    description: Weather forecast for a city
    args:
      - name: city
        description: City name
        type: string              # string | number | integer | boolean | array | object
        required: true
        position: query           # path | query | header | cookie | body
      - name: days
        type: integer
        default: 3
        enum: [1, 3, 7]
        position: query
    requestTemplate:
      url: "{{.config.baseUrl}}/v1/forecast"
      method: GET
      security:
        id: apikey
    responseTemplate:
      prependBody: "Forecast (JSON):\\n"
    annotations:
      readOnlyHint: true
  - name: report_issue
    description: File a weather data issue
    args:
      - name: title
        type: string
        required: true
      - name: details
        type: string
    requestTemplate:
      url: "{{.config.baseUrl}}/v1/issues"
      method: POST
      argsToJsonBody: true        # all arguments as one JSON object body
      security:
        id: apikey
"""

OPENAPI_YAML = """\
# A minimal OpenAPI 3.0 document. Import it with
#   POST /v1/mcp-servers/{mcpServerId}/tools/import:preview   (look first; changes nothing)
#   POST /v1/mcp-servers/{mcpServerId}/tools/import           (apply)
# One tool per operation, named after its operationId.
openapi: 3.0.3
info:
  title: Weather
  version: "1.0"
servers:
  - url: https://api.example.com
paths:
  /v1/forecast:
    get:
      operationId: get_forecast
      summary: Weather forecast for a city
      parameters:
        - name: city
          in: query
          required: true
          schema: {type: string}
        - name: days
          in: query
          schema: {type: integer, default: 3, enum: [1, 3, 7]}
      responses:
        "200":
          description: The forecast
          content:
            application/json:
              schema:
                type: object
                properties:
                  city: {type: string}
                  days: {type: array, items: {type: object}}
  /v1/issues:
    post:
      operationId: report_issue
      summary: File a weather data issue
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [title]
              properties:
                title: {type: string}
                details: {type: string}
      responses:
        "201":
          description: Filed
"""
