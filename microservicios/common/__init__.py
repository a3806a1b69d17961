"""Pieces shared by the gateway and the services: settings, auth, HTTP client, logs, database."""
