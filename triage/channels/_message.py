"""What a notification says: minimal content and its short bilingual renderings.

A notification carries the minimum a recipient needs to act (DESIGN.md, "Notifications and
escalation"): the tier, the school and class, the deadline, a link, and for an escalation its
step. Never answers, never scores, never a diagnosis: the wording is "needs attention"
(需要关注). The student's name appears only where the school enabled names for an internal
channel (see :meth:`NotificationContent.for_channel`).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from triage._calendar import require_aware

__all__ = [
    "DEFAULT_TIMEZONE",
    "ContentError",
    "DeadlineAction",
    "Lang",
    "NotifiableTier",
    "NotificationContent",
    "content_payload",
    "format_deadline",
    "render_html",
    "render_markdown",
    "render_text",
    "render_title",
    "tier_label",
]

#: Language of a rendered message.
Lang = Literal["zh-CN", "en"]
#: Tiers that notify anybody (green opens no case and sends nothing).
NotifiableTier = Literal["yellow", "orange", "red"]
#: What the recipient is asked to do by the deadline.
DeadlineAction = Literal["acknowledge", "contact", "assess"]
#: Time zone of a school unless its payload names another.
DEFAULT_TIMEZONE = "Asia/Shanghai"

_LANGS = ("zh-CN", "en")
_EVENT_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_ROLE_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DELIVERY_ID_RE = re.compile(r"[\x21-\x7e]{1,200}")
_MAX_NAME = 200
_MAX_LINK = 2048
#: Longest school, class or student name shown in a message (longer ones are cut with "…").
_SHOWN_NAME = 64

_TIER_LABEL: dict[str, dict[str, str]] = {
    "red": {"zh-CN": "红色（一级）", "en": "Red (level 1)"},
    "orange": {"zh-CN": "橙色（二级）", "en": "Orange (level 2)"},
    "yellow": {"zh-CN": "黄色（三级）", "en": "Yellow (level 3)"},
}
_HEADLINE: dict[str, dict[str, str]] = {
    "case.opened": {"zh-CN": "需要关注", "en": "Needs attention"},
    "case.escalated": {"zh-CN": "升级提醒", "en": "Escalation"},
    "case.reminder": {"zh-CN": "跟进提醒", "en": "Follow-up reminder"},
}
_ACTION: dict[str, dict[str, str]] = {
    "acknowledge": {"zh-CN": "确认", "en": "acknowledge"},
    "contact": {"zh-CN": "联系家长", "en": "contact the guardian"},
    "assess": {"zh-CN": "完成评估", "en": "complete the assessment"},
}
_LABELS: dict[str, dict[str, str]] = {
    "brand": {"zh-CN": "【润心】", "en": "[Runxin] "},
    "colon": {"zh-CN": "：", "en": ": "},
    "school": {"zh-CN": "学校：", "en": "School: "},
    "student": {"zh-CN": "学生：", "en": "Student: "},
    "open": {"zh-CN": "查看：", "en": "Open: "},
    "open_link": {"zh-CN": "查看详情", "en": "Open in Runxin"},
}


class ContentError(ValueError):
    """A notification's content (or the outbox payload it comes from) is malformed."""


class NotificationContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The minimal content of one notification, independent of the channel.

    Parameters
    ----------
    delivery_id : str
        Stable delivery id (identical on every retry; receivers de-duplicate on it); visible
        ASCII, as it travels in HTTP and mail headers.
    event : str
        Event name: ``"case.opened"``, ``"case.escalated"``, ``"case.reminder"`` (others are
        worded like ``case.opened``).
    tier : {"yellow", "orange", "red"}
        The case's tier.
    school_name : str
        Display name of the school.
    deadline : datetime
        Aware instant by which the recipient must act.
    link : str
        ``http(s)`` URL of the case in Runxin (the recipient signs in to see more).
    class_name : str or None
        Display name of the class, if shown.
    action : {"acknowledge", "contact", "assess"}
        What is due at ``deadline``.
    escalation_level : int
        0 for the first notice; ``n >= 1`` for the ``n``-th rung of the escalation ladder.
    recipient_role : str
        Role of the recipient (``"counsellor"``, ``"school_lead"``, ``"district_officer"`` ...).
    timezone : str
        IANA time zone of the school; deadlines are shown in it.
    student_name : str or None
        The student's name; allowed only together with ``names_enabled=True``.
    names_enabled : bool
        The school enabled names for the channel this content is meant for.

    Raises
    ------
    ContentError
        On a naive deadline, an unknown time zone, a non-http(s) link, an empty school name,
        or a student name without ``names_enabled``.
    """

    delivery_id: str
    event: str
    tier: NotifiableTier
    school_name: str
    deadline: datetime
    link: str
    class_name: str | None = None
    action: DeadlineAction = "acknowledge"
    escalation_level: int = 0
    recipient_role: str = "counsellor"
    timezone: str = DEFAULT_TIMEZONE
    student_name: str | None = None
    names_enabled: bool = False

    def __post_init__(self) -> None:
        if (
            not isinstance(self.delivery_id, str)
            or _DELIVERY_ID_RE.fullmatch(self.delivery_id) is None
        ):
            raise ContentError(
                "delivery_id must be 1 to 200 visible ASCII characters (it travels in headers)"
            )
        if self.tier not in _TIER_LABEL:
            raise ContentError(f"tier must be yellow, orange or red, got {self.tier!r}")
        if self.action not in _ACTION:
            raise ContentError(f"action must be one of {sorted(_ACTION)}, got {self.action!r}")
        if _EVENT_RE.fullmatch(self.event) is None:
            raise ContentError(f"event must look like 'case.opened', got {self.event!r}")
        if _ROLE_RE.fullmatch(self.recipient_role) is None:
            raise ContentError(
                f"recipient_role must be a snake_case role, got {self.recipient_role!r}"
            )
        if (
            isinstance(self.escalation_level, bool)
            or not isinstance(self.escalation_level, int)
            or self.escalation_level < 0
        ):
            raise ContentError(f"escalation_level must be >= 0, got {self.escalation_level!r}")
        try:
            require_aware(self.deadline, "deadline")
        except ValueError as exc:
            raise ContentError(str(exc)) from None
        for field, value in (
            ("school_name", self.school_name),
            ("class_name", self.class_name),
            ("student_name", self.student_name),
        ):
            if value is not None and not (0 < len(_clean(value, limit=None)) <= _MAX_NAME):
                raise ContentError(f"{field} must be non-empty and at most {_MAX_NAME} characters")
        _check_link(self.link)
        _zone(self.timezone)
        if self.student_name is not None and not self.names_enabled:
            raise ContentError(
                "student_name is set but names are not enabled for this channel; "
                "names go only to internal channels the school enabled them for"
            )

    def __repr__(self) -> str:
        name = "None" if self.student_name is None else "<hidden>"
        return (
            f"NotificationContent(delivery_id={self.delivery_id!r}, event={self.event!r}, "
            f"tier={self.tier!r}, escalation_level={self.escalation_level}, "
            f"recipient_role={self.recipient_role!r}, student_name={name})"
        )

    @classmethod
    def from_payload(
        cls, payload: Mapping[str, Any], *, names_enabled: bool = False
    ) -> NotificationContent:
        """Build the content from an outbox payload, keeping only the allowed keys.

        Parameters
        ----------
        payload : mapping
            The outbox row's JSON payload. Read keys: ``delivery_id``, ``event``, ``tier``,
            ``school`` (display name), ``class``, ``deadline`` (ISO 8601 with offset; if
            absent, ``acknowledge_by``), ``link``, ``action``, ``escalation_level``,
            ``recipient_role``, ``timezone``, ``student_name``. Every other key (answers,
            scores, anything) is ignored, so it can never reach a message.
        names_enabled : bool
            Whether the channel this is for shows names; ``student_name`` is dropped otherwise.

        Returns
        -------
        NotificationContent

        Raises
        ------
        ContentError
            If a required key is missing or a value is malformed.
        """
        if not isinstance(payload, Mapping):
            raise ContentError(f"payload must be a mapping, got {type(payload).__name__}")
        deadline = payload.get("deadline", payload.get("acknowledge_by"))
        picked: dict[str, Any] = {
            "delivery_id": payload.get("delivery_id"),
            "event": payload.get("event"),
            "tier": payload.get("tier"),
            "school_name": payload.get("school"),
            "deadline": deadline,
            "link": payload.get("link"),
        }
        optional = {
            "class_name": "class",
            "action": "action",
            "escalation_level": "escalation_level",
            "recipient_role": "recipient_role",
            "timezone": "timezone",
        }
        for field, key in optional.items():
            if payload.get(key) is not None:
                picked[field] = payload[key]
        missing = sorted(k for k, v in picked.items() if v is None)
        if missing:
            raise ContentError(f"payload lacks required keys: {', '.join(missing)}")
        name = payload.get("student_name")
        if names_enabled and name is not None:
            picked["student_name"] = name
            picked["names_enabled"] = True
        try:
            return msgspec.convert(picked, cls)
        except msgspec.ValidationError as exc:
            raise ContentError(f"bad notification payload: {exc}") from None

    def for_channel(self, *, names_enabled: bool) -> NotificationContent:
        """This content as a channel may see it: without the name unless it enables names."""
        if names_enabled or self.student_name is None:
            return self
        return msgspec.structs.replace(self, student_name=None, names_enabled=False)

    def without_name(self) -> NotificationContent:
        """This content with the student's name removed (external channels, SMS)."""
        return self.for_channel(names_enabled=False)


def _check_link(link: str) -> None:
    if not isinstance(link, str) or not 0 < len(link) <= _MAX_LINK:
        raise ContentError(f"link must be a URL of at most {_MAX_LINK} characters")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in link):
        raise ContentError("link must not contain whitespace or control characters")
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContentError("link must be an absolute http(s) URL")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ContentError(f"unknown time zone {name!r}") from None


def _clean(value: str, *, limit: int | None = _SHOWN_NAME) -> str:
    """Collapse whitespace and control characters to single spaces; cut to ``limit``."""
    chars = [
        " " if ch.isspace() or unicodedata.category(ch).startswith("C") else ch for ch in value
    ]
    text = " ".join("".join(chars).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _check_lang(lang: str) -> Lang:
    if lang == "zh-CN":
        return "zh-CN"
    if lang == "en":
        return "en"
    raise ContentError(f"lang must be one of {_LANGS}, got {lang!r}")


def tier_label(tier: str, lang: Lang = "zh-CN") -> str:
    """Human label of a tier: ``红色（一级）`` / ``Red (level 1)``."""
    try:
        return _TIER_LABEL[tier][_check_lang(lang)]
    except KeyError:
        raise ContentError(f"tier must be yellow, orange or red, got {tier!r}") from None


def format_deadline(deadline: datetime, lang: Lang = "zh-CN", *, tz: str = DEFAULT_TIMEZONE) -> str:
    """Show an aware deadline in the school's time zone, to the minute.

    ``2026-09-07 10:15``; the zone name follows in English, and in Chinese whenever the zone
    is not ``Asia/Shanghai`` (Beijing time, which every school in China assumes).
    """
    require_aware(deadline, "deadline")
    local = deadline.astimezone(_zone(tz))
    text = local.strftime("%Y-%m-%d %H:%M")
    if _check_lang(lang) == "en":
        return f"{text} ({tz})"
    return text if tz == DEFAULT_TIMEZONE else f"{text}（{tz}）"


def _headline(content: NotificationContent, lang: Lang) -> str:
    words = _HEADLINE.get(content.event, _HEADLINE["case.opened"])[lang]
    step = ""
    level = content.escalation_level
    if level > 0:
        escalated = content.event == "case.escalated"
        if lang == "zh-CN":
            step = f"（第{level}步）" if escalated else f"（升级第{level}步）"
        else:
            step = f" (step {level})" if escalated else f" (escalation step {level})"
    return f"{words}{step}{_LABELS['colon'][lang]}{tier_label(content.tier, lang)}"


def _place(content: NotificationContent, lang: Lang) -> str:
    school = _clean(content.school_name)
    if content.class_name is None:
        return school
    sep = " " if lang == "zh-CN" else ", "
    return f"{school}{sep}{_clean(content.class_name)}"


def _due(content: NotificationContent, lang: Lang, tz: str | None, *, bold: bool = False) -> str:
    when = format_deadline(content.deadline, lang, tz=tz or content.timezone)
    if bold:
        when = f"**{when}**"
    verb = _ACTION[content.action][lang]
    if lang == "zh-CN":
        return f"请于 {when} 前{verb}"
    return f"Please {verb} by {when}"


def render_title(content: NotificationContent, lang: Lang = "zh-CN") -> str:
    """One-line title: ``【润心】需要关注：红色（一级）`` (an e-mail subject, a robot title)."""
    lang = _check_lang(lang)
    return f"{_LABELS['brand'][lang]}{_headline(content, lang)}"


def render_text(
    content: NotificationContent, lang: Lang = "zh-CN", *, tz: str | None = None
) -> str:
    """Plain-text message.

    Parameters
    ----------
    content : NotificationContent
        What to say.
    lang : {"zh-CN", "en"}
        Language (Chinese by default).
    tz : str or None
        IANA zone to show the deadline in; ``None`` uses ``content.timezone`` (the school's).

    Returns
    -------
    str
        A few lines: title, school and class, the student's name (only when the content
        carries it), the deadline, the link. Never answers or scores.
    """
    lang = _check_lang(lang)
    lines = [render_title(content, lang), f"{_LABELS['school'][lang]}{_place(content, lang)}"]
    if content.student_name is not None:
        lines.append(f"{_LABELS['student'][lang]}{_clean(content.student_name)}")
    lines.append(_due(content, lang, tz))
    lines.append(f"{_LABELS['open'][lang]}{content.link}")
    return "\n".join(lines)


_MARKDOWN_SWAP = str.maketrans(
    {
        "*": "＊",
        "_": "＿",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "`": "｀",
        "#": "＃",
        "\\": "＼",
        "|": "｜",
        "~": "～",
    }
)


def _md(value: str) -> str:
    """A name made inert in robot markdown: markup characters become full-width lookalikes.

    WeCom's and DingTalk's markdown renderers are subsets without reliable backslash escapes,
    so swapping the characters is the one escape that renders the same everywhere.
    """
    return _clean(value).translate(_MARKDOWN_SWAP)


def render_markdown(
    content: NotificationContent, lang: Lang = "zh-CN", *, tz: str | None = None
) -> str:
    """Markdown message in the subset WeCom and DingTalk robots render.

    Bold title, one paragraph per line (blank lines between, which both clients show as line
    breaks), the deadline in bold and a ``[查看详情](link)`` link. Names are made inert (see
    :func:`_md`); parameters as :func:`render_text`.
    """
    lang = _check_lang(lang)
    place = _md(content.school_name)
    if content.class_name is not None:
        place += (" " if lang == "zh-CN" else ", ") + _md(content.class_name)
    paragraphs = [
        f"**{render_title(content, lang)}**",
        f"{_LABELS['school'][lang]}{place}",
    ]
    if content.student_name is not None:
        paragraphs.append(f"{_LABELS['student'][lang]}{_md(content.student_name)}")
    paragraphs.append(_due(content, lang, tz, bold=True))
    link = content.link.replace("(", "%28").replace(")", "%29")
    paragraphs.append(f"[{_LABELS['open_link'][lang]}]({link})")
    return "\n\n".join(paragraphs)


def render_html(
    content: NotificationContent, lang: Lang = "zh-CN", *, tz: str | None = None
) -> str:
    """Small HTML document (the e-mail's HTML part); every value is escaped.

    Parameters as :func:`render_text`.
    """
    lang = _check_lang(lang)
    esc = html.escape
    rows = [f"<p>{esc(_LABELS['school'][lang])}{esc(_place(content, lang))}</p>"]
    if content.student_name is not None:
        rows.append(f"<p>{esc(_LABELS['student'][lang])}{esc(_clean(content.student_name))}</p>")
    rows.append(f"<p><strong>{esc(_due(content, lang, tz))}</strong></p>")
    rows.append(
        f'<p><a href="{esc(content.link, quote=True)}">{esc(_LABELS["open_link"][lang])}</a></p>'
    )
    body = "\n".join(rows)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8">'
        f"<title>{esc(render_title(content, lang))}</title></head>\n"
        f"<body>\n<h1>{esc(render_title(content, lang))}</h1>\n{body}\n</body>\n</html>\n"
    )


def content_payload(content: NotificationContent) -> dict[str, Any]:
    """The JSON body a generic webhook receives for ``content``.

    Keys: ``delivery_id``, ``event``, ``tier``, ``school``, ``class``, ``deadline`` (ISO 8601
    UTC), ``action``, ``link``, ``escalation_level``, ``recipient_role``, ``timezone``, and
    ``student_name`` only when the content carries it.
    """
    payload: dict[str, Any] = {
        "delivery_id": content.delivery_id,
        "event": content.event,
        "tier": content.tier,
        "school": content.school_name,
        "class": content.class_name,
        "deadline": content.deadline.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "action": content.action,
        "link": content.link,
        "escalation_level": content.escalation_level,
        "recipient_role": content.recipient_role,
        "timezone": content.timezone,
    }
    if content.student_name is not None:
        payload["student_name"] = content.student_name
    return payload
