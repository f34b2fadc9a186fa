"""mcpgw shared package: the wire contracts and the thin runtime every service uses."""
