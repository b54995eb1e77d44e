"""The lifecycle dashboard (``lifecycle dashboard``): a Streamlit app on the published serving copy.

:mod:`~lifecycle.dashboard.data` reads the serving copy (fresh and read-only per page view),
:mod:`~lifecycle.dashboard.view` holds what pages share, :mod:`~lifecycle.dashboard.pages` one
module per page, :mod:`~lifecycle.dashboard.app` the Streamlit script and
:mod:`~lifecycle.dashboard.server` starts it.
"""
