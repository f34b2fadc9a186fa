"""Tools documents used by several tests."""

WEATHER_YAML = """\
# Weather tools: comments and layout must survive a round trip untouched.
server:
  name: weather
  config:
    base: https://api.example.com
  securitySchemes:
    - id: bearer
      type: http
      scheme: bearer
      defaultCredential: secret-token
tools:
  - name: get_forecast
    title: Forecast
    description: Forecast for a city
    args:
      - name: city
        description: City name
        type: string
        required: true
      - name: days
        type: integer
        default: 3
        enum: [1, 3, 7]
        position: query
      - name: tags
        type: array
        items: {type: string}
      - name: region
        type: string
        position: path
        required: true
      - name: opts
        type: object
        properties:
          metric: {type: boolean}
    requestTemplate:
      url: "{{.config.base}}/v1/{region}/forecast?city={{.args.city}}"
      method: get
      headers:
        - key: X-Trace
          value: "{{.args.city}}"
      security:
        id: bearer
    responseTemplate:
      prependBody: "Forecast:\\n"
    annotations:
      readOnlyHint: true
  - name: echo.text
    description: Answers without calling a backend
    args:
      - name: text
        required: true
    responseTemplate:
      body: "You said {{.args.text}}"
    outputSchema:
      type: object
      properties:
        said: {type: string}
  - name: hidden
    disabled: true
    requestTemplate:
      url: https://api.example.com/hidden
"""


def one_tool(url: str = "https://api.example.com/x", **request: object) -> str:
    """A minimal document with one tool whose requestTemplate is `url` plus `request` lines."""
    extra = "".join(f"      {k}: {v}\n" for k, v in request.items())
    return (
        "server:\n  name: s\ntools:\n  - name: t\n    requestTemplate:\n"
        f"      url: {url!r}\n{extra}"
    )

# What readers get back: backend credentials are write-only.
WEATHER_YAML_MASKED = WEATHER_YAML.replace("defaultCredential: secret-token", 'defaultCredential: "******"')
