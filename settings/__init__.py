"""The settings a learner can change, in one place: their schema (`controls`: one typed list that the widgets, the
URL and the validation all derive from) and what a teacher's lesson link does to them (`lesson`: hide, lock, set).

Pure Python, no Streamlit: everything else imports it, it imports only the engine.
"""
