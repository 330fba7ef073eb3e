"""What a fresh hub prints once, at its first start: how a team gets going."""

from __future__ import annotations

from .config import Settings


def first_steps(settings: Settings) -> str:
    """The two steps after a first start: a web account, then a first job reporting."""
    url = f"http://{settings.host}:{settings.port}"
    return (
        "thereyet: next steps\n"
        "  1. a web account for each person (on this machine):\n"
        "       thereyet user create NAME --role admin     # or operator, viewer\n"
        f"     then sign in at {url}/login\n"
        "  2. report a first job from any machine:\n"
        "       thereyet token create --scope ingest        # prints a token once\n"
        f"       export THEREYET_URL={url} THEREYET_TOKEN=<that token>\n"
        "       thereyet run --job hello --room ops -- sleep 30"
    )
