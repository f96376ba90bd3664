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
        "lists_search_student": "学生姓名或学号",
        "lists_latest_each": "各校最近一次筛查",
        "lists_not_done_title": "尚未完成的学生",
        "lists_no_match": "没有符合搜索条件的学生。",
        "lists_care_pager": "需要关注的学生（翻页）",
        "lists_count_students": "共 {0} 名学生",
        "lists_audit_newest": "最新的记录",
        # first, last, page
        "lists_audit_status": "第 {0}–{1} 条（第 {2} 页）",
    },
    "en": {
        "pager_label": "Pages",
        "pager_prev": "Previous page",
        "pager_next": "Next page",
        "pager_status": "{0}–{1} of {2} (page {3} of {4})",
        "search": "Search",
        "lists_search_student": "Student name or number",
        "lists_latest_each": "Each school's latest campaign",
        "lists_not_done_title": "Students not finished yet",
        "lists_no_match": "No student matches the search.",
        "lists_care_pager": "Pages of students who need attention",
        "lists_count_students": "{0} students",
        "lists_audit_newest": "Newest rows",
        "lists_audit_status": "Rows {0}–{1} (page {2})",
    },
}
LABELS: dict[str, dict[str, tuple[str, str]]] = {}
