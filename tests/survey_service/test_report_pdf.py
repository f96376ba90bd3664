"""The PDF seam: a Chinese font is embedded, nothing is fetched, a missing font is a clear error."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from survey_service.reports import (
    REPORT_FONT_FAMILY,
    ReportFontMissing,
    find_report_font,
    render_pdf,
)


def _page(font_css: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>{font_css} '
        f"body {{ font-family: {REPORT_FONT_FAMILY}; }}</style></head><body>{body}</body></html>"
    )


def test_chinese_text_comes_back_and_the_font_is_embedded() -> None:
    font = find_report_font(None)
    pdf = render_pdf(
        _page(font.css(), "<h1>润心 年度筛查报告</h1><p>覆盖率 97%</p>"),
        font,
        title="年度报告 Annual report",
    )
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert "润心 年度筛查报告" in text
    assert "覆盖率 97%" in text
    assert reader.metadata is not None and reader.metadata.title == "年度报告 Annual report"
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        descendant = ref.get_object()
        for d in descendant.get("/DescendantFonts", [descendant]):
            desc = d.get_object().get("/FontDescriptor")
            if desc is not None:
                desc = desc.get_object()
                embedded.append(any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")))
    assert embedded and all(embedded), "every font in the report is embedded"


def test_a_template_that_points_elsewhere_stops_the_rendering() -> None:
    from weasyprint.urls import FatalURLFetchingError

    font = find_report_font(None)
    secret = Path("/etc/hostname")
    for src in ("http://127.0.0.1:9/x.png", secret.as_uri()):
        with pytest.raises(FatalURLFetchingError):
            render_pdf(_page(font.css(), f'<img src="{src}" alt="">'), font)


def test_a_missing_font_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ReportFontMissing, match="fonts-noto-cjk"):
        find_report_font(None, candidates=[str(tmp_path / "none.ttc")])
    with pytest.raises(ReportFontMissing, match="RUNXIN_REPORT_FONT"):
        find_report_font(str(tmp_path / "none.ttf"))


def test_the_configured_font_wins(tmp_path: Path) -> None:
    real = find_report_font(None).path
    chosen = find_report_font(str(real), candidates=[str(tmp_path / "other.ttc")])
    assert chosen.path == real
