"""The lifecycle dashboard, a Streamlit app: ``lifecycle dashboard`` runs this file.

One page per module of :mod:`lifecycle.dashboard.pages` (:data:`~lifecycle.dashboard.pages.PAGES`);
each page view opens a fresh read-only view of the serving copy (:func:`data.open_serving`), so
the page always shows the latest publish, and closes it when the page is drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from lifecycle.dashboard.data import DataError, open_serving
from lifecycle.dashboard.pages import PAGES

APP_TITLE = "Customer lifecycle"
DEFAULT_PAGE = "overview"


def render_page(key: str) -> None:
    """Draw page ``key``: its title, its one-line reading guide, then its charts."""
    page = PAGES[key]
    st.title(page.TITLE)
    st.caption(page.GUIDE)
    try:
        with open_serving() as db:
            page.render(db)
    except DataError as exc:
        st.error(str(exc))


def _page_function(key: str) -> Callable[[], None]:
    def draw() -> None:
        render_page(key)

    draw.__name__ = f"page_{key}"
    return draw


def main() -> None:
    st.set_page_config(page_title=APP_TITLE, layout="wide")
    nav = st.navigation(
        [
            st.Page(_page_function(key), title=page.TITLE, url_path=key, default=key == DEFAULT_PAGE)
            for key, page in PAGES.items()
        ]
    )
    nav.run()


if __name__ == "__main__":
    main()
