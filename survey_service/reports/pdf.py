"""HTML to PDF: the one seam through which every printable report becomes a file.

Reports are HTML pages drawn from the same Jinja templates as the screens; WeasyPrint lays them
out as PDF. Two rules make a PDF that prints the same anywhere:

- **A Chinese font is embedded.** The report's CSS names one font file (``@font-face``) with
  Chinese glyphs; WeasyPrint embeds the subset of it that the report uses, so a reader's
  machine needs no Chinese font of its own. The file is ``RUNXIN_REPORT_FONT`` or the first of
  the usual system locations that exists (:data:`CJK_FONT_CANDIDATES`); with none, rendering
  stops with :class:`ReportFontMissing`, which says what to install — never a PDF of empty
  boxes.
- **Nothing is fetched.** A report's HTML carries its charts inline (SVG); the URL fetcher
  answers only the font file and ``data:`` URLs, so a template can never make the server read
  another file or reach the network.

WeasyPrint is imported on first use (it takes about half a second), so neither the command
line nor the app pays for it until a PDF is asked for. Rendering is CPU-bound and blocking:
request handlers call :func:`render_pdf` in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Where Debian/Ubuntu, Fedora, Alpine and macOS put a CJK font, in order of preference.
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)

#: The family name the report CSS uses for the embedded font.
REPORT_FONT_FAMILY = "RunxinReport"


class ReportFontMissing(RuntimeError):
    """No font with Chinese glyphs is configured or installed."""


@dataclass(frozen=True, slots=True)
class ReportFont:
    """The font file a report embeds."""

    path: Path

    def css(self) -> str:
        """An ``@font-face`` rule naming :data:`REPORT_FONT_FAMILY` for this file."""
        return (
            f'@font-face {{ font-family: "{REPORT_FONT_FAMILY}"; '
            f'src: url("{self.path.resolve().as_uri()}"); }}'
        )


def find_report_font(
    configured: str | None, candidates: Sequence[str] = CJK_FONT_CANDIDATES
) -> ReportFont:
    """The font for reports: ``configured`` (``RUNXIN_REPORT_FONT``) or the first candidate.

    Raises
    ------
    ReportFontMissing
        ``configured`` names no readable file, or no candidate exists.
    """
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ReportFontMissing(
                f"RUNXIN_REPORT_FONT={configured} is not a font file that exists "
                f"(RUNXIN_REPORT_FONT 指向的字体文件不存在)"
            )
        return ReportFont(path)
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file():
            return ReportFont(path)
    raise ReportFontMissing(
        "no font with Chinese glyphs found for PDF reports: install one (Debian/Ubuntu: "
        "`apt-get install fonts-noto-cjk` or `fonts-wqy-microhei`) or set RUNXIN_REPORT_FONT "
        "to a .ttf/.otf/.ttc file (未找到可用于 PDF 报告的中文字体：请安装中文字体，"
        "或将 RUNXIN_REPORT_FONT 设置为字体文件路径)"
    )


def _fetcher(font: ReportFont) -> Any:
    """A WeasyPrint URL fetcher that answers the font file and ``data:`` URLs only.

    Anything else stops the rendering (``fail_on_errors``): a report template that points
    elsewhere is a bug to find in the tests, not a PDF with a hole in it.
    """
    from weasyprint.urls import URLFetcher

    allowed = font.path.resolve().as_uri()

    class _ReportFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url == allowed or url.startswith("data:"):
                return super().fetch(url, headers)
            raise ValueError(f"a report may not load {url!r}")

    return _ReportFetcher(fail_on_errors=True, allowed_protocols=("file", "data"))


def render_pdf(html: str, font: ReportFont, *, title: str | None = None) -> bytes:
    """Lay out ``html`` as PDF bytes with ``font`` embedded.

    ``html`` is a complete document whose CSS uses ``font-family: RunxinReport`` (add
    :meth:`ReportFont.css` to its stylesheet). Nothing outside the font file is read.
    """
    import logging

    from weasyprint import HTML

    # WeasyPrint logs every refused fetch and unsupported CSS rule as a warning; a report's
    # HTML is ours, so those are bugs for the tests, not lines for the operator's log.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    rendered = HTML(string=html, url_fetcher=_fetcher(font)).render()
    if title is not None:
        rendered.metadata.title = title
    pdf = rendered.write_pdf()
    if not isinstance(pdf, bytes):  # pragma: no cover - write_pdf() without a target
        raise TypeError("WeasyPrint returned no bytes")
    return pdf
