"""Shared test helpers (importable as ``support.*``: pytest's ``pythonpath`` has tests/)."""
