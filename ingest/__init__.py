"""PubMed ingest: the only code that talks to NCBI (entrez), the parser (pubmed), the raw
cache, and the orchestration of the three (sync). It never imports kb."""
