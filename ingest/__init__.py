"""PubMed ingest: the only code that talks to NCBI (fetch), and pure parsers."""
