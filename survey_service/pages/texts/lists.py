"""Page text: long lists — the pager and search boxes (issue 13). Merged into
``survey_service.pages.i18n``."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "pager_label": "翻页",
        "pager_prev": "上一页",
        "pager_next": "下一页",
        # first, last, total, page, pages
        "pager_status": "第 {0}–{1} 条，共 {2} 条（第 {3}/{4} 页）",
        "search": "搜索",
    },
    "en": {
        "pager_label": "Pages",
        "pager_prev": "Previous page",
        "pager_next": "Next page",
        "pager_status": "{0}–{1} of {2} (page {3} of {4})",
        "search": "Search",
    },
}
LABELS: dict[str, dict[str, tuple[str, str]]] = {}
