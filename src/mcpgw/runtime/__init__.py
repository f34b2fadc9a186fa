"""The thin runtime the services share: settings, the NATS bus, tracing and process lifecycle."""
