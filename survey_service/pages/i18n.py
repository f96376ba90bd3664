"""User-facing page text in Simplified Chinese (the default) and English.

Labels read as the care team speaks ("needs attention", 需要关注), never a disorder name.
"""

from __future__ import annotations

import re

LANGUAGES = ("zh-CN", "en")

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "app": "润心 · 心理健康筛查",
        "staff_app": "润心 · 工作台",
        "switch": "English",
        "switch_label": "Switch to English",
        "skip": "跳到正文",
        "back": "返回",
        "error_title": "出了点问题",
        "not_found": "找不到这个页面。",
        "forbidden": "你没有权限查看这个页面。",
        "help_title": "需要帮助时",
        "help_intro": "如果你感到难过、害怕或有伤害自己的想法，可以随时联系：",
        "help_room": "学校心理辅导室",
        "help_counsellor": "学校心理老师",
        # student: entry
        "enter_title": "开始问卷",
        "enter_intro": "请输入老师发给你的登录码，或扫描登录条上的二维码。"
        "问卷没有对错之分，请按照自己最近的真实感受作答。",
        "code_label": "登录码",
        "code_hint": "10 位字母和数字，例如 ABCDE-FGHJK，大小写都可以。",
        "start": "开始",
        # student: notice
        "notice_title": "开始前请阅读",
        "notice_points": "这份问卷了解你最近的心情和生活，不是考试，也不计入成绩。|"
        "你的回答只有学校心理老师能看到，不会告诉同学，也不会用来给学生排名。|"
        "如果回答显示你可能需要帮助，心理老师会找你聊一聊，必要时会联系你的家长。|"
        "不想回答的题目可以跳过。答到一半可以关掉页面，之后用同一个登录码继续。",
        "notice_agree": "我已了解，开始作答",
        "notice_decline": "我现在不想作答",
        "declined_title": "没关系",
        "declined_text": "你可以之后再用同一个登录码回来作答，也可以告诉你的班主任或心理老师。",
        # student: instrument pages
        "progress": "第 {0} 部分，共 {1} 部分",
        "progress_label": "答题进度",
        "answered_of": "本部分已答 {0} / {1} 题",
        "unanswered_ok": "不想回答的题目可以留空。你的答案在选择时或点击“下一步”时保存。",
        "autosaved": "已自动保存",
        "autosave_failed": "这一题暂时没能自动保存；点“下一步”时会一起保存。",
        "critical_ask": "这道题对我们很重要。如果你愿意，请选择一个最符合你的答案；"
        "如果不想回答，也可以直接点“下一步”。",
        "next": "下一步",
        "previous": "上一步",
        "save_exit": "保存，稍后继续",
        "saved_title": "已保存",
        "saved_text": "你的答案已经保存。之后再次打开登录码链接（或重新输入登录码）即可继续作答。",
        "resume": "继续作答",
        "language_notice": "提示",
        # student: review
        "review_title": "检查你的答案",
        "review_intro": "提交前可以修改任何一部分。提交后就不能再修改了。",
        "review_part": "第 {0} 部分",
        "review_answered": "已答 {0} / {1} 题",
        "review_missing": "未作答的题目：",
        "review_edit": "修改这一部分",
        "no_answer": "（未作答）",
        "review_part_empty": "这一部分还没有作答任何题目。"
        "你可以点“修改”回去作答，也可以不答直接提交。",
        "submit": "提交问卷",
        # student: thanks
        "thanks_title": "谢谢你！",
        "thanks_text": "你的问卷已经提交，谢谢你认真作答。",
        "thanks_next": "如果你现在感到难过或需要帮助，请随时联系下面的热线或学校心理老师。",
        "urgent_title": "现在请找一位你信任的大人",
        "urgent_text": "谢谢你告诉我们你现在的感受。"
        "请现在就去找老师、班主任或家长，和他们待在一起。"
        "学校心理老师已经收到通知，马上会来找你。",
        "urgent_call": "如果你觉得自己马上会有危险，"
        "请立即拨打 110 或 120，或拨打 12356 心理援助热线。",
        "support_title": "你不是一个人，随时可以找人聊聊",
        "support_text": "谢谢你愿意告诉我们你的感受。学校心理老师会来找你聊一聊。"
        "如果你现在就想找人说说话，不用等：可以拨打下面的电话，"
        "或者去学校心理辅导室（绿色通道），也可以告诉一位你信任的老师或家长。",
        # student pages for a guardian (guardian codes): ``guardian_<key>`` replaces ``<key>``
        "guardian_audience": "本问卷由家长/监护人填写，关于您的孩子。",
        "guardian_help_intro": "如果您担心孩子的安全，或孩子感到难过、害怕或有伤害自己的想法，"
        "可以随时联系：",
        "guardian_notice_title": "家长/监护人：开始前请阅读",
        "guardian_notice_points": "本问卷由家长/监护人填写，关于您的孩子。"
        "请根据您最近对孩子的观察作答，不要让孩子代为填写。|"
        "您的回答只有学校心理老师能看到，用于了解孩子是否需要支持，"
        "不计入成绩，也不会用来给学生排名。|"
        "如果回答显示孩子可能需要支持，学校心理老师会与您联系。|"
        "不想回答的题目可以跳过。填到一半可以关掉页面，之后用同一个登录码继续。",
        "guardian_notice_agree": "我已了解，开始填写",
        "guardian_notice_decline": "我现在不想填写",
        "guardian_declined_text": "您可以之后再用同一个家长登录码回来填写，"
        "也可以联系孩子的班主任或学校心理老师。",
        "guardian_saved_text": "您的回答已经保存。之后再次打开家长登录码链接（或重新输入登录码）"
        "即可继续填写。",
        "guardian_review_title": "检查您的回答",
        "guardian_review_intro": "提交前可以修改任何一部分。提交后就不能再修改了。",
        "guardian_thanks_title": "谢谢您！",
        "guardian_thanks_text": "您关于孩子的问卷已经提交，谢谢您认真填写。",
        "guardian_thanks_next": "如果您担心孩子现在的安全，或孩子需要帮助，"
        "请随时联系下面的热线或学校心理老师。",
        # staff: login
        "login_title": "教职工登录",
        "username": "用户名",
        "password": "密码",
        "login": "登录",
        "login_failed": "用户名或密码错误。",
        "login_cookie": "登录需要浏览器允许 Cookie。请刷新页面后重试。",
        "logout": "退出登录",
        "logout_title": "退出登录",
        "logout_confirm": "要退出登录吗？",
        "logged_in_as": "当前用户",
        "session_expired": "登录已过期，请重新登录。",
        "csrf_failed": "表单已过期，请返回上一页刷新后再提交。",
        "no_page_for_role": "你的账号角色暂时没有可用的页面。",
        # staff: nav
        "nav": "主导航",
        "nav_queue": "工作队列",
        "nav_school": "学校概览",
        "nav_class": "我的班级",
        "nav_district": "区域概览",
        # staff: on-call rota (issue 11)
        "nav_on_call": "值班表",
        "on_call_title": "校外时间值班表",
        "on_call_intro": "红色和橙色的自杀风险个案不等上学时间：在放学后、周末和节假日"
        "（调休上课日除外）开案或升级时，除了平时的通知对象，还会通知下面正在值班的人。"
        "通知里只有等级、学校、班级、截止时间和链接，没有学生姓名、作答或分数。",
        "on_call_members": "值班人员",
        "on_call_default_applies": "目前没有设置值班表，使用默认值班。",
        "on_call_nobody": "值班表没有对应到任何在职人员或可用通道，请检查。",
        "on_call_who": "值班人",
        "on_call_role": "身份",
        "on_call_channel": "通知通道",
        "on_call_channel_default": "本人的短信通道（没有则用第一个通道）",
        "on_call_channels": "本校已配置的通道",
        "on_call_hours": "值班时间",
        "on_call_outside": "全部校外时间",
        "on_call_edit": "修改值班表",
        "on_call_form_hint": "每行一位值班人（或一类身份）。"
        "勾选“全部校外时间”，或填写每周的值班时段"
        "（结束早于开始表示跨夜，例如 18:00 到 08:00）。"
        "上学时间内不会通知值班人。"
        "把所有行的值班人留空并保存，即恢复默认值班。",
        "on_call_entry": "第 {0} 行",
        "on_call_by_role": "按身份",
        "on_call_by_person": "指定人员",
        "on_call_window": "每周值班时段",
        "on_call_from": "从",
        "on_call_to": "到",
        "day_mon": "周一",
        "day_tue": "周二",
        "day_wed": "周三",
        "day_thu": "周四",
        "day_fri": "周五",
        "day_sat": "周六",
        "day_sun": "周日",
        # staff: queue
        "queue_title": "工作队列",
        "queue_intro": "本校未结案的个案，按截止时间排序，时间相同时等级高的在前。"
        "列表不按分数排序。",
        "queue_intro_district": "本区未结案的个案，按截止时间排序，时间相同时等级高的在前。",
        "filters": "筛选",
        "filter_class": "班级",
        "filter_tier": "等级",
        "filter_state": "状态",
        "filter_all": "全部",
        "apply": "筛选",
        "clear_filters": "清除",
        "col_student": "学生",
        "col_class": "班级",
        "col_tier": "等级",
        "col_state": "状态",
        "col_deadline": "截止时间",
        "col_next": "下一步",
        "col_time_left": "剩余时间",
        "col_opened": "开案时间",
        "col_school": "学校",
        "col_level": "升级层级",
        "queue_empty": "没有符合条件的个案。",
        "overdue": "已逾期",
        "overdue_by": "已逾期 {0}",
        "time_left": "还剩 {0}",
        "open_case": "打开",
        "count_cases": "共 {0} 个个案",
        # staff: case / file
        "file_title": "学生档案（一人一档）",
        "case_title": "个案",
        "student_number": "学号",
        "school": "学校",
        "grade_class": "年级班级",
        "grade_n": "{0} 年级",
        "case_summary": "个案概况",
        "tier": "等级",
        "state": "状态",
        "acknowledge_by": "确认截止",
        "acknowledged_at": "确认时间",
        "opened_at": "开案时间",
        "escalation_level": "升级层级",
        "reasons": "定级原因",
        "reasons_hidden": "定级原因仅心理老师可见。",
        "actions": "操作",
        "acknowledge": "确认接案",
        "acknowledge_note": "备注（可选）",
        "state_actions": "推进个案",
        "action_note": "说明（可选）",
        "close_case": "结案",
        "close_reason": "结案原因（至少 10 个字）",
        "add_record": "记录谈话或备注",
        "record_kind": "类型",
        "record_summary": "内容",
        "record_at": "发生时间（可选）",
        "save": "保存",
        "refer_title": "转介到合作医院",
        "hospital": "医院",
        "refer_note": "说明（可选）",
        "refer": "转介",
        "referrals": "转介",
        "referral_stage": "阶段",
        "advance_referral": "更新阶段",
        "feedback": "医院反馈",
        "tasks": "任务",
        "task": "任务",
        "due": "截止",
        "assignee": "负责人",
        "task_done": "完成",
        "task_note": "完成情况（可选）",
        "complete_task": "标记完成",
        "no_tasks": "没有任务。",
        "later_tasks": "之后的任务（{0} 项）",
        "upcoming": "待办任务",
        "events": "个案记录",
        "care_group": "关爱小组",
        "no_members": "还没有关爱小组成员。",
        "plan": "危机干预方案（一生一策）",
        "no_plan": "还没有方案。",
        "edit_plan": "编辑方案",
        "plan_version": "第 {0} 版",
        "review_on": "复核日期",
        "warning_signs": "预警信号",
        "coping_steps": "应对步骤",
        "means_safety": "危险物品管控",
        "plan_contacts": "联系人",
        "one_per_line": "每行一项",
        "contacts_format": "每行一位：姓名，关系，电话",
        "plan_saved": "方案已保存。",
        "timeline": "时间线",
        "no_entries": "暂无记录。",
        "results": "筛查结果",
        "scores_hidden": "筛查结果仅心理老师可见。",
        "instrument": "量表",
        "result_languages": "作答语言",
        "given_in": "作答语言：{0}（{1}）",
        "parent_reported": "家长/监护人填写",
        "given_in_unknown": "作答语言：未记录",
        "total": "总分",
        "norm_score": "常模（{0}）：T 分 {1}，百分等级 {2}",
        "norm_clamped": "（超出常模样本的分数范围）",
        "band": "分段",
        "flags": "标记",
        "open_cases": "当前个案",
        "view_file": "查看档案",
        "done_ok": "已保存。",
        # staff: head teacher
        "class_title": "我的班级",
        "completion": "完成情况",
        "completion_intro": "本次筛查中尚未完成的学生。这里只显示是否完成，不显示任何作答或结果。",
        "not_started": "未开始",
        "in_progress": "进行中",
        "submitted": "已完成",
        "consent_refused": "监护人未同意",
        "all_done": "全部学生都已完成。",
        "of_class_done": "{0} / {1} 人已完成",
        "under_care": "需要关注的学生",
        "under_care_intro": "以下学生正在接受学校心理关爱。这里只列出需要你做的事情；"
        "作答和结果只有心理老师能看到。",
        "none_under_care": "你的班级目前没有需要你跟进的学生。",
        "asked_of_you": "需要你做的",
        "nothing_asked": "暂时没有需要你做的任务。",
        "record_talk": "记录一次谈话",
        "observation_title": "报告观察到的情况",
        "observation_intro": "如果你注意到学生的情绪或行为有变化，请在这里报告。"
        "心理老师会收到通知。"
        "如果学生有紧迫危险，请先确保学生安全并立即打电话给心理老师。",
        "obs_student": "学生",
        "obs_kind": "观察到的情况",
        "obs_severity": "紧急程度",
        "obs_note": "具体描述",
        "obs_when": "观察时间（可选）",
        "obs_submit": "提交报告",
        "obs_done": "报告已提交，心理老师会跟进。",
        "obs_done_case": "报告已提交，已经通知心理老师。",
        "choose": "请选择",
        # staff: dashboards
        "school_title": "学校概览",
        "district_title": "区域概览",
        "campaign": "筛查活动",
        "no_campaign": "目前没有进行中的筛查活动。",
        "coverage": "完成率",
        "coverage_by_class": "各班完成率",
        "coverage_by_school": "各校完成率",
        "funnel": "参与情况",
        "invited": "应参加",
        "consented": "可参加（已同意）",
        "refused": "未同意",
        "started": "已开始",
        "submitted_n": "已提交",
        "rate": "完成率",
        "tier_counts": "筛查结果分布",
        "tier_counts_intro": "少于 {0} 人的格子不显示具体数字；为免从合计反推出这些数字，同一行另有"
        "格子一并隐藏（均显示为“不显示”），以保护学生隐私。",
        "suppressed": "不显示",
        "overdue_tasks": "逾期任务",
        "no_overdue": "没有逾期任务。",
        "overdue_count": "逾期任务数",
        "open_case_count": "未结案个案",
        "staffing": "人员配置检查",
        "check": "检查项",
        "result": "结果",
        "ok": "符合",
        "needs_action": "需处理",
        "staff_counsellors": "心理老师（专职 {0} 人，兼职 {1} 人）",
        "staff_leads": "分管校领导 {0} 人",
        "staff_classes_without_head": "未指定班主任的班级 {0} 个",
        "staff_room": "心理辅导室开放时间和地点已填写",
        "staff_cases_per_counsellor": "每位心理老师负责的未结案个案 {0} 个",
        "escalations": "升级到区里的个案",
        "no_escalations": "目前没有升级的个案。",
        "incidents": "极端事件复盘",
        "no_incidents": "没有需要复盘的事件。",
        "review_due": "复盘截止",
        "filed": "已提交复盘",
        "not_filed": "未提交",
        "exports": "导出",
        "export_coverage_csv": "完成率（CSV）",
        "export_coverage_xlsx": "完成率（Excel）",
        "export_tasks_csv": "任务清单（CSV）",
        "export_tasks_xlsx": "任务清单（Excel）",
        "chart_note": "图表中的数字在下方表格中也有列出。",
        "yes": "是",
        "no": "否",
        # form input checks (issue 19: hostile input is a 400)
        "form_field_control": "“{field}”一项含有不允许的控制字符（例如空字符或文字方向控制符），"
        "请删除后重新提交。",
        "form_field_too_long": "“{field}”一项太长了：最多 {limit} 个字符。",
        "form_field_bad_name": "表单中有一项的名称无效（“{field}”），请从页面重新提交。",
    },
    "en": {
        "app": "Runxin · wellbeing check",
        "staff_app": "Runxin · staff",
        "switch": "中文",
        "switch_label": "切换到中文",
        "skip": "Skip to content",
        "back": "Back",
        "error_title": "Something went wrong",
        "not_found": "This page does not exist.",
        "forbidden": "You may not see this page.",
        "help_title": "If you need help",
        "help_intro": "If you feel upset, scared, or have thoughts of hurting yourself, "
        "you can contact at any time:",
        "help_room": "School counselling room",
        "help_counsellor": "School counsellor",
        "enter_title": "Start the questionnaire",
        "enter_intro": "Enter the access code your teacher gave you, or scan the QR code on "
        "your slip. There are no right or wrong answers: answer how you have really been "
        "feeling.",
        "code_label": "Access code",
        "code_hint": "10 letters and digits, for example ABCDE-FGHJK; upper or lower case.",
        "start": "Start",
        "notice_title": "Before you start",
        "notice_points": "This questionnaire asks how you have been feeling. It is not a "
        "test and does not count towards any grade.|Only the school counsellor sees your "
        "answers. They are never shown to classmates or used to rank students.|If your "
        "answers show you may need support, the counsellor will talk with you and, where "
        "needed, contact your parents.|You may skip any question. You can close the page "
        "half-way and continue later with the same access code.",
        "notice_agree": "I understand, start",
        "notice_decline": "I do not want to answer now",
        "declined_title": "That is all right",
        "declined_text": "You can come back later with the same access code, or talk to your "
        "head teacher or the school counsellor.",
        "progress": "Part {0} of {1}",
        "progress_label": "Progress",
        "answered_of": "{0} of {1} questions answered in this part",
        "unanswered_ok": "You may leave out any question you do not want to answer. Your "
        "answers are saved as you choose them or when you press Next.",
        "autosaved": "Saved",
        "autosave_failed": "This answer could not be saved just now; it will be saved when you "
        "press Next.",
        "critical_ask": "This question matters to us. If you are willing, choose the answer that "
        "fits you best; if you would rather not answer, just press Next.",
        "next": "Next",
        "previous": "Previous",
        "save_exit": "Save and continue later",
        "saved_title": "Saved",
        "saved_text": "Your answers are saved. Open your access link again (or enter your "
        "access code) to continue.",
        "resume": "Continue",
        "language_notice": "Note",
        "review_title": "Check your answers",
        "review_intro": "You can change any part before you submit. After submitting you "
        "cannot change your answers.",
        "review_part": "Part {0}",
        "review_answered": "{0} of {1} answered",
        "review_missing": "Not answered:",
        "review_edit": "Change this part",
        "no_answer": "(not answered)",
        "review_part_empty": "You have not answered any question in this part. You can go back "
        "with “Change” to answer it, or submit without it.",
        "submit": "Submit",
        "thanks_title": "Thank you!",
        "thanks_text": "Your answers have been received. Thank you.",
        "thanks_next": "If you feel upset or need help now, contact one of the lines below or "
        "your school counsellor at any time.",
        "urgent_title": "Please go to an adult you trust now",
        "urgent_text": "Thank you for telling us how you feel right now. Please go to a "
        "teacher, your head teacher or a parent now and stay with them. The school "
        "counsellor is being told now and will come to you.",
        "urgent_call": "If you feel you may be in danger right now, call 110 or 120 at once, "
        "or the 12356 psychological assistance hotline.",
        "support_title": "You are not alone: you can talk to someone at any time",
        "support_text": "Thank you for telling us how you feel. The school counsellor will "
        "come and talk with you. If you want to talk to someone now, you do not have to wait: "
        "call one of the numbers below, go to the school counselling room (the green channel), "
        "or tell a teacher or parent you trust.",
        "guardian_audience": "This questionnaire is for the parent or guardian, about your child.",
        "guardian_help_intro": "If you are worried about your child's safety, or your child "
        "feels upset, scared or has thoughts of self-harm, you can contact at any time:",
        "guardian_notice_title": "Parent or guardian: before you start",
        "guardian_notice_points": "This questionnaire is for the parent or guardian, about your "
        "child. Answer from what you have noticed about your child recently; please do not let "
        "your child answer it.|Only the school counsellor sees your answers. They are used to "
        "see whether your child needs support, never for grades or to rank students.|If your "
        "answers show your child may need support, the school counsellor will contact you.|You "
        "may skip any question. You can close the page half-way and continue later with the "
        "same access code.",
        "guardian_notice_agree": "I understand, start",
        "guardian_notice_decline": "I do not want to answer now",
        "guardian_declined_text": "You can come back later with the same guardian access code, "
        "or contact your child's head teacher or the school counsellor.",
        "guardian_saved_text": "Your answers are saved. Open the guardian access link again (or "
        "enter the access code) to continue.",
        "guardian_review_title": "Check your answers",
        "guardian_review_intro": "You can change any part before you submit. After submitting "
        "you cannot change your answers.",
        "guardian_thanks_title": "Thank you!",
        "guardian_thanks_text": "Your answers about your child have been received. Thank you.",
        "guardian_thanks_next": "If you are worried about your child's safety now or your child "
        "needs help, contact one of the lines below or the school counsellor at any time.",
        "login_title": "Staff sign-in",
        "username": "Username",
        "password": "Password",
        "login": "Sign in",
        "login_failed": "Wrong username or password.",
        "login_cookie": "Signing in needs cookies. Reload the page and try again.",
        "logout": "Sign out",
        "logout_title": "Sign out",
        "logout_confirm": "Sign out now?",
        "logged_in_as": "Signed in as",
        "session_expired": "Your session has ended. Please sign in again.",
        "csrf_failed": "This form has expired. Go back, reload the page and try again.",
        "no_page_for_role": "There is no page for your role yet.",
        "nav": "Main navigation",
        "nav_queue": "Queue",
        "nav_school": "School overview",
        "nav_class": "My classes",
        "nav_district": "District overview",
        # staff: on-call rota (issue 11)
        "nav_on_call": "On call",
        "on_call_title": "On-call rota outside school hours",
        "on_call_intro": "Red and orange suicide-pathway cases do not wait for school hours: when "
        "one is opened or escalated at night, at a weekend or on a holiday (make-up school days "
        "excepted), the people on call below are told as well as the usual recipients. The "
        "message holds only the tier, school, class, deadline and a link: never the student's "
        "name, answers or scores.",
        "on_call_members": "Who is on call",
        "on_call_default_applies": "No rota is set: the default rota applies.",
        "on_call_nobody": "The rota names no active staff member on an available channel; "
        "please check it.",
        "on_call_who": "Who",
        "on_call_role": "Role",
        "on_call_channel": "Channel",
        "on_call_channel_default": "Their SMS channel (else their first channel)",
        "on_call_channels": "Channels configured for this school",
        "on_call_hours": "Hours",
        "on_call_outside": "All hours outside school",
        "on_call_edit": "Edit the rota",
        "on_call_form_hint": "One person (or one role) per row. Tick “all hours outside school”, "
        "or give weekly hours (an end before the start runs overnight, e.g. 18:00 to 08:00). "
        "Nobody on call is paged during school hours. Leave every row's “who” empty and save to "
        "restore the default rota.",
        "on_call_entry": "Row {0}",
        "on_call_by_role": "By role",
        "on_call_by_person": "A person",
        "on_call_window": "Weekly hours",
        "on_call_from": "From",
        "on_call_to": "to",
        "day_mon": "Mon",
        "day_tue": "Tue",
        "day_wed": "Wed",
        "day_thu": "Thu",
        "day_fri": "Fri",
        "day_sat": "Sat",
        "day_sun": "Sun",
        "queue_title": "Case queue",
        "queue_intro": "Open cases of your school, by deadline, then higher tier first. The "
        "list is never sorted by score.",
        "queue_intro_district": "Open cases of your district, by deadline, then higher tier first.",
        "filters": "Filters",
        "filter_class": "Class",
        "filter_tier": "Tier",
        "filter_state": "State",
        "filter_all": "All",
        "apply": "Filter",
        "clear_filters": "Clear",
        "col_student": "Student",
        "col_class": "Class",
        "col_tier": "Tier",
        "col_state": "State",
        "col_deadline": "Deadline",
        "col_next": "Next step",
        "col_time_left": "Time left",
        "col_opened": "Opened",
        "col_school": "School",
        "col_level": "Escalation level",
        "queue_empty": "No cases match.",
        "overdue": "Overdue",
        "overdue_by": "Overdue by {0}",
        "time_left": "{0} left",
        "open_case": "Open",
        "count_cases": "{0} cases",
        "file_title": "Student file",
        "case_title": "Case",
        "student_number": "Student number",
        "school": "School",
        "grade_class": "Grade and class",
        "grade_n": "Grade {0}",
        "case_summary": "Case summary",
        "tier": "Tier",
        "state": "State",
        "acknowledge_by": "Acknowledge by",
        "acknowledged_at": "Acknowledged",
        "opened_at": "Opened",
        "escalation_level": "Escalation level",
        "reasons": "Reasons for the tier",
        "reasons_hidden": "Only counsellors see the reasons.",
        "actions": "Actions",
        "acknowledge": "Acknowledge",
        "acknowledge_note": "Note (optional)",
        "state_actions": "Move the case on",
        "action_note": "Note (optional)",
        "close_case": "Close the case",
        "close_reason": "Reason for closing (at least 10 characters)",
        "add_record": "Record a talk or note",
        "record_kind": "Kind",
        "record_summary": "Summary",
        "record_at": "When (optional)",
        "save": "Save",
        "refer_title": "Refer to a partner hospital",
        "hospital": "Hospital",
        "refer_note": "Note (optional)",
        "refer": "Refer",
        "referrals": "Referrals",
        "referral_stage": "Stage",
        "advance_referral": "Update stage",
        "feedback": "Hospital feedback",
        "tasks": "Tasks",
        "task": "Task",
        "due": "Due",
        "assignee": "Assigned to",
        "task_done": "Done",
        "task_note": "What was done (optional)",
        "complete_task": "Mark done",
        "no_tasks": "No tasks.",
        "later_tasks": "Later tasks ({0})",
        "upcoming": "Open tasks",
        "events": "Case history",
        "care_group": "Care group",
        "no_members": "No care group members yet.",
        "plan": "Crisis plan",
        "no_plan": "No plan yet.",
        "edit_plan": "Edit the plan",
        "plan_version": "Version {0}",
        "review_on": "Review on",
        "warning_signs": "Warning signs",
        "coping_steps": "Coping steps",
        "means_safety": "Means safety",
        "plan_contacts": "Contacts",
        "one_per_line": "One per line",
        "contacts_format": "One per line: name, relation, phone",
        "plan_saved": "The plan is saved.",
        "timeline": "Timeline",
        "no_entries": "Nothing recorded yet.",
        "results": "Screening results",
        "scores_hidden": "Only counsellors see screening results.",
        "instrument": "Instrument",
        "result_languages": "Language of each result",
        "given_in": "Language: {0} ({1})",
        "parent_reported": "answered by the parent or guardian",
        "given_in_unknown": "Language: not recorded",
        "total": "Total",
        "norm_score": "Norms ({0}): T {1}, percentile rank {2}",
        "norm_clamped": " (outside the norm sample's range)",
        "band": "Band",
        "flags": "Flags",
        "open_cases": "Current case",
        "view_file": "Student file",
        "done_ok": "Saved.",
        "class_title": "My classes",
        "completion": "Completion",
        "completion_intro": "Students who have not finished this screening. Only whether "
        "they finished is shown, never answers or results.",
        "not_started": "Not started",
        "in_progress": "In progress",
        "submitted": "Finished",
        "consent_refused": "Guardian declined",
        "all_done": "Every student has finished.",
        "of_class_done": "{0} of {1} finished",
        "under_care": "Students who need attention",
        "under_care_intro": "These students are in the school's care. Only what is asked of "
        "you is listed; answers and results are seen by the counsellor only.",
        "none_under_care": "No student of your classes needs follow-up from you now.",
        "asked_of_you": "Asked of you",
        "nothing_asked": "Nothing is asked of you right now.",
        "record_talk": "Record a talk",
        "observation_title": "Report what you observed",
        "observation_intro": "If you notice a change in a student's mood or behaviour, report "
        "it here. The counsellor is notified. If a student is in immediate danger, keep them "
        "safe and phone the counsellor first.",
        "obs_student": "Student",
        "obs_kind": "What you observed",
        "obs_severity": "Urgency",
        "obs_note": "Description",
        "obs_when": "When (optional)",
        "obs_submit": "Send report",
        "obs_done": "Report sent; the counsellor will follow up.",
        "obs_done_case": "Report sent; the counsellor has been notified.",
        "choose": "Choose",
        "school_title": "School overview",
        "district_title": "District overview",
        "campaign": "Campaign",
        "no_campaign": "No screening campaign is running.",
        "coverage": "Coverage",
        "coverage_by_class": "Coverage by class",
        "coverage_by_school": "Coverage by school",
        "funnel": "Participation",
        "invited": "Invited",
        "consented": "May take part (consented)",
        "refused": "Declined",
        "started": "Started",
        "submitted_n": "Submitted",
        "rate": "Coverage",
        "tier_counts": "Screening results by tier",
        "tier_counts_intro": "Cells under {0} students are not shown as numbers, nor is another "
        "cell of the same row, so that the total cannot give them away (all shown as “hidden”); "
        "this protects students' privacy.",
        "suppressed": "hidden",
        "overdue_tasks": "Overdue tasks",
        "no_overdue": "No overdue tasks.",
        "overdue_count": "Overdue tasks",
        "open_case_count": "Open cases",
        "staffing": "Staffing checks",
        "check": "Check",
        "result": "Result",
        "ok": "OK",
        "needs_action": "Needs action",
        "staff_counsellors": "Counsellors ({0} full-time, {1} part-time)",
        "staff_leads": "School leads: {0}",
        "staff_classes_without_head": "Classes without a head teacher: {0}",
        "staff_room": "Counselling room hours and place are set",
        "staff_cases_per_counsellor": "Open cases per counsellor: {0}",
        "escalations": "Cases escalated to the district",
        "no_escalations": "No escalated cases.",
        "incidents": "Incident reviews",
        "no_incidents": "No incidents to review.",
        "review_due": "Review due",
        "filed": "Review filed",
        "not_filed": "Not filed",
        "exports": "Exports",
        "export_coverage_csv": "Coverage (CSV)",
        "export_coverage_xlsx": "Coverage (Excel)",
        "export_tasks_csv": "Task list (CSV)",
        "export_tasks_xlsx": "Task list (Excel)",
        "chart_note": "The numbers in the charts are also in the tables below.",
        "yes": "Yes",
        "no": "No",
        # form input checks (issue 19: hostile input is a 400)
        "form_field_control": "The field “{field}” contains control characters that are not "
        "allowed (such as a NUL or a text-direction override); remove them and submit again.",
        "form_field_too_long": "The field “{field}” is too long: at most {limit} characters.",
        "form_field_bad_name": "A field of the form has a name that is not valid (“{field}”); "
        "submit it again from the page.",
    },
}

# --- issue 19: sign-in throttling (accounts) ------------------------------------------------
TEXT["zh-CN"].update({"login_throttled": "登录失败次数过多，请 {} 分钟后再试。"})
TEXT["en"].update({"login_throttled": "Too many failed sign-ins. Try again in {} minutes."})

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    # (zh-CN, en); tiers are urgency levels, never a diagnosis.
    "tier": {
        "red": ("一级 · 危机", "Tier 1 · crisis"),
        "orange": ("二级 · 高度关注", "Tier 2 · high"),
        "yellow": ("三级 · 需要关注", "Tier 3 · needs attention"),
        "green": ("无需跟进", "No follow-up"),
    },
    "state": {
        "open": ("待确认", "Open"),
        "acknowledged": ("已确认", "Acknowledged"),
        "assessing": ("评估中", "Assessing"),
        "intervening": ("干预中", "Intervening"),
        "monitoring": ("跟踪观察", "Monitoring"),
        "referred": ("已转介", "Referred"),
        "closed": ("已结案", "Closed"),
    },
    "action": {
        "acknowledge": ("确认接案", "Acknowledge"),
        "start_assessment": ("开始评估", "Start assessment"),
        "start_intervention": ("开始干预", "Start intervention"),
        "start_monitoring": ("转为跟踪观察", "Start monitoring"),
        "refer": ("标记为已转介", "Mark as referred"),
        "referral_returned": ("医院已反馈，回到学校跟踪", "Back from hospital: monitor"),
        "close": ("结案", "Close"),
        "reopen": ("重新开案", "Reopen"),
    },
    "task": {
        "acknowledge": ("确认接案", "Acknowledge the case"),
        "safety_assessment": ("安全评估", "Safety assessment"),
        "guardian_contact": ("联系监护人", "Contact the guardian"),
        "counsellor_assessment": ("心理老师评估", "Counsellor assessment"),
        "counsellor_interview": ("心理老师面谈", "Counsellor interview"),
        "rescreen": ("下学期复筛", "Re-screen next term"),
        "home_visit": ("家访", "Home visit"),
        "plan_review": ("复核危机干预方案", "Review the crisis plan"),
        "talk_start_of_term": ("开学谈心谈话", "Talk at the start of term"),
        "talk_before_midterm": ("期中考试前谈话", "Talk before the midterm exams"),
        "talk_after_midterm": ("期中考试后谈话", "Talk after the midterm exams"),
        "talk_before_final": ("期末考试前谈话", "Talk before the final exams"),
        "talk_after_final": ("期末考试后谈话", "Talk after the final exams"),
        "one_to_one_talk": ("一对一谈话", "One-to-one talk"),
        "referral_accepted": ("确认医院已接收转介", "Confirm the hospital accepted"),
        "referral_seen": ("确认学生已就诊", "Confirm the student was seen"),
        "referral_feedback": ("获取医院反馈", "Get the hospital's feedback"),
    },
    "record": {
        "talk": ("谈话", "Talk"),
        "home_visit": ("家访", "Home visit"),
        "guardian_contact": ("联系监护人", "Guardian contact"),
        "assessment": ("评估", "Assessment"),
        "note": ("备注", "Note"),
    },
    "role": {
        "counsellor": ("心理老师", "Counsellor"),
        "head_teacher": ("班主任", "Head teacher"),
        "teacher": ("任课老师", "Teacher"),
        "guardian": ("监护人", "Guardian"),
        "peer_supporter": ("心理委员", "Peer supporter"),
        "school_lead": ("分管校领导", "School lead"),
        "school_admin": ("学校管理员", "School admin"),
        "district_officer": ("区教育局", "District officer"),
        "auditor": ("审计员", "Auditor"),
    },
    "severity": {
        "concern": ("值得留意", "A concern"),
        "serious": ("比较严重", "Serious"),
        "imminent_danger": ("紧迫危险", "Imminent danger"),
    },
    "obs_kind": {
        "mood_change": ("情绪明显低落或变化大", "Marked low mood or mood change"),
        "withdrawal": ("回避同学、不愿交流", "Withdrawing from others"),
        "self_harm_signs": ("自伤迹象", "Signs of self-harm"),
        "talk_of_death": ("谈论死亡或不想活", "Talks of death or not wanting to live"),
        "bullying": ("被欺凌或人际冲突", "Bullying or conflict"),
        "attendance": ("缺勤或成绩骤降", "Absences or a sudden drop in schoolwork"),
        "family_event": ("家庭重大变故", "A major family event"),
        "other": ("其他", "Other"),
    },
    "entry": {
        "screening": ("筛查", "Screening"),
        "triage": ("定级", "Tier"),
        "observation": ("观察报告", "Observation"),
        "case": ("个案", "Case"),
        "case_event": ("个案记录", "Case event"),
        "task": ("任务", "Task"),
        "care_record": ("关爱记录", "Care record"),
        "plan": ("危机干预方案", "Crisis plan"),
        "referral": ("转介", "Referral"),
    },
    "event": {
        "opened": ("开案", "Opened"),
        "tier_raised": ("等级上调", "Tier raised"),
        "pathway_raised": ("转入自杀风险路径", "Moved to the suicide-risk pathway"),
        "rescreened": ("再次筛查", "Screened again"),
        "acknowledged": ("已确认接案", "Acknowledged"),
        "escalated": ("已升级", "Escalated"),
        "tier_decision": ("调整等级", "Tier decision"),
        "transferred": ("转学", "Transferred"),
        "plan.saved": ("保存方案", "Plan saved"),
        "task.done": ("完成任务", "Task done"),
        "care_group.added": ("加入关爱小组", "Care group: added"),
        "care_group.removed": ("移出关爱小组", "Care group: removed"),
        "referral.sent": ("已转介", "Referred"),
        "referral.accepted": ("医院已接收", "Hospital accepted"),
        "referral.seen": ("已就诊", "Seen at hospital"),
        "referral.feedback": ("医院已反馈", "Hospital feedback"),
        "record.talk": ("谈话", "Talk"),
        "record.home_visit": ("家访", "Home visit"),
        "record.guardian_contact": ("联系监护人", "Guardian contact"),
        "record.assessment": ("评估", "Assessment"),
        "record.note": ("备注", "Note"),
    },
    "stage": {
        "sent": ("已发出", "Sent"),
        "accepted": ("医院已接收", "Accepted"),
        "seen": ("已就诊", "Seen"),
        "feedback": ("已反馈", "Feedback received"),
    },
    "task_status": {
        "open": ("未完成", "Open"),
        "done": ("已完成", "Done"),
        "cancelled": ("已取消", "Cancelled"),
    },
    "language": {
        "zh-CN": ("中文", "Chinese"),
        "en": ("英文", "English"),
    },
    "language_status": {
        "validated": ("已验证", "validated"),
        "unvalidated": ("未验证", "not validated"),
    },
    "session": {
        "none": ("未开始", "Not started"),
        "started": ("进行中", "In progress"),
        "submitted": ("已完成", "Finished"),
        "refused": ("监护人未同意", "Guardian declined"),
    },
}


def language(requested: str | None) -> str:
    """``en`` when asked for, otherwise the default ``zh-CN``."""
    return "en" if requested == "en" else "zh-CN"


_SHIPPED_POLICY = re.compile(r"default-(\d{4}\.\d+)")


def label(group: str, key: str | None, lang: str) -> str:
    """The display text of a code (a tier, state, task kind …); the code itself if unknown."""
    if key is None:
        return ""
    if group == "event" and key.startswith("state."):
        pair = LABELS["action"].get(key.removeprefix("state."))
    elif group == "policy" and (shipped := _SHIPPED_POLICY.fullmatch(key)):
        # The shipped policies, ``default-2026.1``: "默认分级策略（2026.1 版）". A district's own
        # policy keeps the name the district gave it.
        pair = (
            "默认分级策略（{} 版）".format(*shipped.groups()),
            "Default policy ({})".format(*shipped.groups()),
        )
    else:
        pair = LABELS.get(group, {}).get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh-CN" else pair[1]


# --- issue 19: field views per role, the district's de-identified view, break-glass (A2) ---
TEXT["zh-CN"].update(
    {
        "case_ref": "个案 {}",
        "deidentified_note": "区教育局视图不显示学生身份（姓名、学号、班级）、"
        "作答、分数和定级原因。需要联系学生时请先联系学校；确有必要时可使用紧急查看。",
        "district_summary_title": "各校未结案个案",
        "col_open": "未结案",
        "col_overdue_ack": "超时未确认",
        "col_reviews_pending": "待复盘事件",
        "notified_title": "已通知",
        "col_recipient": "接收人",
        "col_channel": "渠道",
        "col_delivery": "送达",
        "contacts_title": "学校联系人",
        "col_phone": "电话",
        "break_glass_title": "紧急查看学生身份",
        "break_glass_intro": "仅在必须直接了解或联系该学生时使用。查看在 {} 分钟后失效，"
        "记入审计日志，并通知学校负责人和心理老师。",
        "break_glass_reason": "原因（至少 15 个字）",
        "break_glass_submit": "紧急查看",
        "break_glass_active": "紧急查看有效至 {}。期间的每次查看都记入审计日志。",
        "break_glass_error": "请写明原因，至少 15 个字。",
    }
)
TEXT["en"].update(
    {
        "case_ref": "Case {}",
        "deidentified_note": "The district view shows no student identity (name, student "
        "number, class), answers, scores or triage reasons. Call the school first; where you "
        "must, open the student under break-glass.",
        "district_summary_title": "Open cases per school",
        "col_open": "Open",
        "col_overdue_ack": "Unacknowledged past deadline",
        "col_reviews_pending": "Incident reviews pending",
        "notified_title": "Notified",
        "col_recipient": "Recipient",
        "col_channel": "Channel",
        "col_delivery": "Delivery",
        "contacts_title": "Whom to call at the school",
        "col_phone": "Phone",
        "break_glass_title": "Break-glass: see the student",
        "break_glass_intro": "Only where you must know or reach this student yourself. The read "
        "ends after {} minutes, is audited, and the school lead and counsellors are told.",
        "break_glass_reason": "Reason (at least 15 characters)",
        "break_glass_submit": "Open under break-glass",
        "break_glass_active": "Break-glass read until {}. Every read meanwhile is audited.",
        "break_glass_error": "State the reason in at least 15 characters.",
    }
)
LABELS["event"]["break_glass"] = ("区教育局紧急查看", "District break-glass read")

# --- issue 19: data rights — export of everything held about a student (F) -------------------
TEXT["zh-CN"].update(
    {
        "export_title": "学生个人信息副本",
        "export_intro": "本页列出系统中保存的关于这名学生的全部信息，供学生本人及其监护人查阅、复制"
        "（《个人信息保护法》第四十五条）。登录码和会话凭证的摘要不予显示。本次查阅已记入访问日志。",
        "export_generated": "生成时间",
        "export_student": "学生",
        "export_empty": "无记录",
        "export_print": "打印",
        "export_rows": "{0} 条",
        "export_link": "个人信息副本",
    }
)
TEXT["en"].update(
    {
        "export_title": "Copy of a student's personal information",
        "export_intro": "Everything this system holds about the student, for the student and "
        "their guardians to view and copy (PIPL Art. 45). Digests of access codes and session "
        "tokens are withheld. This view is recorded in the access log.",
        "export_generated": "Generated",
        "export_student": "Student",
        "export_empty": "No records",
        "export_print": "Print",
        "export_rows": "{0} rows",
        "export_link": "Copy of personal information",
    }
)
LABELS["export_table"] = {
    "guardians": ("监护人", "Guardians"),
    "consents": ("知情同意（当前）", "Consent (current)"),
    "consent_events": ("知情同意记录", "Consent history"),
    "access_codes": ("登录码", "Access codes"),
    "screening_sessions": ("测评会话", "Screening sessions"),
    "idempotency_records": ("提交回执", "Submission receipts"),
    "responses": ("作答", "Responses and answers"),
    "scores": ("计分结果", "Scores"),
    "triage_results": ("分级记录", "Triage records"),
    "cases": ("个案", "Cases"),
    "case_tasks": ("个案任务", "Case tasks"),
    "case_events": ("个案记录", "Case events"),
    "care_group_members": ("关爱小组", "Care group"),
    "crisis_plans": ("一生一策", "Plans"),
    "observations": ("观察报告", "Observations"),
    "referrals": ("转介", "Referrals"),
    "care_records": ("辅导与家访记录", "Care records"),
    "incidents": ("事件", "Incidents"),
    "outbox": ("通知（发件）", "Notifications (outbox)"),
    "delivery_attempts": ("通知投递记录", "Delivery attempts"),
    "operator_alerts": ("运维告警", "Operator alerts"),
    "inbox_items": ("站内通知", "In-app notifications"),
    "audit_log": ("访问日志", "Access log"),
}

# --- issue 19: the audit log for the auditor (C) ---
TEXT["zh-CN"].update(
    {
        "nav_audit": "审计日志",
        "audit_title": "审计日志",
        "audit_intro": "本区所有对学生信息的查看和修改、导出、登录、"
        "被拒绝的访问以及设置变更都有记录，记录只能追加，不能修改或删除。这里只显示编号，不显示学生信息。",
        "audit_from": "开始日期",
        "audit_to": "结束日期（含）",
        "audit_actor": "操作人（用户名）",
        "audit_action": "操作",
        "audit_action_hint": "例如 access.denied；以 * 结尾表示前缀，如 export.*",
        "audit_school": "学校代码",
        "audit_subject": "对象编号",
        "audit_apply": "筛选",
        "audit_export": "导出当前筛选结果",
        "audit_caption": "审计记录（最新的在前）",
        "audit_col_at": "时间",
        "audit_col_actor": "操作人",
        "audit_col_action": "操作",
        "audit_col_subject": "对象",
        "audit_col_detail": "详情",
        "audit_col_seq": "链序号",
        "audit_unsealed": "待封存",
        "audit_more": "等共多 {0} 个",
        "audit_older": "更早的记录",
        "audit_none": "没有符合条件的记录。",
    }
)
TEXT["en"].update(
    {
        "nav_audit": "Audit log",
        "audit_title": "Audit log",
        "audit_intro": "Every view and change of student data in the district, every export, "
        "sign-in, refused access and settings change is recorded here; rows can only be added, "
        "never changed or deleted. Only ids are shown, never a student's information.",
        "audit_from": "From (date)",
        "audit_to": "To (date, inclusive)",
        "audit_actor": "Who (username)",
        "audit_action": "Action",
        "audit_action_hint": "e.g. access.denied; end with * for a prefix, e.g. export.*",
        "audit_school": "School code",
        "audit_subject": "Subject id",
        "audit_apply": "Filter",
        "audit_export": "Export these results",
        "audit_caption": "Audit rows (newest first)",
        "audit_col_at": "Time",
        "audit_col_actor": "Who",
        "audit_col_action": "Action",
        "audit_col_subject": "Subject",
        "audit_col_detail": "Detail",
        "audit_col_seq": "Chain no.",
        "audit_unsealed": "not sealed yet",
        "audit_more": "and {0} more",
        "audit_older": "Older rows",
        "audit_none": "No rows match.",
    }
)

# --- issue 13: score bands and critical-answer flags in the reader's language ----------------
# Every band and flag code of the shipped instruments (a test checks none is missing); the
# wording follows the instruments' manuals (severity bands) and never names a diagnosis.
LABELS["band"] = {
    "minimal": ("无或极轻", "minimal"),
    "mild": ("轻度", "mild"),
    "moderate": ("中度", "moderate"),
    "moderately_severe": ("中重度", "moderately severe"),
    "severe": ("重度", "severe"),
    "negative": ("阴性（未筛出）", "negative"),
    "positive": ("阳性（筛出）", "positive"),
    "non_acute_positive": ("阳性（非急性）", "positive (non-acute)"),
    "acute_positive": ("阳性（急性风险）", "positive (acute)"),
    "below_cutoff": ("低于临界值", "below the cut-off"),
    "adequate": ("幸福感良好", "adequate well-being"),
    "poor_wellbeing": ("幸福感较差", "poor well-being"),
    "likely_depression": ("提示可能存在抑郁，需评估", "depression likely: assess"),
    "low": ("低", "low"),
    "high": ("高", "high"),
    "very_high": ("很高", "very high"),
    "serious_distress": ("严重心理困扰", "serious distress"),
}
LABELS["flag"] = {
    "asq_acute": ("ASQ 急性风险（第 5 题回答“是”）", "ASQ acute risk (question 5 yes)"),
    "asq_positive": ("ASQ 筛查阳性", "ASQ positive screen"),
    "asq_unanswered": ("ASQ 自杀风险题未作答", "ASQ suicide-risk question left blank"),
    "phq_item9_positive": (
        "PHQ 第 9 题（轻生或自伤念头）高于 0",
        "PHQ item 9 (thoughts of death or self-harm) above 0",
    ),
    "phq_item9_unanswered": ("PHQ 第 9 题未作答", "PHQ item 9 left blank"),
    "phqa_lifetime_attempt": ("曾有自杀未遂", "past suicide attempt"),
    "phqa_lifetime_attempt_unanswered": (
        "“是否曾尝试自杀”一题未作答",
        "the past-attempt question left blank",
    ),
    "phqa_past_month_thoughts": (
        "过去一个月有严重的轻生念头",
        "serious thoughts of ending life in the past month",
    ),
    "phqa_past_month_thoughts_unanswered": (
        "“过去一个月轻生念头”一题未作答",
        "the past-month thoughts question left blank",
    ),
}

# --- issue 13: the tier decision on the case page ---------------------------------------------
TEXT["zh-CN"].update(
    {
        "tier_decision": "调整风险等级",
        "tier_decision_to": "调整为",
        "tier_decision_reason": "理由（必填）",
        "tier_decision_hint": "调低等级只能由心理老师决定，并须写明理由；调整会记录在个案历史中。",
    }
)
TEXT["en"].update(
    {
        "tier_decision": "Change the tier",
        "tier_decision_to": "Change to",
        "tier_decision_reason": "Reason (required)",
        "tier_decision_hint": "Only a counsellor may lower the tier, with a reason; every change "
        "is kept in the case history.",
    }
)

# --- issue 13: search the queue by name -------------------------------------------------------
TEXT["zh-CN"]["filter_name"] = "学生姓名"
TEXT["en"]["filter_name"] = "Student name"

# --- issue 13: a campaign selector on the school dashboard ----------------------------------
TEXT["zh-CN"]["show_campaign"] = "查看"
TEXT["en"]["show_campaign"] = "Show"


# --- issue 13: the administration index -----------------------------------------------------
TEXT["zh-CN"].update(
    {
        "nav_admin": "学校管理",
        "admin_title": "学校管理",
        "admin_intro": "学校上线需要的设置：按从上到下的顺序完成即可开始筛查。",
        "admin_schools": "学校",
        "admin_schools_intro": "本区的学校：新增学校，查看每所学校的班级和账号。",
        "admin_staff": "教职工账号",
        "admin_staff_intro": "新增账号、重置密码（生成一次性密码）、停用或启用账号。",
        "admin_classes": "班级",
        "admin_classes_intro": "班级及其班主任和心理委员。",
        "admin_roster": "学生名册",
        "admin_roster_intro": "上传名册（先预览再导入），可整体替换，也可只新增和更新。",
        "admin_calendar": "校历",
        "admin_calendar_intro": "学期和假期：期限按在校时间计算，假期提醒值班人员。",
        "admin_routes": "通知渠道",
        "admin_routes_intro": "预警发往哪里：企业微信、钉钉、邮件或短信。",
        "admin_on_call_intro": "非在校时间谁接收自杀风险个案的提醒。",
        "admin_campaigns": "筛查活动",
        "admin_campaigns_intro": "新建筛查、打印登录条、登记知情同意、提醒未完成的班级。",
    }
)
TEXT["en"].update(
    {
        "nav_admin": "Administration",
        "admin_title": "Administration",
        "admin_intro": "What a school needs before it goes live: work down the list, then "
        "start screening.",
        "admin_schools": "Schools",
        "admin_schools_intro": "The district's schools: add a school, see its classes and "
        "accounts.",
        "admin_staff": "Staff accounts",
        "admin_staff_intro": "Add accounts, reset a password (a one-time password), disable or "
        "enable an account.",
        "admin_classes": "Classes",
        "admin_classes_intro": "Classes with their head teachers and committee members.",
        "admin_roster": "Student roster",
        "admin_roster_intro": "Upload the roster (preview first, then import): replace it "
        "whole, or only add and update.",
        "admin_calendar": "School calendar",
        "admin_calendar_intro": "Terms and holidays: deadlines count school time; in a holiday "
        "the on-call staff are paged.",
        "admin_routes": "Notification channels",
        "admin_routes_intro": "Where alerts go: WeCom, DingTalk, e-mail or SMS.",
        "admin_on_call_intro": "Who is paged about a suicide-pathway case outside school hours.",
        "admin_campaigns": "Screening campaigns",
        "admin_campaigns_intro": "Start a screening, print sign-in slips, record consent, "
        "remind classes that have not finished.",
    }
)


# --- issue 13: what an audit row is about -----------------------------------------------------
LABELS["subject"] = {
    "audit": ("审计日志", "Audit log"),
    "campaign": ("筛查活动", "Campaign"),
    "case": ("个案", "Case"),
    "class": ("班级", "Class"),
    "retention_run": ("到期数据清理", "Retention run"),
    "route": ("通知渠道", "Notification channel"),
    "school": ("学校", "School"),
    "staff_user": ("教职工账号", "Staff account"),
    "student": ("学生", "Student"),
}


# --- issue 13: the feature slices' own text modules -------------------------------------------
def _merge_slice_texts() -> None:
    """Merge ``pages.texts.*`` into ``TEXT`` and ``LABELS``; a key defined twice is an error."""
    from survey_service.pages.texts import (
        accounts_admin,
        annual_report,
        campaign_admin,
        campaign_detail,
        case_care,
        directory_admin,
        file_print,
        lists,
        school_admin,
    )

    for module in (
        lists,
        accounts_admin,
        directory_admin,
        campaign_admin,
        campaign_detail,
        school_admin,
        case_care,
        file_print,  # issue 15: the student's file as PDF
        annual_report,  # issue 15: the annual report of a school or district
    ):
        for lang in LANGUAGES:
            twice = set(module.TEXT[lang]) & set(TEXT[lang])
            if twice:
                raise ValueError(f"{module.__name__}: text keys defined twice: {sorted(twice)}")
            TEXT[lang].update(module.TEXT[lang])
        for group, labels in module.LABELS.items():
            twice = set(labels) & set(LABELS.get(group, {}))
            if twice:
                raise ValueError(f"{module.__name__}: {group} labels twice: {sorted(twice)}")
            LABELS.setdefault(group, {}).update(labels)


_merge_slice_texts()
