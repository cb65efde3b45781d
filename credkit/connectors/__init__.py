"""Connectors: credkit's directory to and from the access-control systems operators run."""
