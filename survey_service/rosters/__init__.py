"""School rosters: parse CSV/XLSX roster files, plan an import, check roster duties.

Pure: no database, no web. The service layer reads the school's current students, calls
:func:`parse_roster` (preview), :func:`plan_import` (what would change) and applies the plan in
one transaction only when the parse has no errors.

Recognised headers (case, whitespace, ``_``/``-`` and full-width forms ignored; a bracketed
note such as ``性别(男/女)`` is dropped; the first listed wins when two columns mean the same):

=====================  ==================================================================
field                  headers
=====================  ==================================================================
student_number *       学号, 学生编号, 学籍号, 全国学籍号, student_number, student no, student id
name *                 姓名, 学生姓名, name, student name
gender *               性别, gender, sex (男/女, M/F, male/female)
grade *                年级, grade (7, 七年级, 初一, 初中一年级, 高一... → 1-12)
class_name *           班级, 班, class, class name (``七年级1班``, ``(1)班``, ``3`` → ``1班``)
birth_date             出生日期, 出生年月, 生日, birth_date, date of birth, dob
guardian_name          监护人姓名, 监护人, 家长姓名, guardian_name, parent name
guardian_relation      监护人关系, 与学生关系, 关系, guardian_relation, relationship
guardian_phone         监护人电话, 监护人手机, 家长电话, 联系电话, guardian_phone, phone
psychology_committee   心理委员, 是否心理委员, psychology_committee (是/否, Y/N, 1/0)
status                 状态, 学籍状态, status (在读/在校, 转出/转学, 离校/毕业/休学)
=====================  ==================================================================

(* required.) Grades: 初一/初二/初三 = 7/8/9 and 高一/高二/高三 = 10/11/12; see
``survey_service.rosters._values`` for the full table.
"""

from survey_service.rosters._checks import (
    ClassCheck,
    ClassMember,
    RatioCheck,
    committee_check,
    counsellor_ratio,
)
from survey_service.rosters._headers import REQUIRED, SYNONYMS
from survey_service.rosters._model import (
    Gender,
    RosterFileError,
    RosterParse,
    RosterPlanError,
    RosterRow,
    RowError,
    Status,
)
from survey_service.rosters._parse import RosterStream, iter_roster, parse_roster
from survey_service.rosters._plan import (
    COMPARED_FIELDS,
    ExistingStudent,
    ImportCounts,
    ImportPlan,
    StudentLeave,
    StudentUpdate,
    leavers_token,
    plan_import,
)

__all__ = [
    "COMPARED_FIELDS",
    "REQUIRED",
    "SYNONYMS",
    "ClassCheck",
    "ClassMember",
    "ExistingStudent",
    "Gender",
    "ImportCounts",
    "ImportPlan",
    "RatioCheck",
    "RosterFileError",
    "RosterParse",
    "RosterPlanError",
    "RosterRow",
    "RosterStream",
    "RowError",
    "Status",
    "StudentLeave",
    "StudentUpdate",
    "committee_check",
    "counsellor_ratio",
    "iter_roster",
    "leavers_token",
    "parse_roster",
    "plan_import",
]
