"""The KPI engine: the SQL that turns the loaded records into monthly series (compute*), and the analysis on them
(trajectory, status, forecast, SPC, benchmarks, reconciliation, exploration). No Streamlit, no formatting."""
