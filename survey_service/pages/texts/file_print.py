"""Page text: file_print (issue 15) — the student's file (一人一档) printed as PDF for a
handover, and the form on the file page that asks for it. Merged into survey_service.pages.i18n."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        # the form on the file page
        "fp_link_title": "打印档案（PDF）",
        "fp_link_intro": "学生转学或转介时，可把档案打印成 PDF 交给接手的心理老师。"
        "每次打印都会连同用途记入访问日志。",
        "fp_purpose": "用途",
        "fp_language": "语言",
        "fp_make": "生成 PDF",
        # the printed file
        "fp_title": "学生心理健康档案（一人一档）",
        # display name, role, local time
        "fp_printed": "打印人：{0}（{1}） 打印时间：{2}",
        "fp_notice": "本档案含未成年人的敏感个人信息，仅供接手的心理老师继续关爱工作使用；"
        "不得复印、转发，不得用于评价或给学生排名。筛查结果是风险提示，不是诊断。",
        "fp_student": "基本信息",
        "fp_name": "姓名",
        "fp_cases": "个案",
        "fp_opened": "建档时间",
        "fp_tier": "风险等级",
        "fp_state": "状态",
        "fp_no_cases": "没有个案。",
        "fp_tiers": "风险等级变化及原因",
        "fp_when": "时间",
        "fp_source": "来源",
        "fp_reasons": "原因",
        "fp_no_tiers": "没有分级记录。",
        # tier, state
        "fp_group_of": "个案（{0}，{1}）的关爱小组",
        "fp_guardians": "监护人联系方式",
        "fp_relation": "关系",
        "fp_phone": "电话",
        "fp_no_guardians": "学生名单中没有监护人信息。",
        "fp_referrals": "转介",
        "fp_hospital": "医院",
        "fp_stage": "进度",
        "fp_sent": "转介日期",
        "fp_updated": "更新日期",
        "fp_no_referrals": "没有转介。",
        "fp_incidents": "极端事件",
        "fp_review": "复盘报告",
        "fp_records": "档案记录（按时间，从新到旧）",
        "fp_end": "— 档案结束 —",
    },
    "en": {
        "fp_link_title": "Print the file (PDF)",
        "fp_link_intro": "When the student moves school or is referred, print the file as PDF "
        "for the counsellor who takes over. Every print is recorded, with its purpose, in the "
        "access log.",
        "fp_purpose": "Purpose",
        "fp_language": "Language",
        "fp_make": "Make the PDF",
        "fp_title": "Student mental-health file",
        "fp_printed": "Printed by {0} ({1}) at {2}",
        "fp_notice": "This file holds sensitive personal information of a minor. It is for the "
        "counsellor who continues the student's care only: do not copy or forward it, and never "
        "use it to assess or rank the student. Screening results are risk cues, not a diagnosis.",
        "fp_student": "Student",
        "fp_name": "Name",
        "fp_cases": "Cases",
        "fp_opened": "Opened",
        "fp_tier": "Tier",
        "fp_state": "State",
        "fp_no_cases": "No case.",
        "fp_tiers": "Tier history and reasons",
        "fp_when": "When",
        "fp_source": "Source",
        "fp_reasons": "Reasons",
        "fp_no_tiers": "No tier on record.",
        "fp_group_of": "Care group of the case ({0}, {1})",
        "fp_guardians": "Guardian contacts",
        "fp_relation": "Relation",
        "fp_phone": "Phone",
        "fp_no_guardians": "The roster holds no guardian for this student.",
        "fp_referrals": "Referrals",
        "fp_hospital": "Hospital",
        "fp_stage": "Stage",
        "fp_sent": "Sent",
        "fp_updated": "Updated",
        "fp_no_referrals": "No referral.",
        "fp_incidents": "Incidents",
        "fp_review": "Review report",
        "fp_records": "File entries, newest first",
        "fp_end": "— End of the file —",
    },
}
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    # Why a file is printed: recorded with the print in the audit log.
    "print_purpose": {
        "transfer": ("转学交接", "Handover to another school"),
        "referral": ("转介就医", "Referral to a hospital"),
        "case_conference": ("个案会商", "Case conference"),
    },
}
