"""Who may read the hub's own health figures (`/metrics`)."""

from __future__ import annotations

from .access import Principal, Scope


def may_scrape_metrics(who: Principal | None, *, public: bool) -> bool:
    """Metrics name channels and nodes, so they are for whoever sees the whole hub:
    an admin token, or a read token without limits. With the hub's `metrics_public`
    setting (a hub on a private network), anyone may scrape them."""
    if public:
        return True
    if who is None:
        return False
    return who.scope is Scope.ADMIN or (who.scope is Scope.READ and who.reads_everything)
