"""Shared pieces of the server-rendered pages: language, signed cookies, rendering, formatting.

Nothing here touches the database. Cookies that carry a secret are signed with the service's
secret key (HMAC-SHA256), HttpOnly, and Secure unless the service runs on plain http on
localhost (see :func:`cookie_secure`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from survey_service.errors import BadRequest, Unprocessable
from survey_service.pages.i18n import LANGUAGES, TEXT, language

LANG_COOKIE = "rx_lang"
DEFAULT_TZ = "Asia/Shanghai"
AnyRequest = Request[Any, Any, Any]

# Pages hold personal, sometimes sensitive data: never cached, never framed, the referrer never
# leaves this site (an access code is part of a student's address), and no script from
# elsewhere (the student pages work without it; one small script of our own saves each answer
# as it is chosen).
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


#: ``app.state`` key: whether cookies must be ``Secure`` whatever scheme a request arrives
#: with (set by ``create_app`` from the public address; see :func:`cookie_secure`).
SECURE_COOKIES_STATE = "secure_cookies"


def is_https(request: AnyRequest) -> bool:
    return request.url.scheme == "https"


def cookie_secure(request: AnyRequest) -> bool:
    """Cookies are ``Secure`` unless the service's public address is plain http on this
    machine (behind a TLS proxy the request itself arrives as http, so its scheme cannot
    decide); a request that did arrive over https always gets them ``Secure``."""
    return is_https(request) or bool(request.app.state.get(SECURE_COOKIES_STATE, True))


def request_language(request: AnyRequest, override: str | None = None) -> str:
    """``?lang=`` (or ``override``), else the language cookie, else zh-CN."""
    asked = override or request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return language(asked)


def lang_cookie(request: AnyRequest, lang: str) -> Cookie:
    """The language choice, kept for a year (not a secret: readable, Lax)."""
    return Cookie(
        key=LANG_COOKIE,
        value=lang,
        path="/",
        max_age=365 * 24 * 3600,
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
    )


def sign(secret_key: str, purpose: str, value: str) -> str:
    """``value.signature`` where the signature binds ``value`` to ``purpose``."""
    mac = hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return f"{value}.{mac.hexdigest()[:40]}"


def unsign(secret_key: str, purpose: str, signed: str | None) -> str | None:
    """The value of a cookie made by :func:`sign`, or ``None`` when missing or tampered with."""
    if not signed or "." not in signed:
        return None
    value, _, _ = signed.rpartition(".")
    if not value or not hmac.compare_digest(sign(secret_key, purpose, value), signed):
        return None
    return value


def secret_cookie(
    request: AnyRequest,
    key: str,
    value: str,
    *,
    path: str,
    max_age: int,
    samesite: Literal["lax", "strict"],
) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path=path,
        max_age=max(0, max_age),
        httponly=True,
        secure=cookie_secure(request),
        samesite=samesite,
    )


def expired_cookie(request: AnyRequest, key: str, *, path: str) -> Cookie:
    return Cookie(
        key=key,
        value="",
        path=path,
        max_age=0,
        httponly=True,
        secure=cookie_secure(request),
        samesite="strict",
    )


def render(
    request: AnyRequest,
    name: str,
    lang: str,
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """Render a page in ``lang``; remembers an explicit ``?lang=`` choice in a cookie."""
    jar = list(cookies or [])
    if request.query_params.get("lang") in LANGUAGES:
        jar.append(lang_cookie(request, lang))
    return Template(
        template_name=name,
        context={
            "lang": lang,
            "t": TEXT[lang],
            "other_lang": "en" if lang == "zh-CN" else "zh-CN",
            "path": request.url.path,
            **context,
        },
        status_code=status,
        cookies=jar,
        headers=dict(SECURITY_HEADERS),
    )


def redirect(path: str, *, cookies: list[Cookie] | None = None) -> Redirect:
    """A 303 (see other) redirect after a form post, or to the right step."""
    return Redirect(
        path=path, status_code=303, cookies=list(cookies or []), headers=dict(SECURITY_HEADERS)
    )


def local_time(value: datetime | None, tz: str = DEFAULT_TZ) -> str:
    """``2026-09-07 10:00`` in the school's time zone (empty for ``None``)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def local_date(value: datetime | None, tz: str = DEFAULT_TZ) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d")


def duration_text(delta: timedelta, lang: str) -> str:
    """A short human duration: ``2 天 3 小时`` / ``2 d 3 h``; minutes under a day."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    zh = lang == "zh-CN"
    parts: list[str] = []
    if days:
        parts.append(f"{days} 天" if zh else f"{days} d")
    if hours:
        parts.append(f"{hours} 小时" if zh else f"{hours} h")
    if not days and (mins or not parts):
        parts.append(f"{mins} 分钟" if zh else f"{mins} min")
    return " ".join(parts)


def time_left(deadline: datetime, now: datetime, lang: str) -> tuple[str, bool]:
    """(``还剩 1 小时`` or ``已逾期 20 分钟``, overdue?) — words, never only a colour."""
    t = TEXT[lang]
    if now > deadline:
        return t["overdue_by"].format(duration_text(now - deadline, lang)), True
    return t["time_left"].format(duration_text(deadline - now, lang)), False


def safe_next(value: str | None, default: str = "/staff") -> str:
    """A local ``/staff…`` path to go to after login; anything else becomes ``default``."""
    if value and value.startswith("/staff") and "//" not in value and "\\" not in value:
        return value
    return default


def school_year_of(value: datetime, tz: str = DEFAULT_TZ) -> str:
    """The school year (``2026–2027``) a moment belongs to: a year starts in August."""
    local = value.astimezone(ZoneInfo(tz))
    start = local.year if local.month >= 8 else local.year - 1
    return f"{start}–{start + 1}"


def parse_local(value: str | None, tz: str = DEFAULT_TZ) -> datetime | None:
    """A ``datetime-local`` form value (school time) as an aware datetime; ``None`` if empty."""
    if not value or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise Unprocessable(f"not a date and time: {value!r}", code="invalid_datetime") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz))
    return parsed


def lines(value: str | None) -> list[str]:
    """Non-empty lines of a text area."""
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


# --------------------------------------------------------------------------- form input checks

#: The longest value one page form field may carry (the request body as a whole is limited by
#: ``RUNXIN_MAX_BODY_BYTES``), and the longest field name.
FORM_VALUE_MAX = 20_000
FORM_NAME_MAX = 100
_FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


async def check_form_input(request: AnyRequest) -> None:
    """Refuse a page form carrying control characters or over-long values, before any handler
    runs (so nothing is written): a 400 naming the field, in zh-CN and en.

    Every field may hold line breaks and tabs (free text: notes, plans); any other C0 or C1
    control character (a NUL fails in PostgreSQL), a bidi override or isolate, or a value over
    :data:`FORM_VALUE_MAX` characters is refused. Only url-encoded form posts are looked at.
    """
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    if request.content_type[0] != _FORM_MEDIA_TYPE:
        return
    from survey_service.schemas import FREE_TEXT_PATTERN, SINGLE_LINE_PATTERN

    value_ok, name_ok = re.compile(FREE_TEXT_PATTERN), re.compile(SINGLE_LINE_PATTERN)
    form = await request.form()
    for name, value in form.multi_items():
        if len(name) > FORM_NAME_MAX or not name_ok.search(name):
            _refuse_field(name[:FORM_NAME_MAX], "bad_name", "the field name is not valid")
        if not isinstance(value, str):
            continue
        if len(value) > FORM_VALUE_MAX:
            _refuse_field(name, "too_long", f"longer than {FORM_VALUE_MAX} characters")
        if not value_ok.search(value):
            _refuse_field(name, "control", "contains control characters or bidi overrides")


def _refuse_field(name: str, why: str, detail: str) -> None:
    shown = name.encode("unicode_escape").decode("ascii")  # a hostile name, made printable
    raise BadRequest(
        f"form field {shown!r}: {detail}",
        code="invalid_form_field",
        message={
            lang: TEXT[lang][f"form_field_{why}"].format(field=shown, limit=FORM_VALUE_MAX)
            for lang in LANGUAGES
        },
        extra={"field": shown},
    )
