"""A notice that is no case notice: a screening campaign's reminder to a head teacher.

A case notice (:class:`~triage.channels.NotificationContent`) has a tier, something to do by a
deadline and a link to the case. A campaign reminder has none of those: it tells a head teacher
which of their classes still have students who have not finished a screening, how many, when
the screening closes, and links to their class page. It never carries a student's name, an
answer or a result: :class:`CampaignReminder` has no field that could hold one, and
:meth:`CampaignReminder.from_payload` reads only the keys it shows.

The ``render_*`` functions and :func:`content_payload` here take either kind of content (what
the channel adapters and the public ``triage.channels`` names use): a case notice goes to
:mod:`triage.channels._message` unchanged, so its messages stay exactly what they were; a
reminder is rendered below, in the same shape (title, short lines, the link) and the same two
languages on every channel.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from triage._calendar import require_aware
from triage.channels import _message as case
from triage.channels._message import (
    _DELIVERY_ID_RE,
    _LABELS,
    _MAX_NAME,
    _ROLE_RE,
    DEFAULT_TIMEZONE,
    ContentError,
    Lang,
    NotificationContent,
    _check_lang,
    _check_link,
    _clean,
    _md,
    _zone,
    format_deadline,
)

__all__ = [
    "MAX_REMINDER_CLASSES",
    "REMINDER_EVENT",
    "CampaignReminder",
    "ClassCount",
    "MessageContent",
    "content_from_payload",
    "content_payload",
    "render_html",
    "render_markdown",
    "render_reminder_sms",
    "render_text",
    "render_title",
]

#: The event of a campaign reminder.
REMINDER_EVENT = "campaign.reminder"
#: Most classes one reminder names (a head teacher has one or two; this bounds a message).
MAX_REMINDER_CLASSES = 40

_WORDS: dict[str, dict[str, str]] = {
    "headline": {"zh-CN": "筛查提醒", "en": "Screening reminder"},
    "campaign": {"zh-CN": "筛查：", "en": "Screening: "},
    "open_link": {"zh-CN": "查看我的班级", "en": "Open my class page"},
}


class ClassCount(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One class of a reminder and how many of its students have not finished.

    Encoded as ``{"class": name, "not_completed": n}`` (the outbox payload's form).
    """

    name: str = msgspec.field(name="class")
    not_completed: int = 0


class CampaignReminder(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The content of one campaign reminder to one head teacher, independent of the channel.

    Parameters
    ----------
    delivery_id : str
        Stable delivery id (identical on every retry; receivers de-duplicate on it); visible
        ASCII, as it travels in HTTP and mail headers.
    school_name : str
        Display name of the school.
    campaign_name : str
        Display name of the screening campaign.
    classes : tuple of ClassCount
        The recipient's classes with students still to finish (1 to 40), each with that
        number (at least 1).
    closes_at : datetime
        Aware instant the screening closes.
    link : str
        ``http(s)`` URL of the head teacher's class page in Runxin.
    event : str
        Always ``"campaign.reminder"``.
    recipient_role : str
        Role of the recipient (``"head_teacher"``).
    timezone : str
        IANA time zone of the school; the closing time is shown in it.

    Raises
    ------
    ContentError
        On a bad delivery id, an empty or over-long name, no class or too many, a count
        below 1, a naive ``closes_at``, a non-http(s) link or an unknown time zone.

    Notes
    -----
    There is no student name to enable or remove: :meth:`for_channel` and
    :meth:`without_name` return the content itself, so every channel may carry it.
    """

    delivery_id: str
    school_name: str
    campaign_name: str
    classes: tuple[ClassCount, ...]
    closes_at: datetime
    link: str
    event: str = REMINDER_EVENT
    recipient_role: str = "head_teacher"
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if (
            not isinstance(self.delivery_id, str)
            or _DELIVERY_ID_RE.fullmatch(self.delivery_id) is None
        ):
            raise ContentError(
                "delivery_id must be 1 to 200 visible ASCII characters (it travels in headers)"
            )
        if self.event != REMINDER_EVENT:
            raise ContentError(f"event must be {REMINDER_EVENT!r}, got {self.event!r}")
        if not isinstance(self.recipient_role, str) or not _ROLE_RE.fullmatch(self.recipient_role):
            raise ContentError(
                f"recipient_role must be a snake_case role, got {self.recipient_role!r}"
            )
        _name("school_name", self.school_name)
        _name("campaign_name", self.campaign_name)
        if not 0 < len(self.classes) <= MAX_REMINDER_CLASSES:
            raise ContentError(f"a reminder names 1 to {MAX_REMINDER_CLASSES} classes")
        for item in self.classes:
            _name("class name", item.name)
            count = item.not_completed
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ContentError(
                    f"not_completed must be a whole number >= 1, got {count!r} for a class"
                )
        try:
            require_aware(self.closes_at, "closes_at")
        except ValueError as exc:
            raise ContentError(str(exc)) from None
        _check_link(self.link)
        _zone(self.timezone)

    def __repr__(self) -> str:
        return (
            f"CampaignReminder(delivery_id={self.delivery_id!r}, event={self.event!r}, "
            f"classes={len(self.classes)}, recipient_role={self.recipient_role!r})"
        )

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> CampaignReminder:
        """Build the content from an outbox payload, keeping only the keys it shows.

        Read keys: ``delivery_id``, ``event``, ``school``, ``campaign``, ``classes`` (a list
        of ``{"class": name, "not_completed": n}``), ``deadline`` (ISO 8601 with offset; if
        absent, ``closes_at``), ``link``, ``recipient_role``, ``timezone``. Every other key
        is ignored, so nothing else can reach a message.

        Raises
        ------
        ContentError
            If a required key is missing or a value is malformed.
        """
        if not isinstance(payload, Mapping):
            raise ContentError(f"payload must be a mapping, got {type(payload).__name__}")
        classes = payload.get("classes")
        picked: dict[str, Any] = {
            "delivery_id": payload.get("delivery_id"),
            "event": payload.get("event"),
            "school_name": payload.get("school"),
            "campaign_name": payload.get("campaign"),
            "classes": classes,
            "closes_at": payload.get("deadline", payload.get("closes_at")),
            "link": payload.get("link"),
        }
        missing = sorted(k for k, v in picked.items() if v is None)
        if missing:
            raise ContentError(f"payload lacks required keys: {', '.join(missing)}")
        if not isinstance(classes, list) or not all(isinstance(c, Mapping) for c in classes):
            raise ContentError("payload 'classes' must be a list of {class, not_completed}")
        picked["classes"] = [
            {"class": c.get("class"), "not_completed": c.get("not_completed")} for c in classes
        ]
        for field in ("recipient_role", "timezone"):
            if payload.get(field) is not None:
                picked[field] = payload[field]
        try:
            return msgspec.convert(picked, cls)
        except msgspec.ValidationError as exc:
            raise ContentError(f"bad reminder payload: {exc}") from None

    def for_channel(self, *, names_enabled: bool) -> CampaignReminder:
        """The content as any channel may see it: itself (it names no student)."""
        return self

    def without_name(self) -> CampaignReminder:
        """The content itself (it names no student)."""
        return self


#: What a channel renders: a case notice or a campaign reminder.
MessageContent = NotificationContent | CampaignReminder


def _name(field: str, value: object) -> None:
    if not isinstance(value, str) or not 0 < len(_clean(value, limit=None)) <= _MAX_NAME:
        raise ContentError(f"{field} must be non-empty and at most {_MAX_NAME} characters")


def content_from_payload(
    payload: Mapping[str, Any], *, names_enabled: bool = False
) -> MessageContent:
    """The content of an outbox payload: a :class:`CampaignReminder` for a
    ``campaign.reminder``, else a :class:`NotificationContent` (``names_enabled`` as there).

    Raises
    ------
    ContentError
        If the payload is malformed for its kind (a case notice without a tier, ...).
    """
    if isinstance(payload, Mapping) and payload.get("event") == REMINDER_EVENT:
        return CampaignReminder.from_payload(payload)
    return NotificationContent.from_payload(payload, names_enabled=names_enabled)


# --------------------------------------------------------------------------- reminder wording


def _closes(content: CampaignReminder, lang: Lang, tz: str | None) -> str:
    return format_deadline(content.closes_at, lang, tz=tz or content.timezone)


def _class_line(item: ClassCount, lang: Lang, name: str) -> str:
    if lang == "zh-CN":
        return f"{name}：还有 {item.not_completed} 名学生没有完成问卷。"
    return f"{name}: {item.not_completed} student(s) have not finished yet."


def _closing_line(when: str, lang: Lang) -> str:
    if lang == "zh-CN":
        return f"筛查将于 {when} 结束。"
    return f"The screening closes at {when}."


def _reminder_title(lang: Lang) -> str:
    return f"{_LABELS['brand'][lang]}{_WORDS['headline'][lang]}"


def _reminder_text(content: CampaignReminder, lang: Lang, tz: str | None) -> str:
    lines = [
        _reminder_title(lang),
        f"{_LABELS['school'][lang]}{_clean(content.school_name)}",
        f"{_WORDS['campaign'][lang]}{_clean(content.campaign_name)}",
    ]
    lines += [_class_line(c, lang, _clean(c.name)) for c in content.classes]
    lines.append(_closing_line(_closes(content, lang, tz), lang))
    lines.append(f"{_LABELS['open'][lang]}{content.link}")
    return "\n".join(lines)


def _reminder_markdown(content: CampaignReminder, lang: Lang, tz: str | None) -> str:
    paragraphs = [
        f"**{_reminder_title(lang)}**",
        f"{_LABELS['school'][lang]}{_md(content.school_name)}",
        f"{_WORDS['campaign'][lang]}{_md(content.campaign_name)}",
    ]
    paragraphs += [_class_line(c, lang, _md(c.name)) for c in content.classes]
    paragraphs.append(_closing_line(f"**{_closes(content, lang, tz)}**", lang))
    link = content.link.replace("(", "%28").replace(")", "%29")
    paragraphs.append(f"[{_WORDS['open_link'][lang]}]({link})")
    return "\n\n".join(paragraphs)


def _reminder_html(content: CampaignReminder, lang: Lang, tz: str | None) -> str:
    esc = html.escape
    title = esc(_reminder_title(lang))
    rows = [
        f"<p>{esc(_LABELS['school'][lang])}{esc(_clean(content.school_name))}</p>",
        f"<p>{esc(_WORDS['campaign'][lang])}{esc(_clean(content.campaign_name))}</p>",
    ]
    rows += [f"<p>{esc(_class_line(c, lang, _clean(c.name)))}</p>" for c in content.classes]
    rows.append(f"<p><strong>{esc(_closing_line(_closes(content, lang, tz), lang))}</strong></p>")
    rows.append(
        f'<p><a href="{esc(content.link, quote=True)}">{esc(_WORDS["open_link"][lang])}</a></p>'
    )
    body = "\n".join(rows)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )


def render_reminder_sms(content: CampaignReminder, lang: Lang = "zh-CN") -> str:
    """The short SMS text of a reminder (names cut short: an SMS is billed by length).

    ``【润心】筛查提醒：秋季筛查。七年级3班还有 5 人未完成。筛查将于 2026-09-18 17:00 结束。``
    followed by the link.
    """
    lang = _check_lang(lang)
    campaign = _clean(content.campaign_name, limit=24)
    when = format_deadline(content.closes_at, lang, tz=content.timezone)
    if lang == "zh-CN":
        counts = "，".join(
            f"{_clean(c.name, limit=16)}还有 {c.not_completed} 人" for c in content.classes
        )
        return f"【润心】筛查提醒：{campaign}。{counts}未完成。筛查将于 {when} 结束。{content.link}"
    counts = ", ".join(f"{_clean(c.name, limit=16)} ({c.not_completed})" for c in content.classes)
    return (
        f"[Runxin] Screening reminder: {campaign}. Not finished yet: {counts}. "
        f"Closes {when}. {content.link}"
    )


# --------------------------------------------------------------------------- either content


def render_title(content: MessageContent, lang: Lang = "zh-CN") -> str:
    """One-line title: ``【润心】需要关注：红色（一级）`` for a case, ``【润心】筛查提醒`` for a
    reminder (an e-mail subject, a robot title)."""
    if isinstance(content, CampaignReminder):
        return _reminder_title(_check_lang(lang))
    return case.render_title(content, lang)


def render_text(content: MessageContent, lang: Lang = "zh-CN", *, tz: str | None = None) -> str:
    """Plain-text message (see :func:`triage.channels._message.render_text` for a case).

    A reminder: title, school, campaign, one line per class with how many students have not
    finished, the closing time (in ``tz``, default the school's zone) and the link.
    """
    if isinstance(content, CampaignReminder):
        return _reminder_text(content, _check_lang(lang), tz)
    return case.render_text(content, lang, tz=tz)


def render_markdown(content: MessageContent, lang: Lang = "zh-CN", *, tz: str | None = None) -> str:
    """Markdown in the subset WeCom and DingTalk robots render; names made inert."""
    if isinstance(content, CampaignReminder):
        return _reminder_markdown(content, _check_lang(lang), tz)
    return case.render_markdown(content, lang, tz=tz)


def render_html(content: MessageContent, lang: Lang = "zh-CN", *, tz: str | None = None) -> str:
    """Small HTML document (the e-mail's HTML part); every value is escaped."""
    if isinstance(content, CampaignReminder):
        return _reminder_html(content, _check_lang(lang), tz)
    return case.render_html(content, lang, tz=tz)


def content_payload(content: MessageContent) -> dict[str, Any]:
    """The JSON body a generic webhook receives for ``content``.

    A reminder's keys: ``delivery_id``, ``event``, ``school``, ``campaign``, ``classes``
    (``[{"class", "not_completed"}]``), ``deadline`` (when the screening closes, ISO 8601
    UTC), ``link``, ``recipient_role``, ``timezone``; ``tier`` and ``case_id`` are ``null``.
    """
    if not isinstance(content, CampaignReminder):
        return case.content_payload(content)
    return {
        "delivery_id": content.delivery_id,
        "event": content.event,
        "case_id": None,
        "tier": None,
        "school": content.school_name,
        "campaign": content.campaign_name,
        "classes": list(msgspec.to_builtins(content.classes)),
        "deadline": content.closes_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "link": content.link,
        "recipient_role": content.recipient_role,
        "timezone": content.timezone,
    }
