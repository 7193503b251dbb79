"""Sign-in: a token from the sidebar or RECOVEROPS_DASHBOARD_TOKEN, sent on every call; what
the role allows. Against the real API behind the sign-in stand-in (`require_tokens`), and the
real API without sign-in (GET /me answers 404)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import LiveApi, Opener, table

FAILURES = "views/failures.py"
SUREFIRE = "plain-maven-surefire-failure"


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_without_a_token_the_pages_ask_to_sign_in(
    open_page: Opener, signed_in_api: LiveApi
) -> None:
    signed_in_api.seed(SUREFIRE)

    at = open_page(signed_in_api.url, FAILURES)

    assert not at.exception and not at.error and not at.dataframe
    (warning,) = [w.value for w in at.warning if w.value.startswith("Sign in (in the sidebar)")]
    assert "answered 401" in warning
    assert at.text_input(key="signin_typed").value == ""


def test_signing_in_with_a_token_shows_who_and_reads_the_api(
    open_page: Opener, signed_in_api: LiveApi
) -> None:
    seeded = signed_in_api.seed(SUREFIRE)
    at = open_page(signed_in_api.url, FAILURES)

    at.text_input(key="signin_typed").input("tok-operator")
    at.button(key="signin").click().run()

    assert not at.exception and not at.warning
    assert "**olga** · operator" in captions(at)
    assert table(at, 0, "id") == [seeded.id]

    at.button(key="signout").click().run()

    assert not at.dataframe
    assert at.text_input(key="signin_typed")  # asked again


def test_a_refused_token_says_so(open_page: Opener, signed_in_api: LiveApi) -> None:
    at = open_page(signed_in_api.url, FAILURES)

    at.text_input(key="signin_typed").input("not-a-token")
    at.button(key="signin").click().run()

    assert not at.exception
    assert any(w.value.startswith("Sign in: the API refused the token") for w in at.warning)


def test_the_configured_token_signs_in(open_page: Opener, signed_in_api: LiveApi) -> None:
    seeded = signed_in_api.seed(SUREFIRE)

    at = open_page(signed_in_api.url, FAILURES, token="tok-viewer")

    assert not at.exception and not at.warning
    assert "**victor** · viewer" in captions(at)
    assert table(at, 0, "id") == [seeded.id]
    assert not [b for b in at.button if b.key == "signout"]  # the setting's token stays


def test_an_api_without_sign_in_allows_everything(open_page: Opener, live_api: LiveApi) -> None:
    at = open_page(live_api.url, FAILURES)

    assert not at.exception
    assert "This API has no sign-in (development): everything is allowed." in captions(at)
    assert not [w for w in at.text_input if w.key == "signin_typed"]
