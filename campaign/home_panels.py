"""Home-page panels by role. Apps register a callable returning a panel dict (or None) in ready()."""

_PROVIDERS: list = []


def register(provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def panels_for(request) -> list[dict]:
    panels = []
    for provider in _PROVIDERS:
        panel = provider(request)
        if panel:
            panels.append(panel)
    return sorted(panels, key=lambda p: p.get("order", 100))
