"""RecoverOps, live: what failed and why, the fixes and their approvals, and how well it works.

    .venv/bin/streamlit run dashboard/app.py     # the API at RECOVEROPS_DASHBOARD_API_URL

The pages (views/) read the HTTP API only, through `client`. The API's address comes from the
settings alone, never from the page's URL or a form: the page's server makes the requests, so a
visitor who could name the address could make it fetch any URL.
"""

from __future__ import annotations

import streamlit as st
from common import SESSION_KEY, Session
from pydantic import ValidationError
from signin import sidebar, sign_in

from recoverops.settings import Settings, problems

PAGES = (
    st.Page("views/live.py", title="Live", icon=":material/monitor_heart:", default=True),
    st.Page("views/failures.py", title="Failures", icon=":material/timeline:", url_path="failures"),
    st.Page("views/incident.py", title="Incident", icon=":material/search:", url_path="incident"),
    st.Page("views/fixes.py", title="Fixes", icon=":material/build:", url_path="fixes"),
    st.Page(
        "views/analytics.py", title="Analytics", icon=":material/bar_chart:", url_path="analytics"
    ),
)


def main() -> None:
    st.set_page_config(page_title="RecoverOps", layout="wide")
    try:
        settings = Settings()
    except ValidationError as error:
        st.error("Invalid settings: " + "; ".join(problems(error)))
        return
    token = settings.dashboard_token
    api, identity, refusal = sign_in(
        settings.dashboard_api_url, None if token is None else token.get_secret_value()
    )
    st.session_state[SESSION_KEY] = Session(api=api, identity=identity)
    page = st.navigation(list(PAGES))
    with st.sidebar:
        st.caption(f"API: {api.base_url} (RECOVEROPS_DASHBOARD_API_URL)")
        sidebar(identity, refusal)
    page.run()


main()
