"""/docs and /redoc work offline: every file the pages load is served by the app itself."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

REFERENCE = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_reference_pages_load_nothing_from_elsewhere(
    sqlite_client: TestClient, page: str
) -> None:
    response = sqlite_client.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    loaded = REFERENCE.findall(response.text)
    assert "/openapi.json" in loaded
    assets = [url for url in loaded if url != "/openapi.json"]
    assert assets and all(url.startswith("/docs-assets/") for url in assets), loaded
    assert "//" not in response.text.replace("http://www.w3.org", "")  # no other origin at all
    for url in assets:
        asset = sqlite_client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url


def test_swagger_ui_reads_the_openapi_version_fastapi_writes(sqlite_client: TestClient) -> None:
    # Swagger UI 4 cannot render OpenAPI 3.1: the bundle served must be version 5.
    version = sqlite_client.get("/openapi.json").json()["openapi"]
    bundle = sqlite_client.get("/docs-assets/swagger-ui-bundle.js").text
    assert version.startswith("3.1") and "isOAS31" in bundle
