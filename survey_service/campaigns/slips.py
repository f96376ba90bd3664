"""Printable access-code slips: one A4 page per eight students, cut along the dashed lines.

Each slip carries the school, class, student's name and number, the one-time access code in
large type, the link ``{base_url}/s/{code}`` with its QR code (inline SVG, so the page prints
without any network access), the expiry, a plain instruction in Chinese and English, and the
help lines 12356 and 12355. Nothing on a slip refers to results.

Guardian slips (``for_guardian``) carry the student's guardian code for the campaign's
parent-report forms: they say, in Chinese and English, that the questionnaire is for the
parent or guardian, about their child, and that the child should not answer it.

Pure: the service layer loads the students and their codes and serves or saves the HTML.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import jinja2
import msgspec
import segno

SLIPS_PER_PAGE = 8
QR_ERROR = "m"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"  # survey_service/templates

HOTLINES: tuple[tuple[str, str, str], ...] = (
    ("12356", "全国心理援助热线", "national psychological assistance line"),
    ("12355", "青少年服务台", "youth service line"),
)

LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "心理健康问卷登录条",
        "school": "学校",
        "class": "班级",
        "name": "姓名",
        "number": "学号",
        "code": "登录码",
        "link": "网址",
        "expires": "有效期至",
        "help": "需要帮助请拨打",
        "screen_note": "用 A4 纸打印（不缩放），沿虚线剪开，每位学生一张。登录码仅限本人使用。",
        "empty": "这个班级没有需要打印的登录条。",
    },
    "en": {
        "title": "Wellbeing questionnaire sign-in slips",
        "school": "School",
        "class": "Class",
        "name": "Name",
        "number": "Student no.",
        "code": "Sign-in code",
        "link": "Link",
        "expires": "Valid until",
        "help": "Need help? Call",
        "screen_note": "Print on A4 at 100% and cut along the dashed lines: one slip per "
        "student. Each code is for its student only.",
        "empty": "There are no slips to print for this class.",
    },
}

INSTRUCTION_ZH = (
    "用手机扫码或在电脑上打开链接，输入登录码开始问卷。登录码只给你本人使用，请不要借给别人。"
)
INSTRUCTION_EN = (
    "Scan the code with a phone, or open the link on a computer, and enter your sign-in code "
    "to start the questionnaire. The code is for you only: please don't share it."
)


GUARDIAN_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "家长问卷登录条",
        "name": "学生姓名",
        "screen_note": "用 A4 纸打印（不缩放），沿虚线剪开，每位学生一张，请学生带回家交给家长或"
        "监护人。这是家长登录码，与学生本人的登录码不同。",
        "empty": "这个班级没有需要打印的家长登录条。",
    },
    "en": {
        "title": "Parent/guardian questionnaire sign-in slips",
        "name": "Student",
        "screen_note": "Print on A4 at 100% and cut along the dashed lines: one slip per "
        "student, to take home to the parent or guardian. These guardian codes are not the "
        "students' own codes.",
        "empty": "There are no guardian slips to print for this class.",
    },
}

GUARDIAN_FOR_ZH = "本问卷由家长/监护人填写，关于您的孩子。"
GUARDIAN_FOR_EN = "This questionnaire is for the parent or guardian, about your child."
GUARDIAN_INSTRUCTION_ZH = (
    "请家长/监护人用手机扫码或在电脑上打开链接，输入登录码，根据您对孩子的观察填写问卷。"
    "本登录码仅供家长使用，请不要让孩子代为作答。"
)
GUARDIAN_INSTRUCTION_EN = (
    "Parent or guardian: scan the code with a phone, or open the link on a computer, enter the "
    "sign-in code and answer the questionnaire about your child. The code is for you only: "
    "please don't let your child answer it."
)


class SlipError(ValueError):
    """``render_slips_html`` was called with an unusable argument (a programming error)."""


class Slip(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One student's slip.

    Attributes
    ----------
    student_number, name : str
    access_code : str
        The one-time code as shown to the student (e.g. ``ABCDE-FGHJK``).
    expires_at : datetime.date or datetime.datetime
        When the code stops working (the campaign window's end), in the school's local
        time; a datetime is printed with its time of day.
    """

    student_number: str
    name: str
    access_code: str
    expires_at: dt.date


def slip_link(base_url: str, access_code: str) -> str:
    """The link a slip points to: ``{base_url}/s/{code}`` (the code percent-encoded)."""
    return f"{base_url.rstrip('/')}/s/{quote(access_code, safe='')}"


def qr_svg(link: str) -> str:
    """The slip's QR code for ``link``: inline SVG sized by CSS, error correction M (or more:
    segno raises the level when the symbol has room)."""
    qr = segno.make(link, error=QR_ERROR, micro=False)
    return str(qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", lineclass="qrline"))


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _expiry(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def render_slips_html(
    school_name: str,
    class_name: str,
    slips: Sequence[Slip],
    *,
    base_url: str,
    lang: str = "zh-CN",
    city_help_line: str | None = None,
    for_guardian: bool = False,
) -> str:
    """Render a class's access-code slips as a printable A4 HTML page.

    Parameters
    ----------
    school_name, class_name : str
        Printed on every slip.
    slips : sequence of Slip
        In the order to print (the caller's, e.g. by student number).
    base_url : str
        The service's public address, ``https://...`` (a trailing ``/`` is ignored).
    lang : {"zh-CN", "en"}
        Language of the labels; the instruction line is always in both.
    city_help_line : str, optional
        The city's own help line (e.g. 96111), printed after 12356 and 12355.
    for_guardian : bool
        Guardian slips: the codes are for the student's parent or guardian, who answers the
        campaign's parent-report forms about the child; each slip says so in both languages.

    Returns
    -------
    str
        A complete HTML document: eight slips per A4 page, dashed cut lines, page breaks.

    Raises
    ------
    SlipError
        For an unknown ``lang`` or a ``base_url`` that is not http(s).
    """
    if lang not in LABELS:
        raise SlipError(f"unknown language {lang!r}; use one of {sorted(LABELS)}")
    if not base_url.startswith(("https://", "http://")):
        raise SlipError(f"base_url must start with https:// or http://, got {base_url!r}")
    prepared = []
    for slip in slips:
        link = slip_link(base_url, slip.access_code)
        prepared.append(
            {
                "student_number": slip.student_number,
                "name": slip.name,
                "code": slip.access_code,
                "link": link,
                "qr": qr_svg(link),  # segno's own SVG markup, no user text: emitted unescaped
                "expires": _expiry(slip.expires_at),
            }
        )
    pages = [
        prepared[start : start + SLIPS_PER_PAGE]
        for start in range(0, len(prepared), SLIPS_PER_PAGE)
    ]
    template = _environment().get_template("slips.html")
    labels = {**LABELS[lang], **GUARDIAN_LABELS[lang]} if for_guardian else LABELS[lang]
    return template.render(
        lang=lang,
        t=labels,
        school_name=school_name,
        class_name=class_name,
        pages=pages,
        instruction_zh=GUARDIAN_INSTRUCTION_ZH if for_guardian else INSTRUCTION_ZH,
        instruction_en=GUARDIAN_INSTRUCTION_EN if for_guardian else INSTRUCTION_EN,
        for_guardian=for_guardian,
        guardian_for_zh=GUARDIAN_FOR_ZH,
        guardian_for_en=GUARDIAN_FOR_EN,
        hotlines=HOTLINES,
        city_help_line=city_help_line,
    )
