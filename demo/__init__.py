"""Synthetic data for the demo, the tests and the documentation's samples: deterministic, seeded generators of
SEN2 extracts (every layout), local extracts and waiting lists, calibrated to published figures. Not part of the
ETL: the loader never imports it (``python -m etl demo`` is the one entry point that runs it)."""
