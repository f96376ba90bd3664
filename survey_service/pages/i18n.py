"""User-facing page text in Simplified Chinese and English."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "app": "润心 · 心理健康筛查",
        "enter_title": "开始问卷",
        "enter_intro": "请输入老师发给你的登录码。问卷没有对错之分，请按照自己最近的真实感受作答。",
        "code_label": "登录码",
        "start": "开始",
        "switch": "English",
        "submit": "提交问卷",
        "unanswered_ok": "如果有不想回答的题目，可以留空。",
        "thanks_title": "谢谢你！",
        "help_title": "需要帮助时",
        "back": "返回",
        "error_title": "出了点问题",
    },
    "en": {
        "app": "Runxin · wellbeing check",
        "enter_title": "Start the questionnaire",
        "enter_intro": "Enter the access code your teacher gave you. There are no right or wrong "
        "answers: answer how you have really been feeling.",
        "code_label": "Access code",
        "start": "Start",
        "switch": "中文",
        "submit": "Submit",
        "unanswered_ok": "You may leave out any question you do not want to answer.",
        "thanks_title": "Thank you!",
        "help_title": "If you need help",
        "back": "Back",
        "error_title": "Something went wrong",
    },
}


def language(requested: str | None) -> str:
    """``en`` when asked for, otherwise the default ``zh-CN``."""
    return "en" if requested == "en" else "zh-CN"
