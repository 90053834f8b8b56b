"""The project's own middleware, one concern per module; their order is in
settings/base.py (MIDDLEWARE). The catalogue cache's middleware belongs to its app
(products/catalogue_cache.py)."""
