"""The layer between Streamlit pages and the engine: the control schema, runs, and the widgets."""
