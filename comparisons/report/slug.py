"""The anchor a code host gives a Markdown heading, used for the HTML ids and in-page links."""

from __future__ import annotations

import re


def slug(text: str) -> str:
    """Lower case, punctuation dropped, spaces -> '-' (``"Defaults side by side"`` ->
    ``"defaults-side-by-side"``)."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
