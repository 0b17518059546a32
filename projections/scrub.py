"""Scrubbing personal contact details out of text before it becomes training data."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# International or national numbers: 7 to 15 digits, optionally grouped by spaces, dots,
# dashes or parentheses, optionally led by + or 00. Years, times and short numbers have
# fewer digits and stay.
PHONE = re.compile(r"(?<![\w.])(?:\+|00)?\(?\d[\d\s().-]{5,18}\d(?![\w])")
EMAIL_MARK, PHONE_MARK = "[email]", "[phone]"


DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
DECIMAL = re.compile(r"\d+\.\d+")


def _phone(match: re.Match[str]) -> str:
    found = match.group()
    digits = sum(ch.isdigit() for ch in found)
    if not 7 <= digits <= 15 or DATE.fullmatch(found.strip()) or DECIMAL.fullmatch(found):
        return found
    return PHONE_MARK


def scrub(text: str) -> str:
    """The text with e-mail addresses and phone numbers replaced by placeholders."""
    return PHONE.sub(_phone, EMAIL.sub(EMAIL_MARK, text))
