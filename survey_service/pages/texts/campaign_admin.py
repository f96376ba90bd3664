"""Page text: campaign_admin (issue 13) — the campaign list, the campaign wizard and the roster
upload. Merged into ``survey_service.pages.i18n``.

Besides ``TEXT`` and ``LABELS``, the tables the pages use to word in the page's language what
the campaign service and the roster parser say in English (``CAMPAIGN_PROBLEMS``,
``ROW_REASONS``, ``WARNINGS``, ``FILE_ERRORS``): each pattern matches one message the parser
writes (``survey_service.rosters``), and names the values it quotes. A message no pattern
matches is shown as written.
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        # the campaign list
        "cadm_list_intro": "本校的筛查活动，按筛查时间从新到旧排列。点名称查看活动、打印登录条、"
        "登记知情同意。",
        "cadm_new": "新建筛查活动",
        "cadm_none": "还没有筛查活动。",
        "cadm_caption": "本校筛查活动",
        "cadm_col_name": "名称",
        "cadm_col_window": "筛查时间",
        "cadm_col_status": "状态",
        "cadm_col_respondent": "作答人",
        "cadm_col_in_scope": "应测学生",
        "cadm_col_completed": "已完成",
        "cadm_col_coverage": "完成率",
        "cadm_window": "{0} 至 {1}",
        # the wizard
        "cadm_new_title": "新建筛查活动",
        "cadm_new_intro": "填写下面的内容后创建；创建后可以打印登录条、登记知情同意。",
        "cadm_errors_title": "未能创建，请修改以下内容：",
        "cadm_name": "活动名称",
        "cadm_default_name": "{0} 学年心理健康筛查",
        "cadm_window_legend": "筛查时间（学校当地时间）",
        "cadm_opens_on": "开始日期",
        "cadm_closes_on": "结束日期（含当天）",
        "cadm_window_hint": "开始日期 0 点开放，结束日期当天 24 点关闭。",
        "cadm_batteries": "各年级问卷",
        "cadm_batteries_hint": "为要筛查的年级勾选量表；不勾选的年级不参加本次筛查。"
        "每个年级只列出适合该年级学生年龄的学生自评量表。",
        "cadm_battery": "学生问卷",
        "cadm_battery_of": "{0}问卷",
        "cadm_no_choice": "没有适合该年级年龄的量表。",
        "cadm_age_range": "适用 {0}–{1} 岁",
        "cadm_age_from": "适用 {0} 岁及以上",
        "cadm_no_zh": "无中文版，以英文作答",
        "cadm_zh_unvalidated": "中文版未验证",
        "cadm_no_grades": "名册中还没有在读学生，无法选择各年级问卷：请先上传学生名册。",
        "cadm_go_roster": "上传学生名册",
        "cadm_consent": "知情同意规则",
        "cadm_statutory": "法定依据（选择“依法定依据开展”时必填）",
        "cadm_languages": "问卷语言",
        "cadm_allow_fallback": "允许没有所选语言文本的量表以英文作答"
        "（学生会看到提示，结果会记录作答语言）",
        "cadm_guardian": "家长问卷（可选）",
        "cadm_guardian_where": "家长问卷",
        "cadm_guardian_hint": "由每名学生的家长用家长登录条作答，结果记入该学生名下。",
        "cadm_no_guardian": "量表目录中没有由家长填写的量表。",
        "cadm_create": "创建筛查活动",
        "cadm_err_name": "活动名称：请填写。",
        "cadm_err_date": "{0}：“{1}”不是有效日期，请按 年-月-日 填写。",
        "cadm_err_value": "{0}：内容过长或含有不允许的字符。",
        "cadm_err_window_order": "结束日期：不能早于开始日期。",
        "cadm_err_window_past": "结束日期：已经过去，请选择今天或以后的日期。",
        "cadm_err_no_battery": "各年级问卷：请至少为一个年级勾选量表。",
        "cadm_err_consent_rule": "知情同意规则：请从列出的规则中选择一项。",
        "cadm_err_statutory": "法定依据：选择“依法定依据开展”时必须写明法定依据。",
        "cadm_err_languages": "问卷语言：请至少选择一种。",
        "cadm_err_unknown_instrument": "各年级问卷：量表目录中没有“{id}”。",
        "cadm_err_unknown_guardian": "家长问卷：量表目录中没有“{id}”。",
        "cadm_err_guardian_twice": "家长问卷：“{id}”选了两次。",
        "cadm_err_language_missing": "{where}：{title} 没有{language}版本，选择{language}的学生"
        "会看到英文版。请换用其他量表、在“问卷语言”中取消{language}，或勾选“允许以英文作答”。",
        "cadm_err_age_typical": "{where}：{title} {range}，但该年级学生通常为 {low}–{high} 岁"
        "（按 6 周岁入学推算），不在适用年龄范围内。",
        "cadm_err_age_roster": "{where}：{title} {range}，但名册中有 {n} 名学生在筛查期间为 "
        "{low}–{high} 岁（按出生日期），不在适用年龄范围内。",
        # the roster upload
        "cadm_roster_intro": "先上传文件预览：预览只显示将要发生的变化，不写入任何数据；"
        "确认后才导入。",
        "cadm_upload_title": "上传名册文件",
        "cadm_roster_file": "名册文件（.csv 或 .xlsx，最大约 {0} KB）",
        "cadm_roster_mode": "导入方式",
        "cadm_mode_replace_hint": "文件就是全校完整名册。文件中没有的在读学生，确认后标记为离校。",
        "cadm_mode_incremental_hint": "只新增学生、更新已有学生（按学号对应），"
        "不会把文件中没有的学生标记为离校。",
        "cadm_roster_preview_btn": "预览（不写入）",
        "cadm_headers_title": "可用的表头",
        "cadm_headers_intro": "文件第一行是表头，列的顺序不限；表头可以是下表中任一写法"
        "（不区分大小写和全角半角）。必填列不能缺少。",
        "cadm_headers_english": "英文表头也可以使用，见英文页面。",
        "cadm_col_field": "字段",
        "cadm_col_headers": "可用的表头",
        "cadm_col_values": "填写说明",
        "cadm_required": "必填",
        "cadm_optional": "选填",
        "cadm_preview_title": "预览",
        "cadm_preview_file": "文件：{0}",
        "cadm_preview_nothing": "这是预览：还没有写入任何数据。",
        "cadm_mode_is": "导入方式：{0}",
        "cadm_counts": "将要发生的变化",
        "cadm_count_create": "新增学生",
        "cadm_count_update": "更新学生",
        "cadm_count_unchanged": "没有变化",
        "cadm_count_left": "标记离校或转出",
        "cadm_count_skipped": "跳过（文件标为离校，但学校没有该学生）",
        "cadm_count_missing": "其中文件中没有、需要确认的：{0} 名",
        "cadm_leavers_title": "将标记为离校或转出的学生",
        "cadm_col_number": "学号",
        "cadm_col_reason": "原因",
        "cadm_col_open_cases": "未结案个案",
        "cadm_leavers_more": "另有 {0} 名未列出。",
        "cadm_open_cases_note": "标记离校不会关闭个案：未结案的个案仍由心理老师跟进。",
        "cadm_confirm_title": "确认导入",
        "cadm_confirm_leavers": "同时把文件中没有的 {0} 名在读学生标记为离校",
        "cadm_confirm_leavers_hint": "不勾选时，这些学生保持在读，其余内容照常导入。",
        "cadm_apply_btn": "确认导入",
        "cadm_restart": "重新选择文件",
        "cadm_row_errors_title": "文件中有 {0} 处错误：改正后重新上传。有错误的文件不能导入。",
        "cadm_col_row": "行号",
        "cadm_col_column": "列",
        "cadm_col_problem": "问题",
        "cadm_row_n": "第 {0} 行",
        "cadm_errors_more": "另有 {0} 处错误未列出。",
        "cadm_warnings_title": "提示（共 {0} 条，不影响导入）",
        "cadm_warnings_more": "另有 {0} 条提示未列出。",
        "cadm_committee_title": "心理委员",
        "cadm_committee_summary": "{0} 个班级的心理委员不足"
        "（四年级起每班至少 2 名，男女各至少 1 名）：",
        "cadm_committee_line": "{0}：心理委员 {1} 名（男 {2}，女 {3}）",
        "cadm_ratio": "在读学生 {0} 名：按 1:500 需要兼职心理健康教育教师 {1} 名，现有兼职 {2} 名、"
        "专职 {3} 名。",
        "cadm_ratio_missing": "还缺 {0} 名兼职教师。",
        "cadm_ratio_none": "学校还没有专职或兼职心理健康教育教师。",
        "cadm_result_title": "名册已导入",
        "cadm_result_waiting": "文件中没有的 {0} 名学生未确认离校，仍为在读。要标记他们离校，"
        "请重新上传预览并勾选确认。",
        "cadm_another": "再上传一个文件",
        "cadm_roster_no_file": "名册文件：请选择要上传的文件。",
        "cadm_roster_bad_type": "名册文件：不支持“{0}”格式，请上传 .csv 或 .xlsx 文件。",
        "cadm_roster_empty": "名册文件：上传的文件是空的。",
        "cadm_roster_too_big": "名册文件：文件太大，超过网页上传上限（约 {0} KB）。"
        "请分成几个文件，用“只新增和更新”方式依次导入。",
        "cadm_roster_unreadable": "名册文件无法读取：{0}",
        "cadm_roster_not_previewed": "要确认的文件与预览的不一致，或没有经过预览："
        "请重新选择文件并预览。",
        "cadm_roster_changed": "预览之后学校的学生名单有变化，要标记离校的学生已经不同："
        "请重新预览后再确认。"
        "没有写入任何数据。",
        "cadm_status_upcoming": "未开始",
        "cadm_status_open": "进行中",
        "cadm_status_closed": "已结束",
        "cadm_respondent_self": "学生本人",
        "cadm_respondent_parent": "家长",
        "cadm_mode_replace": "整体替换",
        "cadm_mode_incremental": "只新增和更新",
        "cadm_leave_not_in_file": "文件中没有",
        "cadm_leave_transferred": "文件中标为转出",
        "cadm_leave_left": "文件中标为离校",
        "cadm_field_student_number": "学号",
        "cadm_field_name": "姓名",
        "cadm_field_gender": "性别",
        "cadm_field_birth_date": "出生日期",
        "cadm_field_grade": "年级",
        "cadm_field_class_name": "班级",
        "cadm_field_guardian_name": "监护人姓名",
        "cadm_field_guardian_relation": "监护人关系",
        "cadm_field_guardian_phone": "监护人电话",
        "cadm_field_psychology_committee": "心理委员",
        "cadm_field_status": "学籍状态",
        "cadm_values_student_number": "学校给学生的编号，原样保存（不含空格，最多 64 个字符）；下次"
        "导入按学号对应",
        "cadm_values_name": "学生姓名（最多 100 个字）",
        "cadm_values_gender": "男/女、M/F 或 male/female",
        "cadm_values_birth_date": "日期格式或 2013-05-02、2013/5/2、2013年5月2日、20130502；用于核"
        "对量表的适用年龄",
        "cadm_values_grade": "1–12：7、七年级、初一、初中一年级都是 7；高一是 10",
        "cadm_values_class_name": "年级内的班级：1班、(1)班、3、七年级1班、实验班",
        "cadm_values_guardian_name": "监护人姓名",
        "cadm_values_guardian_relation": "父亲、母亲、祖母等（最多 20 个字）",
        "cadm_values_guardian_phone": "11 位手机号（以 1 开头）或带区号的固话；空格、横线和 +86 会"
        "被去掉",
        "cadm_values_psychology_committee": "是/否、Y/N、1/0、√/×；空白为否",
        "cadm_values_status": "在读/在校或空白为在读；转出/转学为转出；离校/毕业/休学/退学为离校",
    },
    "en": {
        "cadm_list_intro": "The school's screening campaigns, newest first. Open one to print "
        "sign-in slips and record consent.",
        "cadm_new": "New campaign",
        "cadm_none": "No campaigns yet.",
        "cadm_caption": "The school's campaigns",
        "cadm_col_name": "Name",
        "cadm_col_window": "Window",
        "cadm_col_status": "Status",
        "cadm_col_respondent": "Answered by",
        "cadm_col_in_scope": "Students in scope",
        "cadm_col_completed": "Completed",
        "cadm_col_coverage": "Coverage",
        "cadm_window": "{0} to {1}",
        "cadm_new_title": "New screening campaign",
        "cadm_new_intro": "Fill in the form and create the campaign; then print the sign-in "
        "slips and record consent.",
        "cadm_errors_title": "Not created. Please correct:",
        "cadm_name": "Campaign name",
        "cadm_default_name": "{0} mental-health screening",
        "cadm_window_legend": "Window (school time)",
        "cadm_opens_on": "First day",
        "cadm_closes_on": "Last day (included)",
        "cadm_window_hint": "Opens at midnight at the start of the first day and closes at "
        "midnight at the end of the last day.",
        "cadm_batteries": "Questionnaires by grade",
        "cadm_batteries_hint": "Tick the instruments for each grade to screen; a grade with "
        "none ticked is not screened. Each grade lists only the self-report instruments that "
        "fit its students' ages.",
        "cadm_battery": "Student questionnaire",
        "cadm_battery_of": "{0} questionnaire",
        "cadm_no_choice": "No instrument fits this grade's ages.",
        "cadm_age_range": "ages {0}–{1}",
        "cadm_age_from": "ages {0} and over",
        "cadm_no_zh": "no Chinese text: answered in English",
        "cadm_zh_unvalidated": "Chinese text not validated",
        "cadm_no_grades": "The roster has no active students yet, so there are no grades to "
        "choose questionnaires for: upload the roster first.",
        "cadm_go_roster": "Upload the roster",
        "cadm_consent": "Consent rule",
        "cadm_statutory": "Statutory basis (required with “on a statutory basis”)",
        "cadm_languages": "Questionnaire languages",
        "cadm_allow_fallback": "Allow instruments without text in a chosen language to be "
        "answered in English (students see a notice; each result records the language)",
        "cadm_guardian": "Guardian questionnaire (optional)",
        "cadm_guardian_where": "Guardian questionnaire",
        "cadm_guardian_hint": "Each student's guardian answers it with the guardian sign-in "
        "slip; the result is the student's.",
        "cadm_no_guardian": "The catalogue has no parent-report instrument.",
        "cadm_create": "Create campaign",
        "cadm_err_name": "Campaign name: please fill it in.",
        "cadm_err_date": "{0}: “{1}” is not a date; use year-month-day.",
        "cadm_err_value": "{0}: too long, or it contains characters that are not allowed.",
        "cadm_err_window_order": "Last day: it cannot be before the first day.",
        "cadm_err_window_past": "Last day: it has passed; choose today or a later day.",
        "cadm_err_no_battery": "Questionnaires by grade: tick instruments for at least one grade.",
        "cadm_err_consent_rule": "Consent rule: choose one of the rules listed.",
        "cadm_err_statutory": "Statutory basis: name it when no consent is asked.",
        "cadm_err_languages": "Questionnaire languages: choose at least one.",
        "cadm_err_unknown_instrument": "Questionnaires by grade: the catalogue has no "
        "instrument “{id}”.",
        "cadm_err_unknown_guardian": "Guardian questionnaire: the catalogue has no instrument "
        "“{id}”.",
        "cadm_err_guardian_twice": "Guardian questionnaire: “{id}” is chosen twice.",
        "cadm_err_language_missing": "{where}: {title} has no {language} text, so students who "
        "choose {language} would get it in English. Choose another instrument, untick "
        "{language} under “Questionnaire languages”, or tick “Allow … answered in English”.",
        "cadm_err_age_typical": "{where}: {title} is for {range}, but students of this grade "
        "are typically aged {low}–{high} (school starts at 6), outside that range.",
        "cadm_err_age_roster": "{where}: {title} is for {range}, but {n} student(s) of this "
        "grade will be aged {low}–{high} during the campaign (roster birth dates), outside "
        "that range.",
        "cadm_roster_intro": "Upload the file to preview it first: the preview shows what "
        "would change and writes nothing; the import happens only when you confirm.",
        "cadm_upload_title": "Upload a roster file",
        "cadm_roster_file": "Roster file (.csv or .xlsx, up to about {0} KB)",
        "cadm_roster_mode": "Import mode",
        "cadm_mode_replace_hint": "The file is the school's whole roster. Active students "
        "missing from it are marked as left once you confirm.",
        "cadm_mode_incremental_hint": "Only adds new students and updates existing ones (by "
        "student number); nobody missing from the file is marked as left.",
        "cadm_roster_preview_btn": "Preview (writes nothing)",
        "cadm_headers_title": "Accepted headers",
        "cadm_headers_intro": "The first row holds the headers, in any order; each may be "
        "written any of the ways below (case and full-width forms do not matter). Required "
        "columns must be present.",
        "cadm_headers_english": "English headers are accepted as well; see the English page.",
        "cadm_col_field": "Field",
        "cadm_col_headers": "Accepted headers",
        "cadm_col_values": "Values",
        "cadm_required": "required",
        "cadm_optional": "optional",
        "cadm_preview_title": "Preview",
        "cadm_preview_file": "File: {0}",
        "cadm_preview_nothing": "This is a preview: nothing has been written yet.",
        "cadm_mode_is": "Import mode: {0}",
        "cadm_counts": "What would change",
        "cadm_count_create": "New students",
        "cadm_count_update": "Updated students",
        "cadm_count_unchanged": "Unchanged",
        "cadm_count_left": "Marked as left or transferred",
        "cadm_count_skipped": "Skipped (marked as left in the file, unknown to the school)",
        "cadm_count_missing": "Of them missing from the file, awaiting your confirmation: {0}",
        "cadm_leavers_title": "Students to be marked as left or transferred",
        "cadm_col_number": "Student number",
        "cadm_col_reason": "Why",
        "cadm_col_open_cases": "Open cases",
        "cadm_leavers_more": "{0} more not listed.",
        "cadm_open_cases_note": "Marking a student as left closes no case: open cases stay "
        "with the counsellors.",
        "cadm_confirm_title": "Confirm the import",
        "cadm_confirm_leavers": "Also mark the {0} active students missing from the file as left",
        "cadm_confirm_leavers_hint": "Unticked, they stay active and everything else is imported.",
        "cadm_apply_btn": "Import",
        "cadm_restart": "Choose another file",
        "cadm_row_errors_title": "The file has {0} error(s): correct them and upload it "
        "again. A file with errors cannot be imported.",
        "cadm_col_row": "Row",
        "cadm_col_column": "Column",
        "cadm_col_problem": "Problem",
        "cadm_row_n": "Row {0}",
        "cadm_errors_more": "{0} more error(s) not listed.",
        "cadm_warnings_title": "Notes ({0}; they do not stop the import)",
        "cadm_warnings_more": "{0} more note(s) not listed.",
        "cadm_committee_title": "Psychology committee members",
        "cadm_committee_summary": "{0} class(es) lack committee members (from grade 4, at "
        "least 2 per class, at least one boy and one girl):",
        "cadm_committee_line": "{0}: {1} member(s) ({2} boys, {3} girls)",
        "cadm_ratio": "{0} active students: 1:500 needs {1} part-time mental-health "
        "teacher(s); the school has {2} part-time and {3} full-time.",
        "cadm_ratio_missing": "{0} part-time teacher(s) missing.",
        "cadm_ratio_none": "The school has no full- or part-time mental-health teacher yet.",
        "cadm_result_title": "Roster imported",
        "cadm_result_waiting": "{0} student(s) missing from the file were not confirmed as "
        "left and stay active. To mark them as left, preview the file again and tick the "
        "confirmation.",
        "cadm_another": "Upload another file",
        "cadm_roster_no_file": "Roster file: choose the file to upload.",
        "cadm_roster_bad_type": "Roster file: “{0}” files are not taken; upload a .csv or "
        ".xlsx file.",
        "cadm_roster_empty": "Roster file: the uploaded file is empty.",
        "cadm_roster_too_big": "Roster file: too large for the web upload (about {0} KB at "
        "most). Split it into several files and import them one after another in “add and "
        "update only” mode.",
        "cadm_roster_unreadable": "The roster file cannot be read: {0}",
        "cadm_roster_not_previewed": "The file to confirm is not the one previewed, or was not "
        "previewed: choose the file again and preview it.",
        "cadm_roster_changed": "The school's students changed since the preview, so the "
        "students to mark as left are no longer the same: preview again and confirm. Nothing "
        "was written.",
        "cadm_status_upcoming": "Upcoming",
        "cadm_status_open": "Open",
        "cadm_status_closed": "Closed",
        "cadm_respondent_self": "Students",
        "cadm_respondent_parent": "Guardians",
        "cadm_mode_replace": "Full replace",
        "cadm_mode_incremental": "Add and update only",
        "cadm_leave_not_in_file": "Not in the file",
        "cadm_leave_transferred": "Marked transferred in the file",
        "cadm_leave_left": "Marked as left in the file",
        "cadm_field_student_number": "Student number",
        "cadm_field_name": "Name",
        "cadm_field_gender": "Gender",
        "cadm_field_birth_date": "Date of birth",
        "cadm_field_grade": "Grade",
        "cadm_field_class_name": "Class",
        "cadm_field_guardian_name": "Guardian's name",
        "cadm_field_guardian_relation": "Guardian's relation",
        "cadm_field_guardian_phone": "Guardian's phone",
        "cadm_field_psychology_committee": "Psychology committee member",
        "cadm_field_status": "Status",
        "cadm_values_student_number": "the school's number for the student, kept as written (no "
        "spaces, at most 64 characters); later imports match students by it",
        "cadm_values_name": "the student's name (at most 100 characters)",
        "cadm_values_gender": "男/女, M/F or male/female",
        "cadm_values_birth_date": "a date cell or 2013-05-02, 2013/5/2, 2013年5月"
        "2日, 20130502; used to check that an instrume"
        "nt fits the student's age",
        "cadm_values_grade": "1-12: 7, 七年级, 初一, 初中一年级 are 7; 高一 is 10",
        "cadm_values_class_name": "the class within its grade: 1班, (1)班, 3, 七年级1班, 实验班",
        "cadm_values_guardian_name": "the guardian's name",
        "cadm_values_guardian_relation": "父亲, 母亲, 祖母... (at most 20 characters)",
        "cadm_values_guardian_phone": "a mainland mobile (11 digits starting with 1) or a landline "
        "with its area code; spaces, dashes and +86 are dropped",
        "cadm_values_psychology_committee": "是/否, Y/N, 1/0, √/×; empty is no",
        "cadm_values_status": "在读/在校 or empty: active; 转出/转学: transferred; 离校/毕业/休学/"
        "退学: left",
    },
}

# Only codes that are not everyday English words are labels (the zh-CN page check treats every
# labelled code as a word that must not show on a Chinese page); the statuses, modes and roster
# fields are text keys instead (``cadm_status_open``, ``cadm_field_name`` …).
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "cadm_consent": {
        "guardian_under_14": (
            "未满 14 周岁的学生需监护人同意",
            "Guardian consent for students under 14",
        ),
        "guardian_all": ("所有学生都需监护人同意", "Guardian consent for every student"),
        "statutory_basis": (
            "依法定依据开展，不征求同意（须写明依据）",
            "On a statutory basis, no consent asked (name the basis)",
        ),
    },
}


#: Form field of a ``CampaignIn`` field (a refused value names it).
FIELD_KEYS: dict[str, str] = {
    "name": "cadm_name",
    "statutory_basis": "cadm_statutory",
    "consent_rule": "cadm_consent",
    "languages": "cadm_languages",
    "batteries": "cadm_batteries",
    "guardian_battery": "cadm_guardian",
    "opens_at": "cadm_opens_on",
    "closes_at": "cadm_closes_on",
    "school_year": "cadm_opens_on",
}

#: The campaign service's problems (``service.create_campaign``) -> the text key saying it.
CAMPAIGN_PROBLEMS: tuple[tuple[str, str], ...] = (
    (r"^closes_at must be after opens_at", "cadm_err_window_order"),
    (r"^closes_at is already past", "cadm_err_window_past"),
    (r"^batteries: give at least one", "cadm_err_no_battery"),
    (r"^consent_rule must be one of", "cadm_err_consent_rule"),
    (r"^statutory_basis:", "cadm_err_statutory"),
    (r"^languages:", "cadm_err_languages"),
    (
        r"^batteries\[\d+\]\.instruments: unknown instrument '(?P<id>[^']*)'$",
        "cadm_err_unknown_instrument",
    ),
    (r"^guardian_battery: unknown instrument '(?P<id>[^']*)'$", "cadm_err_unknown_guardian"),
    (r"^guardian_battery: '(?P<id>[^']*)' is listed twice$", "cadm_err_guardian_twice"),
)

# A value the parser quotes with Python's repr: 'X' (or "X" when X holds a quote).
_Q = r"""(?P<v>'.*'|".*")"""

#: Row errors of the roster parser (the reason after "row N, column C: ") -> zh-CN, en.
ROW_REASONS: tuple[tuple[str, str, str], ...] = (
    (r"^required value is empty", "必填，不能为空", "required value is empty"),
    (
        r"^duplicate student number (?P<v>.+) \(学号重复\): first on row (?P<r>\d+)$",
        "学号 {v} 重复：第 {r} 行已有该学号",
        "student number {v} appears twice: first on row {r}",
    ),
    (
        r"^this number is too long for an Excel number cell",
        "学号位数太多，Excel 按数字保存时丢失了位数：请把该列设为“文本”格式后重新输入",
        "the number is too long for an Excel number cell and has lost digits: format the "
        "column as text and type it again",
    ),
    (
        r"^(?P<v>\S+) is in scientific notation",
        "学号 {v} 被 Excel 存成了科学计数法，位数已丢失：请把该列设为“文本”格式后重新导出",
        "{v} is in scientific notation, so Excel has lost digits: format the column as text "
        "and export again",
    ),
    (
        rf"^student number {_Q} contains spaces",
        "学号“{v}”含有空格",
        "student number “{v}” contains spaces",
    ),
    (
        r"^student number is longer than (?P<n>\d+) characters",
        "学号超过 {n} 个字符",
        "student number is longer than {n} characters",
    ),
    (
        r"^name \(姓名\) is longer than (?P<n>\d+) characters",
        "姓名超过 {n} 个字",
        "name is longer than {n} characters",
    ),
    (
        r"^guardian name \(监护人姓名\) is longer than (?P<n>\d+) characters",
        "监护人姓名超过 {n} 个字",
        "guardian name is longer than {n} characters",
    ),
    (
        rf"^gender {_Q} is not recognised",
        "无法识别性别“{v}”：请填写 男/女、M/F 或 male/female",
        "gender “{v}” is not recognised: use 男/女, M/F or male/female",
    ),
    (
        rf"^{_Q} looks like an entry cohort",
        "“{v}”是入学年级（届），不是年级：请填写 1–12、七年级、初一或高一",
        "“{v}” looks like an entry cohort, not a grade: use 1-12, 七年级, 初一 or 高一",
    ),
    (
        rf"^grade {_Q} is not recognised",
        "无法识别年级“{v}”：请填写 1–12、七年级、初一或高一",
        "grade “{v}” is not recognised: use 1-12, 七年级, 初一 or 高一",
    ),
    (
        rf"^class {_Q} names a grade but no class",
        "班级“{v}”只有年级没有班号，应写成例如 七年级1班",
        "class “{v}” names a grade but no class, e.g. 七年级1班",
    ),
    (
        r"^class name is longer than (?P<n>\d+) characters",
        "班级名称超过 {n} 个字",
        "class name is longer than {n} characters",
    ),
    (
        rf"^class {_Q} is in grade (?P<g>\d+) but the grade column \(年级\) says (?P<h>\d+)$",
        "班级“{v}”属于 {g} 年级，但年级列写的是 {h} 年级",
        "class “{v}” is in grade {g} but the grade column says {h}",
    ),
    (
        rf"^date {_Q} is not a valid date",
        "日期“{v}”无效：请写成 年-月-日，例如 2013-05-02",
        "date “{v}” is not a valid date: use YYYY-MM-DD, e.g. 2013-05-02",
    ),
    (
        r"^date (?P<v>\S+) is out of range",
        "日期 {v} 超出合理范围",
        "date {v} is out of range",
    ),
    (
        rf"^phone {_Q} is not a mainland mobile",
        "电话“{v}”既不是 11 位手机号（以 1 开头），也不是带区号的固定电话",
        "phone “{v}” is not a mainland mobile (11 digits starting with 1) or a landline with "
        "its area code",
    ),
    (
        rf"^{_Q} is not yes or no",
        "“{v}”不是“是”或“否”：请填写 是/否、Y/N 或 1/0",
        "“{v}” is not yes or no: use 是/否, Y/N or 1/0",
    ),
    (
        rf"^status {_Q} is not recognised",
        "无法识别学籍状态“{v}”：请填写 在读、转出 或 离校",
        "status “{v}” is not recognised: use 在读, 转出 or 离校",
    ),
    (
        r"^relation is longer than (?P<n>\d+) characters",
        "监护人关系超过 {n} 个字",
        "relation is longer than {n} characters",
    ),
    (
        r"^contains control characters",
        "含有控制字符或文字方向控制符",
        "contains control characters or text-direction overrides",
    ),
    (r"^the file is empty", "文件是空的：没有表头行", "the file is empty: no header row"),
    (r"^the file has no student rows", "文件中没有学生数据", "the file has no student rows"),
    (
        r"^duplicate column: (?P<v>.+) appears twice",
        "重复的列：“{v}”出现了两次",
        "duplicate column: “{v}” appears twice",
    ),
    (
        r"^required column is missing \(缺少必填列\); accepted headers include (?P<v>.+)$",
        "缺少必填列；可用的表头有 {v}",
        "required column is missing; accepted headers include {v}",
    ),
)

#: Warnings of the roster parser -> zh-CN, en.
WARNINGS: tuple[tuple[str, str, str], ...] = (
    (
        r"^column (?P<v>.+) is not a roster field and is ignored",
        "无法识别的列“{v}”，已忽略",
        "column “{v}” is not a roster field and is ignored",
    ),
    (
        r"^column (?P<v>.+) is ignored: column (?P<k>.+) has the same meaning$",
        "列“{v}”已忽略：列“{k}”含义相同",
        "column “{v}” is ignored: column “{k}” has the same meaning",
    ),
    (
        r"^rows? (?P<v>[\d-]+) above the header \(row (?P<r>\d+)\) skipped",
        "表头（第 {r} 行）上方的第 {v} 行视为标题，已跳过",
        "row(s) {v} above the header (row {r}) skipped as a title",
    ),
    (
        r"^only the sheet (?P<v>.+) is read; other sheets are ignored: (?P<k>.+)$",
        "只读取了工作表“{v}”，其他工作表已忽略：{k}",
        "only the sheet “{v}” is read; other sheets are ignored: {k}",
    ),
)

#: Why a file cannot be read as a roster at all -> zh-CN, en.
FILE_ERRORS: tuple[tuple[str, str, str], ...] = (
    (
        r"legacy \.xls or a password-protected workbook",
        "这是旧版 Excel（.xls）或设了密码的工作簿：请另存为 .xlsx 或 CSV（UTF-8）后再上传。",
        "this is a legacy .xls or a password-protected workbook: save it as .xlsx or CSV "
        "(UTF-8) and upload it again.",
    ),
    (
        r"neither UTF-8 nor GB18030",
        "文件编码无法识别：请另存为 UTF-8、GB18030 或带 BOM 的 UTF-16 后再上传。",
        "the text encoding is not recognised: save it as UTF-8, GB18030 or UTF-16 with a "
        "BOM and upload it again.",
    ),
    (
        r"^row (?P<r>\d+): the CSV is malformed",
        "CSV 文件第 {r} 行格式有误（例如引号没有配对）。",
        "row {r} of the CSV file is malformed (an unmatched quote, for example).",
    ),
    (
        r"workbook|worksheet|\.xlsx",
        "Excel 文件已损坏或无法读取：请重新另存为 .xlsx 后再上传。",
        "the Excel file is damaged or unreadable: save it again as .xlsx and upload it.",
    ),
)
