"""How names are compared: the id of a name the model finds, the marker of a gazetteer form
that needs context, and the words of the calendar (read by the NER rules and the layout rules)."""

from __future__ import annotations

import calendar
import re

# The id suffix of a gazetteer form that several entries list, or that needs context words.
AMBIGUOUS = "~ambiguous"
# Month and day names: a date that follows a name is not part of it ("Rust January meetup").
CALENDAR_WORDS = frozenset([*calendar.month_name[1:], *calendar.month_abbr[1:], *calendar.day_name])


def normalise(text: str) -> str:
    """A model entity's id: lower-case, single spaces, no leading 'the', no possessive."""
    value = " ".join(text.split()).lower()
    value = re.sub(r"^(the|a|an)\s+", "", value)
    value = re.sub(r"(['\u2019]s|['\u2019])$", "", value)
    return value.strip(" .,:;!?\"'()[]")


def generic_key(text: str) -> str:
    """How a text is compared with the generic terms: :func:`normalise`d, and an acronym's
    plural "s" dropped ("APIs" -> "api", "the CPUs" -> "cpu")."""
    text = " ".join(text.split())
    plural = re.fullmatch(r"(?:(?:the|a|an) )?([A-Z0-9/]{2,})['\u2019]?s", text)
    return normalise(plural.group(1) if plural else text)
