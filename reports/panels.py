"""Extra panels on the staff tip page. Higher apps (leads: triage, related items) register providers in
their AppConfig.ready(), so the tip page shows their part without reports importing them.

A provider is `provider(request, tip) -> dict | None`; the dict has "title", "template" (rendered with the
dict as `panel` and the tip as `tip`), and optionally "order" and "icon".
"""

_PROVIDERS: list = []


def register(provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def panels_for(request, tip) -> list[dict]:
    panels = []
    for provider in _PROVIDERS:
        panel = provider(request, tip)
        if panel:
            panels.append(panel)
    return sorted(panels, key=lambda p: p.get("order", 100))
