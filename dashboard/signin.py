"""Sign-in: a bearer token from the sidebar's box (kept in the session) or the setting
RECOVEROPS_DASHBOARD_TOKEN, and who it names (GET /me).

The token typed in wins over the setting's; "Sign out" forgets it and falls back to the setting.
An API without sign-in (GET /me answers 404) lets the dashboard do everything.
"""

from __future__ import annotations

import streamlit as st
from client import Api, ApiUnavailable, Identity, SignInRequired, me

TOKEN_KEY = "signin_token"
TYPED_KEY = "signin_typed"


def sign_in(base_url: str, configured: str | None) -> tuple[Api, Identity | None, str | None]:
    """The API with the session's token, who it names (None when unknown), and the API's
    refusal of the token when it refused it (an unreachable API is the pages' to report)."""
    api = Api(base_url, st.session_state.get(TOKEN_KEY) or configured)
    try:
        return api, me(api), None
    except SignInRequired as error:
        return api, None, f"Sign in: the API refused {_whose(api, configured)} ({error})."
    except ApiUnavailable:
        return api, None, None


def sidebar(identity: Identity | None, refusal: str | None) -> None:
    st.header("Signed in")
    if identity is not None and identity.auth == "disabled":
        st.caption("This API has no sign-in (development): everything is allowed.")
        return
    if identity is not None:
        st.caption(f"**{identity.subject}** · {identity.role}")
        if st.session_state.get(TOKEN_KEY):
            st.button("Sign out", key="signout", on_click=_forget)
        return
    if refusal is not None:
        st.warning(refusal)
    st.text_input("Token", type="password", key=TYPED_KEY, help="A bearer token for the API")
    st.button("Sign in", key="signin", on_click=_remember)


def _whose(api: Api, configured: str | None) -> str:
    if api.token is None:
        return "a request without a token"
    return "the token of RECOVEROPS_DASHBOARD_TOKEN" if api.token == configured else "the token"


def _remember() -> None:
    st.session_state[TOKEN_KEY] = st.session_state.get(TYPED_KEY, "").strip() or None


def _forget() -> None:
    st.session_state[TOKEN_KEY] = None
