"""Wire formats of a student's screening: sessions, the battery as delivered, saved answers,
submissions and their receipts.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from survey_service.schemas import Code, Language, Request


class StartSessionRequest(Request, frozen=True):
    access_code: Code
    language: Language = "zh-CN"


class OptionOut(msgspec.Struct, frozen=True):
    value: int
    text: str


class ItemOut(msgspec.Struct, frozen=True):
    item_id: str
    text: str
    options: list[OptionOut]


class InstrumentOut(msgspec.Struct, frozen=True):
    instrument_id: str
    version: str
    title: str
    instructions: str
    language: str
    language_status: str
    items: list[ItemOut]
    language_notice: dict[str, str] | None = None


class HelpContact(msgspec.Struct, frozen=True):
    name: dict[str, str]
    contact: str


class StartSessionResponse(msgspec.Struct, frozen=True):
    session_id: uuid.UUID
    session_token: str
    language: str
    resumed: bool
    expires_at: datetime
    battery: list[InstrumentOut]
    help_contacts: list[HelpContact]
    saved_answers: dict[str, dict[str, Any]] = {}
    # The save counter now: send it back as ``revision.view`` with later saves.
    answers_version: int = 0
    # Who answers: "self" (the student) or "parent" (the guardian, about the student).
    respondent: str = "self"


class SubmissionRequest(Request, frozen=True):
    """Answers per instrument id, per item id: an option value, or ``null`` when unanswered.

    Values are checked by the scorer against each item's options (an integer among them, or
    null), so that an error can name the instrument and the item; nothing is coerced.
    """

    answers: dict[Code, dict[Code, Any]]


class SubmissionReceipt(msgspec.Struct, frozen=True):
    """What a student is told: that it arrived. Never a score, band or tier."""

    session_id: uuid.UUID
    status: Literal["received"]
    received_at: datetime
    message: dict[str, str]
    help_contacts: list[HelpContact]


class SaveRevision(Request, frozen=True):
    """Orders saves that may race: ``view`` is the ``answers_version`` the client last got,
    ``seq`` grows with every change the client makes (e.g. milliseconds of its clock)."""

    view: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
    seq: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]


class PartialAnswers(Request, frozen=True):
    """Answers to save. ``null`` records an item as left out; it never erases a given answer.
    Without ``revision`` the save is the latest: it replaces every answer saved before it."""

    answers: dict[Code, dict[Code, Any]]
    revision: SaveRevision | None = None


class SavedAnswers(msgspec.Struct, frozen=True):
    session_id: uuid.UUID
    answers: dict[str, dict[str, Any]]
    answers_version: int = 0
