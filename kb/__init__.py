"""nelm-kb: curated evidence on GEP-NEN liver metastases, built into SQLite."""
