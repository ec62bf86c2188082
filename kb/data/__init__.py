"""The data layer: the curated CSV files, their schema and rules, the PubMed cache as
read, and the text helpers every layer shares (see docs/ARCHITECTURE.md)."""
