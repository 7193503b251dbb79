"""The core's public surface is deliberate: a name added or removed here is an API change."""

import recoverops


def test_the_public_names_are_exactly_these() -> None:
    assert sorted(recoverops.__all__) == [
        "Analysis",
        "Category",
        "Evidence",
        "RecoverOpsError",
        "Step",
        "analyze_text",
    ]
    for name in recoverops.__all__:
        assert getattr(recoverops, name).__module__.startswith("recoverops.")


def test_the_core_imports_no_runtime_framework() -> None:
    """ARCHITECTURE: recoverops/ never imports ray, fastapi or streamlit."""
    import subprocess
    import sys

    probe = (
        "import sys, recoverops, recoverops.cli.main, recoverops.store, recoverops.queue;"
        "print(sorted(m for m in ('ray', 'fastapi', 'streamlit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
