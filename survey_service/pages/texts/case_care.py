"""Page text: case_care (issue 13) — the care group, referrals, incidents and transfer on the
case page. Merged into survey_service.pages.i18n."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        # the care group
        "cc_member": "成员",
        "cc_member_role": "身份",
        "cc_remove": "移出",
        # name, role
        "cc_remove_confirm": "确定把{0}（{1}）移出关爱小组吗？移出后记入个案记录。",
        "cc_remove_yes": "确认移出",
        "cc_group_rules": "关爱小组一般包括心理老师、班主任、相关任课老师和至少一位监护人联系人，"
        "可以有一位心理委员。只能有一位班主任；最后一位心理老师或监护人不能移出，"
        "请先加入接替的人。",
        "cc_add_member": "加入成员",
        "cc_add_staff": "加入本校教职工",
        "cc_staff_person": "教职工",
        "cc_care_role": "在关爱小组中的身份",
        "cc_add_guardian": "加入监护人联系人",
        "cc_guardian_person": "监护人",
        "cc_no_guardians": "学生名单中没有这名学生的监护人，请先在名单中补充。",
        "cc_add_peer": "加入心理委员",
        "cc_peer_person": "同班心理委员",
        "cc_add": "加入",
        # referrals
        "cc_referral_updated": "更新日期",
        "cc_referral_next": "下一步",
        # stage label
        "cc_referral_record": "记录：{0}",
        "cc_referral_feedback": "医院的反馈（必填）",
        "cc_referral_done": "转介已完成（医院已反馈）。",
        "cc_no_referrals": "还没有转介。",
        # incidents
        "cc_incidents": "极端事件与复盘",
        "cc_incidents_intro": "涉及学生心理健康的极端事件要在登记后 14 天内提交复盘报告，"
        "报告至少 3000 字；逾期未提交会上报区教育局。",
        "cc_no_incidents": "这名学生没有登记过极端事件。",
        "cc_incident_kind": "事件类型",
        "cc_incident_occurred": "发生时间",
        "cc_incident_recorded": "登记时间",
        "cc_incident_description": "经过",
        "cc_incident_record": "登记极端事件",
        "cc_incident_submit": "登记事件",
        "cc_review_due": "复盘报告截止",
        "cc_report": "复盘报告",
        # filed at, characters
        "cc_report_filed": "已于 {0} 提交（{1} 字）",
        "cc_report_pending": "待提交",
        "cc_report_label": "复盘报告（调查经过、原因分析、处置与改进措施）",
        # min, count (the count is wrapped in a span the counter script updates)
        "cc_report_counter": "至少 {min} 字，已写 {n} 字",
        "cc_report_submit": "提交复盘报告",
        # transfer
        "cc_transfer_title": "转学",
        "cc_transfer_intro": "学生转到本区另一所学校时，学生档案和未结案的个案随学生转过去；"
        "原学校的教职工和同学退出关爱小组，由新学校重新组建，监护人保留。",
        "cc_transfer_school": "转入学校",
        "cc_transfer_next": "下一步：选择班级",
        "cc_transfer_no_school": "本区没有其他学校可以转入。",
        "cc_transfer_from": "现在的学校",
        "cc_transfer_to": "转入学校",
        "cc_transfer_class": "转入班级",
        # school name
        "cc_transfer_confirm": "我已与两所学校核实，确认把这名学生转入{0}。",
        "cc_transfer_submit": "确认转学",
        "cc_transfer_other": "换一所学校",
        "cc_cancel": "取消，回到个案",
        # form errors of services this slice does not own (by the error's code)
        "cc_err_school_not_found": "本区没有这所学校。",
        "cc_err_class_not_in_school": "请选择转入学校的一个班级。",
        "cc_err_class_required": "请选择转入班级。",
        "cc_err_confirm_required": "请勾选确认后再转学。",
        "cc_err_student_number_taken": "转入学校已有一名学生使用相同的学号，"
        "请先与该校核对学号后再转学。",
        "cc_err_invalid_datetime": "请按“年-月-日 时:分”填写发生时间。",
        "cc_err_occurred_required": "请填写事件的发生时间。",
    },
    "en": {
        "cc_member": "Member",
        "cc_member_role": "Role",
        "cc_remove": "Remove",
        "cc_remove_confirm": "Remove {0} ({1}) from the care group? The case history records it.",
        "cc_remove_yes": "Yes, remove",
        "cc_group_rules": "A care group usually has the counsellor, the head teacher, relevant "
        "teachers and at least one guardian contact, and may have one peer supporter. It has "
        "one head teacher; the last counsellor or guardian stays until someone else joins.",
        "cc_add_member": "Add a member",
        "cc_add_staff": "Add a staff member of the school",
        "cc_staff_person": "Staff member",
        "cc_care_role": "Role in the care group",
        "cc_add_guardian": "Add a guardian contact",
        "cc_guardian_person": "Guardian",
        "cc_no_guardians": "The roster has no guardian for this student: add one there first.",
        "cc_add_peer": "Add a peer supporter",
        "cc_peer_person": "Peer supporter of the class",
        "cc_add": "Add",
        "cc_referral_updated": "Updated",
        "cc_referral_next": "Next step",
        "cc_referral_record": "Record: {0}",
        "cc_referral_feedback": "The hospital's feedback (required)",
        "cc_referral_done": "Referral complete (feedback received).",
        "cc_no_referrals": "No referrals yet.",
        "cc_incidents": "Extreme incidents and reviews",
        "cc_incidents_intro": "An extreme incident involving a student's mental health needs a "
        "review report of at least 3,000 characters within 14 days of being recorded; an "
        "overdue review is escalated to the district.",
        "cc_no_incidents": "No extreme incident recorded for this student.",
        "cc_incident_kind": "Kind of incident",
        "cc_incident_occurred": "When it happened",
        "cc_incident_recorded": "Recorded",
        "cc_incident_description": "What happened",
        "cc_incident_record": "Record an extreme incident",
        "cc_incident_submit": "Record the incident",
        "cc_review_due": "Review report due",
        "cc_report": "Review report",
        "cc_report_filed": "Filed {0} ({1} characters)",
        "cc_report_pending": "Not filed yet",
        "cc_report_label": "Review report (what happened, why, what was done and what changes)",
        "cc_report_counter": "At least {min} characters; {n} written",
        "cc_report_submit": "File the review report",
        "cc_transfer_title": "Transfer",
        "cc_transfer_intro": "When the student moves to another school of the district, the "
        "student's file and open cases move too; the former school's staff and classmates leave "
        "the care group (the new school forms its own), guardians stay.",
        "cc_transfer_school": "To school",
        "cc_transfer_next": "Next: choose the class",
        "cc_transfer_no_school": "The district has no other school to move to.",
        "cc_transfer_from": "School now",
        "cc_transfer_to": "To school",
        "cc_transfer_class": "To class",
        "cc_transfer_confirm": "I have checked with both schools: move this student to {0}.",
        "cc_transfer_submit": "Transfer",
        "cc_transfer_other": "Choose another school",
        "cc_cancel": "Cancel, back to the case",
        "cc_err_school_not_found": "No such school in this district.",
        "cc_err_class_not_in_school": "Choose a class of the school moved to.",
        "cc_err_class_required": "Choose the class.",
        "cc_err_confirm_required": "Tick the confirmation to transfer.",
        "cc_err_student_number_taken": "A student of that school already has the same student "
        "number: check it with the school first.",
        "cc_err_invalid_datetime": "Give the time it happened as year-month-day hour:minute.",
        "cc_err_occurred_required": "Give the time the incident happened.",
    },
}
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "incident_kind": {
        "self_harm": ("自伤", "Self-harm"),
        "suicide_attempt": ("自杀未遂", "Suicide attempt"),
        "suicide": ("自杀死亡", "Suicide"),
        "violence": ("暴力伤害", "Violence"),
        "running_away": ("离家或离校出走", "Running away"),
        "other": ("其他", "Other"),
    },
    # What a triage record came from, in the student's file.
    "cc_triage_source": {
        "screening": ("筛查", "Screening"),
        "observation": ("观察报告", "Observation"),
        "saved_answers": ("已保存但未提交的作答", "Saved, unsubmitted answers"),
    },
    # The usual channel names of a school's routes, on the district's case page (a name the
    # school chose itself shows as it is).
    "cc_channel": {
        "wecom": ("企业微信", "WeCom"),
        "dingtalk": ("钉钉", "DingTalk"),
        "email": ("电子邮件", "E-mail"),
        "sms": ("短信", "SMS"),
        "inapp": ("站内消息", "In-app"),
        "webhook": ("学校的 Webhook", "School webhook"),
    },
    # A notification's delivery state, on the district's case page.
    "cc_delivery": {
        "pending": ("待发送", "Pending"),
        "delivered": ("已送达", "Delivered"),
        "failed": ("发送失败", "Failed"),
    },
}
