"""The database layer: tables and views declared as data (tables), a data set as their
rows (rows), the atomic build (build), and the SQL the exports read with (queries)."""
