"""What a secret looks like in text a person reads: used on notebook outputs and lab output."""

from __future__ import annotations

import re

#: name → pattern of a secret that must never be shown.
SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "jeton JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    "empreinte bcrypt": re.compile(r"\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}"),
    "clé privée": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "en-tête Authorization": re.compile(
        r"(?i)authorization['\"]?\s*[:=]\s*['\"]?(basic|bearer)\s+[A-Za-z0-9+/=._-]{8,}"
    ),
    "identifiants de config.json": re.compile(r"\"auth\"\s*:\s*\"[A-Za-z0-9+/=]{8,}\""),
    "mot de passe en argument": re.compile(r"(?:--password|-p)[ =](?!-)\S+"),
    "secret de jeton (access_token)": re.compile(r"(?i)\"?(access_)?token\"?\s*:\s*\"[^\"]{16,}\""),
}


def find_secrets(text: str, known: tuple[str, ...] = ()) -> list[str]:
    """The secrets found in ``text``: by their shape, or literally one of ``known``."""
    found = [
        f"{name} : {m.group(0)[:24]}…"
        for name, p in SECRET_PATTERNS.items()
        for m in p.finditer(text)
    ]
    found += [f"secret connu : {secret[:4]}…" for secret in known if secret and secret in text]
    return found
