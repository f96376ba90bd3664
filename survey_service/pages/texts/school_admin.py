"""Page text: school_admin (issue 13) — the school's notification routes and calendar pages.
Merged into survey_service.pages.i18n."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "sa_back_admin": "返回学校管理",
        # --- notification routes -----------------------------------------------------------
        "sa_routes_intro": "预警和提醒按接收人的角色发送：每个角色可以设置一个或多个通道"
        "（企业微信或钉钉群机器人、电子邮件、短信网关、签名 Webhook、站内消息）。"
        "没有设置的角色使用默认通道。",
        "sa_routes_order": "同一角色的通道按顺序使用：先发第一个；某个通道彻底失败时，改用"
        "「失败后改用」指定的通道，没有指定则用下一个。值班表也从这些通道中选择。",
        "sa_routes_now": "现在的通知路由",
        "sa_routes_col_role": "接收角色",
        "sa_routes_col_receives": "接收内容",
        "sa_routes_col_channels": "通道（按顺序）",
        "sa_routes_default": "未设置，使用默认：",
        "sa_routes_configured": "已设置：",
        "sa_secret_set": "密钥已设置",
        "sa_secret_none": "未设置密钥",
        "sa_names_shown": "消息中显示学生姓名",
        "sa_routes_edit": "修改通知路由",
        "sa_routes_form_hint": "每一行是一个通道。要删除一行，把通道类型选为「—（不使用）」；"
        "空白行不会保存。所有行都不使用时，各角色恢复默认通道。",
        "sa_routes_secret_policy": "密钥、密码和机器人地址保存后不再显示（机器人地址中含有"
        "令牌，只显示域名）。这些栏目留空即保留已保存的值。",
        "sa_routes_row": "通道 {}",
        "sa_routes_role": "接收角色",
        "sa_routes_kind": "通道类型",
        "sa_routes_kind_none": "—（不使用）",
        "sa_routes_name": "通道名称（可不填）",
        "sa_routes_name_hint": "小写字母、数字、- 和 _；不填则按类型命名。值班表按此名称选择通道。",
        "sa_routes_target": "地址",
        "sa_routes_target_hint": "机器人、短信网关或 Webhook 的完整地址；电子邮件填邮件服务器，"
        "如 smtp.example.cn:587；站内消息不用填。",
        "sa_routes_saved_keep": "已保存：{}（为保护令牌不显示全部，留空即保留）",
        "sa_routes_secret": "密钥或密码",
        "sa_routes_secret_hint": "签名 Webhook 必填；钉钉加签、短信网关签名可不填；电子邮件填"
        "发信账号的密码。",
        "sa_routes_secret_kept": "已设置（不显示）。留空即保留，填写则替换。",
        "sa_routes_clear": "删除已保存的密钥或密码",
        "sa_routes_sender": "发件人（仅电子邮件）",
        "sa_routes_username": "用户名（仅电子邮件）",
        "sa_routes_username_kept": "已设置（不显示）。留空即保留。",
        "sa_routes_fallback": "失败后改用（可不填）",
        "sa_routes_fallback_hint": "本角色另一个通道的名称；不填则用下一个通道。",
        "sa_routes_names": "消息中显示学生姓名（仅电子邮件、签名 Webhook、站内消息）",
        "sa_routes_save": "保存通知路由",
        # --- school calendar ---------------------------------------------------------------
        "sa_cal_intro": "每个学年一份校历：学期（含期中、期末考试）、假期和停课、调休上课日，"
        "以及每天的在校时间。",
        "sa_cal_why_title": "为什么要填校历",
        "sa_cal_why_deadlines": "按在校时间计算的期限（如三级关注个案的确认、谈心谈话）只计上学日的"
        "在校时间，跳过周末、假期和停课日；没有校历时按周一至周五计算，不知道假期。",
        "sa_cal_why_on_call": "在校时间以外（放学后、周末、假期），自杀风险个案会通知"
        "值班表上的人员。",
        "sa_cal_why_tasks": "开学、期中和期末考试前后的谈心谈话，以及下学期复筛，都按学期"
        "和考试日期安排。",
        "sa_cal_years": "已保存的学年",
        "sa_cal_none": "尚未填写校历：目前按周一至周五、每天 08:00–17:00 计算，没有假期。",
        "sa_cal_col_year": "学年",
        "sa_cal_col_dates": "起止日期",
        "sa_cal_col_terms": "学期",
        "sa_cal_col_holidays": "假期天数",
        "sa_cal_col_hours": "在校时间",
        "sa_cal_col_updated": "更新时间",
        "sa_cal_in_force": "正在使用",
        "sa_cal_edit_link": "修改 {}",
        "sa_cal_add_year": "新增一个学年",
        "sa_cal_edit_title": "修改学年 {}",
        "sa_cal_new_title": "新增学年",
        "sa_cal_label": "学年名称",
        "sa_cal_label_hint": "如 2026-2027。改为另一个名称会另存为一个新学年。",
        "sa_cal_hours": "每天的在校时间",
        "sa_cal_day_start": "上课开始",
        "sa_cal_day_end": "放学",
        "sa_cal_time_hint": "24 小时制，如 08:00",
        "sa_cal_terms": "学期",
        "sa_cal_terms_hint": "至少一个学期；学期之间不能重叠。考试日期可不填。空白的学期不会保存。",
        "sa_cal_term": "第 {} 学期",
        "sa_cal_start": "开始日期",
        "sa_cal_end": "结束日期",
        "sa_cal_midterm": "期中考试（可不填）",
        "sa_cal_final": "期末考试（可不填）",
        "sa_cal_exam_start": "第一天",
        "sa_cal_exam_end": "最后一天",
        "sa_cal_holidays": "假期和停课",
        "sa_cal_holidays_hint": "法定节假日、校庆、停课等不上学的日子。一天的假期只填「从」。",
        "sa_cal_holiday": "假期 {}",
        "sa_cal_from": "从",
        "sa_cal_to": "到（可不填）",
        "sa_cal_makeup": "调休上课日",
        "sa_cal_makeup_hint": "要上课的周末（调休）。",
        "sa_cal_makeup_day": "调休上课日 {}",
        "sa_cal_save": "保存校历",
        "sa_cal_days": "{} 天",
    },
    "en": {
        "sa_back_admin": "Back to administration",
        # --- notification routes -----------------------------------------------------------
        "sa_routes_intro": "Alerts and reminders go by the recipient's role: each role can have "
        "one or more channels (a WeCom or DingTalk group robot, e-mail, an SMS gateway, a "
        "signed webhook, the in-app queue). A role without channels uses the default.",
        "sa_routes_order": "A role's channels are used in order: the first one; when a channel "
        "fails for good, the one named under 'then try', else the next. The on-call rota "
        "chooses from these channels too.",
        "sa_routes_now": "Notification routes now",
        "sa_routes_col_role": "Recipient",
        "sa_routes_col_receives": "Receives",
        "sa_routes_col_channels": "Channels (in order)",
        "sa_routes_default": "Not set, the default:",
        "sa_routes_configured": "Set:",
        "sa_secret_set": "secret set",
        "sa_secret_none": "no secret",
        "sa_names_shown": "student names in messages",
        "sa_routes_edit": "Change the notification routes",
        "sa_routes_form_hint": "Each row is one channel. To remove a row, set its kind to "
        "'— (not used)'; blank rows are not saved. With no row in use, every role goes back to "
        "the default.",
        "sa_routes_secret_policy": "Secrets, passwords and robot addresses are never shown once "
        "saved (a robot's address carries its token: only the host is shown). Leave them blank "
        "to keep what is saved.",
        "sa_routes_row": "Channel {}",
        "sa_routes_role": "Recipient",
        "sa_routes_kind": "Channel kind",
        "sa_routes_kind_none": "— (not used)",
        "sa_routes_name": "Channel name (optional)",
        "sa_routes_name_hint": "Lower-case letters, digits, - and _; blank: named after the "
        "kind. The on-call rota picks channels by this name.",
        "sa_routes_target": "Address",
        "sa_routes_target_hint": "The robot's, SMS gateway's or webhook's full address; for "
        "e-mail the mail server, like smtp.example.cn:587; none for in-app.",
        "sa_routes_saved_keep": "Saved: {} (not shown in full, to protect its token; leave "
        "blank to keep it)",
        "sa_routes_secret": "Secret or password",
        "sa_routes_secret_hint": "Required for a signed webhook; optional for DingTalk signing "
        "and SMS gateway signing; for e-mail, the sending account's password.",
        "sa_routes_secret_kept": "Set (not shown). Leave blank to keep it, type to replace it.",
        "sa_routes_clear": "Remove the saved secret or password",
        "sa_routes_sender": "Sender (e-mail only)",
        "sa_routes_username": "User name (e-mail only)",
        "sa_routes_username_kept": "Set (not shown). Leave blank to keep it.",
        "sa_routes_fallback": "Then try (optional)",
        "sa_routes_fallback_hint": "The name of another channel of this recipient; blank: the "
        "next channel.",
        "sa_routes_names": "Show student names in messages (e-mail, signed webhook and in-app "
        "only)",
        "sa_routes_save": "Save the notification routes",
        # --- school calendar ---------------------------------------------------------------
        "sa_cal_intro": "One calendar per school year: terms (with mid-term and final exams), "
        "holidays and closures, make-up school days, and the school day's hours.",
        "sa_cal_why_title": "Why the calendar matters",
        "sa_cal_why_deadlines": "Deadlines that count school time (such as acknowledging a "
        "tier 3 case, or a talk) count only school hours on school days, skipping weekends, "
        "holidays and closures; without a calendar every weekday counts and no holiday is known.",
        "sa_cal_why_on_call": "Outside school hours (after school, at weekends, in holidays) a "
        "suicide-pathway case pages the staff on the on-call rota.",
        "sa_cal_why_tasks": "The talks at the start of term and around the mid-term and final "
        "exams, and the re-screen next term, are placed on the terms and exam dates.",
        "sa_cal_years": "Saved school years",
        "sa_cal_none": "No calendar yet: Monday to Friday, 08:00–17:00, with no holidays, is "
        "counted for now.",
        "sa_cal_col_year": "School year",
        "sa_cal_col_dates": "Dates",
        "sa_cal_col_terms": "Terms",
        "sa_cal_col_holidays": "Holidays",
        "sa_cal_col_hours": "School hours",
        "sa_cal_col_updated": "Updated",
        "sa_cal_in_force": "In use",
        "sa_cal_edit_link": "Change {}",
        "sa_cal_add_year": "Add a school year",
        "sa_cal_edit_title": "Change the school year {}",
        "sa_cal_new_title": "New school year",
        "sa_cal_label": "School year",
        "sa_cal_label_hint": "Like 2026-2027. Another name saves it as a new school year.",
        "sa_cal_hours": "School hours",
        "sa_cal_day_start": "School starts",
        "sa_cal_day_end": "School ends",
        "sa_cal_time_hint": "24-hour clock, like 08:00",
        "sa_cal_terms": "Terms",
        "sa_cal_terms_hint": "At least one term; terms may not overlap. Exam dates are "
        "optional. A blank term is not saved.",
        "sa_cal_term": "Term {}",
        "sa_cal_start": "First day",
        "sa_cal_end": "Last day",
        "sa_cal_midterm": "Mid-term exam (optional)",
        "sa_cal_final": "Final exam (optional)",
        "sa_cal_exam_start": "First day",
        "sa_cal_exam_end": "Last day",
        "sa_cal_holidays": "Holidays and closures",
        "sa_cal_holidays_hint": "Public holidays, school anniversaries, closures: days without "
        "school. For a one-day holiday fill in 'From' only.",
        "sa_cal_holiday": "Holiday {}",
        "sa_cal_from": "From",
        "sa_cal_to": "To (optional)",
        "sa_cal_makeup": "Make-up school days",
        "sa_cal_makeup_hint": "Weekend days with school (调休).",
        "sa_cal_makeup_day": "Make-up school day {}",
        "sa_cal_save": "Save the calendar",
        "sa_cal_days": "{} days",
    },
}
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    # The channel kinds a school can set (and the default's "not configured").
    "channel": {
        "wecom": ("企业微信群机器人", "WeCom group robot"),
        "dingtalk": ("钉钉群机器人", "DingTalk group robot"),
        "email": ("电子邮件", "E-mail"),
        "sms": ("短信", "SMS"),
        "webhook": ("签名 Webhook", "Signed webhook"),
        "inapp": ("站内消息", "In-app queue"),
        "unconfigured": (
            "未配置（通知会转给上一级并提醒运维）",
            "Not configured (notices go up a level and alert the operators)",
        ),
    },
    # What each recipient role is sent (tiers as on the queue: 一级 red … 三级 yellow).
    "sa_receives": {
        "counsellor": (
            "新个案（一级、二级、三级）、等级上调、撤回同意、逾期任务提醒",
            "New cases (tiers 1, 2 and 3), raised tiers, withdrawn consent, overdue tasks",
        ),
        "school_lead": (
            "未按时确认的个案升级（一级、二级、三级）、逾期任务升级；默认值班人员",
            "Escalations of cases not acknowledged in time (tiers 1, 2 and 3) and of overdue "
            "tasks; on the default on-call rota",
        ),
        "school_admin": (
            "值班表指定学校管理员时的值班通知",
            "On-call pages, when the rota names school admins",
        ),
        "head_teacher": (
            "本班的提醒（如未完成筛查的学生）；默认为站内消息",
            "Reminders about their class (such as students not finished); in-app by default",
        ),
        "district_officer": (
            "学校路由对区教育局不起作用：区教育局使用区级通知路由",
            "Not used for district officers: they follow the district's routes",
        ),
    },
}
