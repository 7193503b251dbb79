"""Sign-in settings: secrets that are no secrets are refused outside development, a mounted
secret file is read, and an issuer needs its audience."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from recoverops.auth import Authenticator, AuthMode, configuration_problem
from recoverops.auth.local import parse_ttl
from recoverops.cli.common import check_sign_in
from recoverops.settings import Settings, problems

GOOD = "0123456789abcdef0123456789abcdef"


def refusal(**values: Any) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        Settings(**values)
    return problems(refused.value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("changeme", "is a placeholder"),
        ("CHANGE-ME", "is a placeholder"),
        ("secret", "is a placeholder"),
        ("xxx", "is a placeholder"),
        ("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "is one character repeated"),
        ("please-changeme-before-deploying-it", "is a placeholder"),
        ("short but real", "is shorter than 32 bytes"),
    ],
)
def test_a_signing_secret_that_is_no_secret_is_refused_outside_development(
    value: str, why: str
) -> None:
    [line] = refusal(auth_secret=value)
    assert line.startswith("RECOVEROPS_AUTH_SECRET: ") and why in line  # never the value


@pytest.mark.parametrize("name", ["github_webhook_secret", "gitlab_token", "llm_api_key"])
def test_every_secret_refuses_empty_and_placeholder_values(name: str) -> None:
    assert refusal(**{name: ""}) == [
        f"RECOVEROPS_{name.upper()}: is empty: give the real secret, or unset the variable"
    ]
    assert refusal(**{name: "changeme"}) == [
        f"RECOVEROPS_{name.upper()}: is a placeholder, not a secret"
    ]


def test_in_development_a_short_or_placeholder_secret_is_allowed() -> None:
    settings = Settings(
        env="development", auth_secret=SecretStr("changeme"), github_webhook_secret=SecretStr("")
    )
    assert settings.auth_signing_secret is not None
    assert settings.auth_signing_secret.get_secret_value() == "changeme"


def test_a_mounted_secret_file_is_read_without_its_trailing_newline(tmp_path: Path) -> None:
    mounted = tmp_path / "secret"
    mounted.write_text(GOOD + "\n")
    settings = Settings(auth_secret_file=mounted)
    assert settings.auth_signing_secret is not None
    assert settings.auth_signing_secret.get_secret_value() == GOOD


def test_a_secret_file_that_cannot_be_used_is_refused(tmp_path: Path) -> None:
    [missing] = refusal(auth_secret_file=tmp_path / "nowhere")
    assert missing.startswith("RECOVEROPS_AUTH_SECRET_FILE")
    assert "cannot read" in missing and "No such file" in missing
    placeholder = tmp_path / "placeholder"
    placeholder.write_text("changeme\n")
    assert "is a placeholder" in refusal(auth_secret_file=placeholder)[0]
    good = tmp_path / "good"
    good.write_text(GOOD)
    [both] = refusal(auth_secret=GOOD, auth_secret_file=good)
    assert "not both" in both


def test_an_issuer_needs_its_audience_and_the_other_way_round() -> None:
    assert refusal(oidc_issuer="https://login.example.com") == [
        "RECOVEROPS_OIDC_ISSUER is set but RECOVEROPS_OIDC_AUDIENCE is not: tokens meant for "
        "another application would be accepted"
    ]
    [line] = refusal(oidc_audience="recoverops")
    assert line.startswith("RECOVEROPS_OIDC_AUDIENCE or RECOVEROPS_OIDC_JWKS_URL is set")
    [bad_url] = refusal(oidc_issuer="login.example.com", oidc_audience="recoverops")
    assert bad_url.startswith("RECOVEROPS_OIDC_ISSUER='login.example.com': not a web address")


def test_the_mode_follows_the_settings() -> None:
    assert Authenticator(Settings(auth_secret=SecretStr(GOOD))).mode is AuthMode.JWT
    assert Authenticator(Settings(env="development")).mode is AuthMode.DISABLED
    assert Authenticator(Settings()).mode is AuthMode.UNCONFIGURED
    assert configuration_problem(Settings(env="development")) is None
    assert configuration_problem(Settings(auth_secret=SecretStr(GOOD))) is None
    problem = configuration_problem(Settings())
    assert problem is not None and "RECOVEROPS_AUTH_SECRET" in problem


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("12h", 43200), ("30d", 2592000)]
)
def test_a_ttl_is_a_number_and_a_unit(text: str, seconds: int) -> None:
    assert parse_ttl(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["12", "h", "-1h", "0s", "1y", "367d"])
def test_a_ttl_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ttl(text)


def test_serving_commands_say_in_one_line_that_sign_in_is_off_in_development(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert check_sign_in(Settings(env="development")) is True
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("recoverops: sign-in: disabled (RECOVEROPS_ENV=development")
    assert check_sign_in(Settings(auth_secret=SecretStr(GOOD))) is True
    assert capsys.readouterr().err == ""
    assert check_sign_in(Settings()) is False
    [refused] = capsys.readouterr().err.splitlines()
    assert refused.startswith("recoverops: invalid setting: no way to check a token")
