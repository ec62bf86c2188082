"""The export layer: selections of works and claims (selection), citation writers
(writers: BibTeX, RIS, CSL-JSON), formatted lists through pandoc's citeproc (citeproc),
evidence tables (evidence_table), and the one entry point (formats.render)."""
