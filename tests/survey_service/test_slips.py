"""Printable access-code slips: every code, a QR code that encodes exactly its link, escaping."""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser

import pytest
import segno

from survey_service.campaigns.slips import (
    SLIPS_PER_PAGE,
    Slip,
    SlipError,
    qr_svg,
    render_slips_html,
    slip_link,
)

BASE = "https://runxin.example.cn"
EXPIRES = dt.date(2026, 10, 30)


def make_slips(count: int) -> list[Slip]:
    return [
        Slip(
            student_number=f"2026{i:03d}",
            name=f"学生{i}",
            access_code=f"ABCDE-{i:05d}".replace("0", "A").replace("1", "B"),
            expires_at=EXPIRES,
        )
        for i in range(count)
    ]


class SlipCollector(HTMLParser):
    """Collects each slip's text and inline SVG path, and the page sections."""

    def __init__(self) -> None:
        super().__init__()
        self.sheets = 0
        self.slips: list[dict[str, str]] = []
        self._field: str | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "script":
            self._in_script = True
        if tag == "section" and "sheet" in classes:
            self.sheets += 1
        if tag == "article" and "slip" in classes:
            self.slips.append({"text": "", "path": "", "code": "", "link": "", "name": ""})
        if self.slips:
            for name in ("code", "link", "name"):
                if name in classes:
                    self._field = name
            if tag == "path":
                self.slips[-1]["path"] = dict(attrs).get("d") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        self._field = None

    def handle_data(self, data: str) -> None:
        if self.slips:
            self.slips[-1]["text"] += data
            if self._field:
                self.slips[-1][self._field] += data


def parse(page: str) -> SlipCollector:
    collector = SlipCollector()
    collector.feed(page)
    assert not collector._in_script
    return collector


def matrix_from_svg_path(path: str, border: int) -> list[list[bool]]:
    """Rebuild the module matrix from segno's SVG path (``M x y``, ``m dx dy``, ``h n``).

    Each horizontal stroke runs through the middle of a module row (y + 0.5)."""
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            length = int(float(a))
            for column in range(int(x), int(x) + length):
                dark.add((int(y - 0.5) - border, column - border))
            x += length
    size = max(max(r, c) for r, c in dark) + 1
    return [[(r, c) in dark for c in range(size)] for r in range(size)]


def test_every_slip_has_its_code_link_name_and_a_qr_code_of_exactly_its_link() -> None:
    slips = make_slips(10)
    page = render_slips_html("南京市第一中学", "七年级1班", slips, base_url=BASE + "/")
    parsed = parse(page)
    assert len(parsed.slips) == 10
    for slip, seen in zip(slips, parsed.slips, strict=True):
        link = f"{BASE}/s/{slip.access_code}"
        assert seen["code"].strip() == slip.access_code
        assert seen["link"].strip() == link
        assert seen["name"].strip() == slip.name
        assert slip.student_number in seen["text"]
        assert "南京市第一中学" in seen["text"] and "七年级1班" in seen["text"]
        assert "2026-10-30" in seen["text"]
        # the SVG on the slip is segno's rendering of the link, and its modules are the QR
        # matrix for exactly that link (so a phone scanning it opens this student's link)
        assert qr_svg(link) in page
        reference = segno.make(link, error="m", micro=False)
        expected = [[bool(v) for v in row] for row in reference.matrix]
        assert matrix_from_svg_path(seen["path"], border=2) == expected
        assert segno.make(link, error="m").designator == reference.designator  # not a micro QR
        for other in slips:
            if other is not slip:
                assert other.access_code not in seen["text"]


def test_eight_slips_per_a4_page_with_cut_lines_and_page_breaks() -> None:
    page = render_slips_html("学校", "1班", make_slips(17), base_url=BASE)
    parsed = parse(page)
    assert SLIPS_PER_PAGE == 8
    assert parsed.sheets == 3  # 8 + 8 + 1
    assert "size: A4" in page
    assert "break-after: page" in page and "page-break-after: always" in page
    assert "dashed" in page
    assert "grid-template-columns" in page


def test_instructions_and_hotlines_but_nothing_about_results() -> None:
    page = render_slips_html("学校", "1班", make_slips(1), base_url=BASE)
    assert "用手机扫码或在电脑上打开链接，输入登录码开始问卷。" in page
    assert "Scan the code with a phone, or open the link on a computer" in page
    assert "12356" in page and "12355" in page
    text = html.unescape(re.sub(r"<[^>]+>", " ", page)).lower()
    for word in ("score", "result", "risk", "分数", "得分", "结果", "风险"):
        assert word not in text


def test_names_and_school_are_escaped() -> None:
    evil = Slip(
        student_number='1"><img src=x onerror=alert(1)>',
        name="<script>alert('x')</script>",
        access_code="ABCDE-FGHJK",
        expires_at=EXPIRES,
    )
    page = render_slips_html("<b>School</b>", "1班 & 2班", [evil], base_url=BASE)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>School</b>" not in page and "&lt;b&gt;School&lt;/b&gt;" in page
    assert "1班 &amp; 2班" in page
    assert parse(page).slips[0]["name"].strip() == evil.name


def test_english_labels_datetime_expiry_and_city_line() -> None:
    slip = Slip("1", "Li Lei", "ABCDE-FGHJK", dt.datetime(2026, 10, 30, 17, 30))
    page = render_slips_html(
        "No. 1 Middle School", "Class 1", [slip], base_url=BASE, lang="en", city_help_line="96111"
    )
    assert '<html lang="en">' in page
    assert "Sign-in code" in page and "Valid until：2026-10-30 17:30" in page
    assert "96111" in page
    assert "用手机扫码" in page  # the instruction is bilingual whatever the label language


def test_code_is_percent_encoded_in_the_link() -> None:
    assert slip_link(BASE + "/", "AB CD/12") == f"{BASE}/s/AB%20CD%2F12"
    assert slip_link(BASE, "ABCDE-FGHJK") == f"{BASE}/s/ABCDE-FGHJK"


def test_empty_class_and_bad_arguments() -> None:
    page = render_slips_html("学校", "1班", [], base_url=BASE)
    assert "这个班级没有需要打印的登录条" in page
    assert parse(page).sheets == 0
    with pytest.raises(SlipError, match="language"):
        render_slips_html("学校", "1班", [], base_url=BASE, lang="fr")
    with pytest.raises(SlipError, match="base_url"):
        render_slips_html("学校", "1班", [], base_url="javascript:alert(1)")
    assert issubclass(SlipError, ValueError)
