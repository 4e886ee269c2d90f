"""What the pages and the CLI show: plotly figures, board tables, formatted values and the text beside them, built
from the engine's frames. No SQL and no Streamlit."""
