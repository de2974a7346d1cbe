"""Running EXPLAIN, one module per database engine (PostgreSQL only, for now)."""
