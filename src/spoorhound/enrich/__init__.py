"""Enrichment: providers (offline and online), the plugin system, and the runner."""
