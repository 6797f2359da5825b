"""The sender REST API, version 1: a FastAPI app mounted at /api/v1."""
