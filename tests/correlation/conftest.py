"""The HTTP tests' fixtures (each store and queue pairing the system uses), shared with
tests/serve."""

from tests.serve.conftest import backend, client, sqlite_backend, sqlite_client

__all__ = ["backend", "client", "sqlite_backend", "sqlite_client"]
