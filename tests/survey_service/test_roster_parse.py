"""Roster import: real CSV and XLSX files written in tmp_path, parsed, planned and checked."""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import msgspec
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey_service import rosters
from survey_service.rosters import (
    ExistingStudent,
    RosterFileError,
    RosterParse,
    RosterPlanError,
    RosterRow,
    RowError,
    _read,
    _values,
    _xlsx,
    committee_check,
    counsellor_ratio,
    iter_roster,
    parse_roster,
    plan_import,
)

HEADER_ZH = [
    "学号",
    "姓名",
    "性别",
    "出生日期",
    "年级",
    "班级",
    "监护人姓名",
    "监护人电话",
    "心理委员",
]
ROWS_ZH = [
    ["2026001", "张三", "男", "2013-05-02", "初一", "七年级1班", "张父", "138 1234 5678", "是"],
    ["2026002", "𠮷田花", "女", "2013/5/2", "7", "1班", "李母", "025-12345678", "是"],
    ["2026003", "王五", "M", "20130502", "七年级", "(2)班", "", "", "否"],
]


def write_csv(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], *, write_only: bool = False) -> Path:
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet("学生") if write_only else book.active
    if not write_only:
        sheet.title = "学生"
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
STYLES = (  # 0 general, 1 built-in date (14), 2 Chinese custom date format
    f'<styleSheet xmlns="{MAIN_NS}"><numFmts count="1"><numFmt numFmtId="176" '
    'formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;;@"/></numFmts>'
    '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
    '<xf numFmtId="176" applyNumberFormat="1"/></cellXfs></styleSheet>'
)


def build_xlsx(path: Path, sheet_xml: str, sst_xml: str | None = None) -> Path:
    """A workbook assembled part by part, as Excel (or another tool) writes it."""
    rels = [
        f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>',
        f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/>',
    ]
    if sst_xml is not None:
        rels.append(
            f'<Relationship Id="rId3" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        + "".join(
            f'<Override PartName="/xl/{part}" ContentType="application/vnd.openxmlformats-'
            f'officedocument.spreadsheetml.{kind}+xml"/>'
            for part, kind in [
                ("workbook.xml", "sheet.main"),
                ("worksheets/sheet1.xml", "worksheet"),
                ("styles.xml", "styles"),
                ("sharedStrings.xml", "sharedStrings"),
            ]
        )
        + "</Types>",
        "_rels/.rels": f'<Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" '
        f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><bookViews>'
        '<workbookView activeTab="0"/></bookViews><sheets><sheet name="学生名单" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG_NS}">{"".join(rels)}'
        "</Relationships>",
        "xl/styles.xml": STYLES,
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if sst_xml is not None:
        parts["xl/sharedStrings.xml"] = sst_xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(
                name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text
            )
    return path


def write_excel_like(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """Excel's own layout: shared strings, a dimension, dates as styled serial numbers."""
    from xml.sax.saxutils import escape

    strings: dict[str, int] = {}
    body = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if value is None:
                continue
            if isinstance(value, bool):
                cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, dt.date):
                serial = (value - dt.date(1899, 12, 30)).days
                cells.append(f'<c r="{ref}" s="1"><v>{serial}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                index = strings.setdefault(str(value), len(strings))
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
        body.append(f'<row r="{r}" spans="1:{len(row)}">{"".join(cells)}</row>')
    sheet = (
        f'<worksheet xmlns="{MAIN_NS}"><dimension ref="A1:K{len(rows)}"/>'
        f"<sheetData>{''.join(body)}</sheetData></worksheet>"
    )
    sst = (
        f'<sst xmlns="{MAIN_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
        + "</sst>"
    )
    return build_xlsx(path, sheet, sst)


def messages(parse: RosterParse) -> list[str]:
    return [str(error) for error in parse.errors]


@pytest.fixture(params=["fast", "openpyxl"])
def xlsx_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run an XLSX test with the streaming reader and again with openpyxl's read-only mode."""
    if request.param == "openpyxl":

        def decline(path: Path, notes: list[str]) -> _read.RawRows:
            raise _xlsx.Unsupported("forced by the test")

        monkeypatch.setattr(_read, "read_xlsx", decline)
    return str(request.param)


def assert_reference_rows(parse: RosterParse) -> None:
    assert parse.errors == (), messages(parse)
    first, second, third = parse.rows
    assert first == RosterRow(
        row=2,
        student_number="2026001",
        name="张三",
        gender="male",
        grade=7,
        class_name="1班",
        class_raw="七年级1班",
        birth_date=dt.date(2013, 5, 2),
        guardian_name="张父",
        guardian_relation=None,
        guardian_phone="13812345678",
        psychology_committee=True,
        status="active",
    )
    assert (second.name, second.gender, second.grade, second.class_name) == (
        "𠮷田花",
        "female",
        7,
        "1班",
    )
    assert second.birth_date == dt.date(2013, 5, 2)
    assert second.guardian_phone == "02512345678"
    assert (third.gender, third.class_name, third.guardian_name, third.guardian_phone) == (
        "male",
        "2班",
        None,
        None,
    )
    assert third.birth_date == dt.date(2013, 5, 2)
    assert third.psychology_committee is False
    assert parse.columns["student_number"] == "学号"
    assert parse.columns["guardian_phone"] == "监护人电话"


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "roster.csv", [HEADER_ZH, *ROWS_ZH], encoding=encoding)
    if encoding == "gb18030":  # really GB18030: 𠮷 is a four-byte sequence, not UTF-8
        raw = path.read_bytes()
        assert "𠮷".encode("gb18030") in raw
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    assert _read.detect_encoding(path) == encoding
    assert_reference_rows(parse_roster(path))


def test_gbk_file_from_old_excel_is_read_as_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes("学号,姓名,性别,年级,班级\r\n2026001,张三,男,初二,3班\r\n".encode("gbk"))
    result = parse_roster(path)
    assert result.errors == ()
    assert (result.rows[0].name, result.rows[0].grade, result.rows[0].class_name) == (
        "张三",
        8,
        "3班",
    )


@pytest.mark.parametrize("delimiter", ["\t", ";", ","])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    rows = [HEADER_ZH, *ROWS_ZH]
    path = write_csv(tmp_path / "roster.txt", rows, delimiter=delimiter)
    assert_reference_rows(parse_roster(path))


def test_quoted_cells_with_commas_and_line_breaks_keep_spreadsheet_row_numbers(
    tmp_path: Path,
) -> None:
    rows = [
        ["学号", "姓名", "性别", "年级", "班级", "备注"],
        ["1", "张三", "男", "4", "1班", "住址：幸福路1号,\n2单元"],
        ["2", "李四", "X", "4", "1班", ""],
    ]
    result = parse_roster(write_csv(tmp_path / "r.csv", rows))
    assert result.rows[0].row == 2
    assert messages(result) == [
        "row 3, column 性别: gender 'X' is not recognised (性别): use 男/女, M/F or male/female"
    ]


# --------------------------------------------------------------------------- XLSX


def test_xlsx_with_date_cells_and_numbers_stored_as_numbers(
    tmp_path: Path, xlsx_engine: str
) -> None:
    rows: list[Sequence[object]] = [
        HEADER_ZH,
        [
            2026001,
            "张三",
            "男",
            dt.datetime(2013, 5, 2),
            "初一",
            "七年级1班",
            "张父",
            13812345678,
            "是",
        ],
        [2026002, "𠮷田花", "女", dt.date(2013, 5, 2), 7, "1班", "李母", "025-12345678", True],
        [2026003.0, "王五", "M", 20130502, "七年级", "(2)班", None, None, 0],
    ]
    assert_reference_rows(parse_roster(write_xlsx(tmp_path / "roster.xlsx", rows)))


def test_xlsx_in_excels_own_layout_with_shared_strings(tmp_path: Path, xlsx_engine: str) -> None:
    rows: list[Sequence[object]] = [
        HEADER_ZH,
        [
            2026001,
            "张三",
            "男",
            dt.date(2013, 5, 2),
            "初一",
            "七年级1班",
            "张父",
            13812345678,
            "是",
        ],
        ["2026002", "𠮷田花", "女", "2013/5/2", 7, "1班", "李母", "025-12345678", True],
        [2026003, "王五", "M", 20130502, "七年级", "(2)班", None, None, False],
    ]
    path = write_excel_like(tmp_path / "excel.xlsx", rows)
    assert_reference_rows(parse_roster(path))


@pytest.mark.parametrize("write_only", [True, False])
def test_xlsx_written_by_openpyxl_with_inline_strings(
    tmp_path: Path, xlsx_engine: str, write_only: bool
) -> None:
    path = write_xlsx(tmp_path / "inline.xlsx", [HEADER_ZH, *ROWS_ZH], write_only=write_only)
    with zipfile.ZipFile(path) as archive:
        assert b"inlineStr" in archive.read("xl/worksheets/sheet1.xml")
    assert_reference_rows(parse_roster(path))


def test_xlsx_reads_the_active_sheet_and_warns_about_the_others(
    tmp_path: Path, xlsx_engine: str
) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["请在“学生”表中填写"])
    students = book.create_sheet("学生")
    for row in [HEADER_ZH, *ROWS_ZH]:
        students.append(row)
    book.active = 1
    path = tmp_path / "two-sheets.xlsx"
    book.save(path)
    result = parse_roster(path)
    assert_reference_rows(result)
    assert "only the sheet 学生 is read; other sheets are ignored: 说明" in result.warnings


def test_xlsx_gaps_blank_rows_and_skipped_columns(tmp_path: Path, xlsx_engine: str) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"], sheet["D1"], sheet["E1"], sheet["F1"] = (
        "学号",
        "姓名",
        "性别",
        "年级",
        "班级",
    )
    sheet["A4"], sheet["B4"], sheet["D4"], sheet["E4"], sheet["F4"] = 7, "张三", "女", "高二", 5
    sheet["A6"], sheet["B6"], sheet["D6"], sheet["E6"], sheet["F6"] = 8, "李四", "男", 4, "4-2"
    path = tmp_path / "gaps.xlsx"
    book.save(path)
    result = parse_roster(path)
    assert result.errors == ()
    assert [(r.row, r.student_number, r.grade, r.class_name) for r in result.rows] == [
        (4, "7", 11, "5班"),
        (6, "8", 4, "2班"),
    ]


def trimmed(
    rows: Sequence[tuple[int, Sequence[object]]],
) -> list[tuple[int, tuple[object, ...]]]:
    """Rows with a value, without trailing empty cells (openpyxl pads rows to the sheet width)."""
    out = []
    for number, cells in rows:
        values = list(cells)
        while values and values[-1] is None:
            values.pop()
        if values:
            out.append((number, tuple(values)))
    return out


def test_fast_xlsx_reader_matches_openpyxl_cell_for_cell(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["text", "int", "float", "bool", "date", "datetime", "empty", "formula"])
    sheet.append(["a&b<c>", 2026001, 1.5, True, dt.date(2013, 5, 2), dt.datetime(2020, 1, 2, 3, 4)])
    sheet.append([" 前后空格 ", -3, 1e20, False, None, None, None, "=1+1"])
    sheet["J3"] = "far right"
    sheet.cell(row=3, column=5).number_format = "yyyy年m月d日"
    sheet.cell(row=3, column=5).value = 41396
    path = tmp_path / "types.xlsx"
    book.save(path)
    fast = list(_read.open_rows(path, []))
    reference = list(_read.open_rows(path, [], engine="openpyxl"))
    assert trimmed(fast) == trimmed(reference)
    assert trimmed(fast)[2][1][4] == dt.datetime(2013, 5, 2)  # a Chinese date format


def test_fast_xlsx_reader_matches_openpyxl_on_excels_layout(tmp_path: Path) -> None:
    sheet = (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"><v>41396</v></c>'
        '<c r="C1" s="2"><v>41396</v></c><c r="D1" t="b"><v>1</v></c>'
        '<c r="E1"><v>1.25E+3</v></c><c r="F1" t="e"><v>#N/A</v></c>'
        '<c r="G1" s="2"/><c r="I1" t="s" ph="1"><v>1</v></c></row>'
        '<row r="3" spans="1:2"><c r="B3" t="str"><f>A1&amp;"x"</f><v>文本x</v></c>'
        '<c r="C3" t="d"><v>2013-05-02T00:00:00</v></c></row>'
        "</sheetData></worksheet>"
    )
    sst = f'<sst xmlns="{MAIN_NS}"><si><t xml:space="preserve"> 文本 </t></si><si><t/></si></sst>'
    path = build_xlsx(tmp_path / "layout.xlsx", sheet, sst)
    fast = list(_read.open_rows(path, []))
    reference = list(_read.open_rows(path, [], engine="openpyxl"))
    expected_first = (
        " 文本 ",
        dt.datetime(2013, 5, 2),
        dt.datetime(2013, 5, 2),
        True,
        1250.0,
        "#N/A",
        None,
        None,
        "",
    )
    assert fast[0] == (1, expected_first)
    assert fast[1] == (3, (None, "文本x", dt.datetime(2013, 5, 2)))
    assert trimmed(reference) == trimmed(fast)


def test_fast_reader_handles_prefixed_xml_phonetic_guides_and_entities(tmp_path: Path) -> None:
    """What other tools write: an ``x:`` prefix (.NET SDK), rich text with <rPh> phonetic
    guides (Excel's 拼音指南), escaped characters, cells without ``r``."""
    sst = (
        f'<x:sst xmlns:x="{MAIN_NS}">'
        "<x:si><x:t>学号</x:t></x:si><x:si><x:t>姓名</x:t></x:si><x:si><x:t>性别</x:t></x:si>"
        "<x:si><x:t>年级</x:t></x:si><x:si><x:t>班级</x:t></x:si>"
        "<x:si><x:r><x:t>欧阳</x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t>娜娜</x:t></x:r>"
        '<x:rPh sb="0" eb="2"><x:t>ōu yáng</x:t></x:rPh></x:si>'
        "</x:sst>"
    )
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData>'
        '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c>'
        '<x:c r="C1" t="s"><x:v>2</x:v></x:c><x:c r="D1" t="s"><x:v>3</x:v></x:c>'
        '<x:c r="E1" t="s"><x:v>4</x:v></x:c></x:row>'
        '<x:row><x:c t="inlineStr"><x:is><x:t>A&amp;01</x:t></x:is></x:c>'
        '<x:c t="s"><x:v>5</x:v></x:c><x:c t="inlineStr"><x:is><x:t>&#x5973;</x:t></x:is></x:c>'
        '<x:c><x:v>9</x:v></x:c><x:c t="str"><x:f>"3"&amp;"班"</x:f><x:v>3班</x:v></x:c>'
        '</x:row><x:row r="4"/></x:sheetData><x:rowBreaks count="0"/></x:worksheet>'
    )
    path = build_xlsx(tmp_path / "odd.xlsx", sheet, sst)
    rows = list(_read.open_rows(path, []))
    assert rows == [
        (1, ("学号", "姓名", "性别", "年级", "班级")),
        (2, ("A&01", "欧阳娜娜", "女", 9, "3班")),
        (4, ()),
    ]
    result = parse_roster(path)
    assert result.errors == ()
    assert (result.rows[0].student_number, result.rows[0].name, result.rows[0].grade) == (
        "A&01",
        "欧阳娜娜",
        9,
    )


def test_workbook_with_a_dtd_is_refused(tmp_path: Path) -> None:
    sst = (
        '<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        f'<sst xmlns="{MAIN_NS}"><si><t>&b;</t></si></sst>'
    )
    sheet = f'<worksheet xmlns="{MAIN_NS}"><sheetData></sheetData></worksheet>'
    with pytest.raises(RosterFileError, match="DTD"):
        parse_roster(build_xlsx(tmp_path / "dtd.xlsx", sheet, sst))


def test_xlsx_float_student_number_that_lost_digits(tmp_path: Path, xlsx_engine: str) -> None:
    rows: list[Sequence[object]] = [
        ["学号", "姓名", "性别", "年级", "班级"],
        [3.20102201305021e17, "张三", "男", 4, 1],
    ]
    result = parse_roster(write_xlsx(tmp_path / "r.xlsx", rows))
    assert messages(result) == [
        "row 2, column 学号: this number is too long for an Excel number cell and has lost "
        "digits (学号); format the column as text and type it again"
    ]


# --------------------------------------------------------------------------- headers


def test_english_mixed_and_full_width_headers(tmp_path: Path) -> None:
    header = [
        "ＳＴＵＤＥＮＴ　ＮＵＭＢＥＲ",
        " Name ",
        "Sex",
        "*年级",
        "Class_Name",
        "Date of Birth",
        "性别(男/女)说明",
        "Guardian Phone",
        "PSYCHOLOGY-COMMITTEE",
        "Status",
        "备注",
    ]
    rows = [
        header,
        [
            "S-1",
            "Li Lei",
            "male",
            "Grade 4",
            "3",
            "2015.9.1",
            "",
            "13912345678",
            "Y",
            "active",
            "note",
        ],
    ]
    result = parse_roster(write_csv(tmp_path / "en.csv", rows))
    assert result.errors == (), messages(result)
    assert result.columns == {
        "student_number": "ＳＴＵＤＥＮＴ　ＮＵＭＢＥＲ",
        "name": "Name",
        "gender": "Sex",
        "grade": "*年级",
        "class_name": "Class_Name",
        "birth_date": "Date of Birth",
        "guardian_phone": "Guardian Phone",
        "psychology_committee": "PSYCHOLOGY-COMMITTEE",
        "status": "Status",
    }
    row = result.rows[0]
    assert (row.student_number, row.name, row.gender, row.grade, row.class_name) == (
        "S-1",
        "Li Lei",
        "male",
        4,
        "3班",
    )
    assert row.birth_date == dt.date(2015, 9, 1)
    assert row.psychology_committee is True
    assert result.warnings == (
        "column 性别(男/女)说明 is not a roster field and is ignored (未识别的列)",
        "column 备注 is not a roster field and is ignored (未识别的列)",
    )


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("学号", "student_number"),
        ("学籍号", "student_number"),
        ("student number", "student_number"),
        ("Student_Number", "student_number"),
        ("姓名", "name"),
        ("性别（男/女）", "gender"),
        ("sex", "gender"),
        ("出生日期", "birth_date"),
        ("birth_date", "birth_date"),
        ("年级", "grade"),
        ("班级", "class_name"),
        ("class", "class_name"),
        ("监护人姓名", "guardian_name"),
        ("监护人关系", "guardian_relation"),
        ("监护人电话", "guardian_phone"),
        ("监护人手机", "guardian_phone"),
        ("guardian_phone", "guardian_phone"),
        ("心理委员", "psychology_committee"),
        ("psychology_committee", "psychology_committee"),
        ("状态", "status"),
        ("备注", None),
    ],
)
def test_header_synonyms(header: str, field: str | None) -> None:
    from survey_service.rosters._headers import field_of

    assert field_of(header) == field


def test_missing_required_column_is_one_error_on_the_header(tmp_path: Path) -> None:
    rows = [["学号", "姓名", "年级", "班级"], ["1", "张三", "4", "1"], ["2", "", "4", "1"]]
    result = parse_roster(write_csv(tmp_path / "r.csv", rows))
    assert messages(result) == [
        "row 1, column 性别: required column is missing (缺少必填列); accepted headers include "
        "性别, gender, sex",
        "row 3, column 姓名: required value is empty (必填)",
    ]
    assert result.rows == ()
    assert not result.ok


def test_two_columns_for_one_field(tmp_path: Path) -> None:
    rows = [
        ["学号", "全国学籍号", "姓名", "性别", "年级", "班级", "姓名"],
        ["1", "G1", "张三", "男", "4", "1", "张三"],
    ]
    result = parse_roster(write_csv(tmp_path / "r.csv", rows))
    assert "column 全国学籍号 is ignored: column 学号 has the same meaning" in result.warnings
    assert messages(result) == [
        "row 1, column 姓名: duplicate column: 姓名 appears twice (重复的列)"
    ]


def test_title_rows_above_the_header(tmp_path: Path) -> None:
    rows = [
        ["南京市某某中学2026级学生名单"],
        [],
        ["学号", "姓名", "性别", "年级", "班级"],
        ["1", "张三", "男", "初一", "1班"],
        ["2", "李四", "未知", "初一", "1班"],
    ]
    result = parse_roster(write_csv(tmp_path / "r.csv", rows))
    assert result.warnings == ("row 1 above the header (row 3) skipped as a title (标题行)",)
    assert result.rows[0].row == 4
    assert messages(result) == [
        "row 5, column 性别: gender '未知' is not recognised (性别): use 男/女, M/F or male/female"
    ]


# --------------------------------------------------------------------------- bad rows


def test_every_bad_row_is_reported_with_row_column_and_reason(tmp_path: Path) -> None:
    rows = [
        ["学号", "姓名", "性别", "出生日期", "年级", "班级", "监护人电话", "心理委员", "状态"],
        ["2026001", "张三", "男", "2013-05-02", "七年级", "1班", "13812345678", "是", "在读"],
        ["2026002", "", "女", "2013-05-02", "七年级", "1班", "", "", ""],
        ["2026003", "李四", "未知", "2013-05-02", "七年级", "1班", "", "", ""],
        ["2026004", "王五", "男", "2013-05-02", "十三年级", "1班", "", "", ""],
        ["2026005", "赵六", "女", "2013-05-02", "七年级", "1班", "1381234567", "", ""],
        ["2026006", "钱七", "男", "2013-02-30", "七年级", "1班", "", "", ""],
        ["2026001", "孙八", "女", "2013-05-02", "七年级", "2班", "", "", ""],
        [],
        ["2026009", "周九", "男", "", "2023级", "", "", "也许", "休假"],
        ["2026010", "吴十", "女", "", "初一", "八年级3班", "", "", ""],
        ["2.02601E+06", "郑一", "男", "", "4", "1", "", "", ""],
    ]
    result = parse_roster(write_csv(tmp_path / "bad.csv", rows))
    assert messages(result) == [
        "row 3, column 姓名: required value is empty (必填)",
        "row 4, column 性别: gender '未知' is not recognised (性别): use 男/女, M/F or male/female",
        "row 5, column 年级: grade '十三年级' is not recognised (年级): use 1-12, 七年级, "
        "初一 or 高一",
        "row 6, column 监护人电话: phone '1381234567' is not a mainland mobile (11 digits "
        "starting with 1) or a landline with its area code (电话号码)",
        "row 7, column 出生日期: date '2013-02-30' is not a valid date (出生日期): use "
        "YYYY-MM-DD, e.g. 2013-05-02",
        "row 8, column 学号: duplicate student number 2026001 (学号重复): first on row 2",
        "row 10, column 年级: '2023级' looks like an entry cohort, not a grade (年级): use 1-12, "
        "七年级, 初一 or 高一",
        "row 10, column 班级: required value is empty (必填)",
        "row 10, column 心理委员: '也许' is not yes or no (心理委员): use 是/否, Y/N or 1/0",
        "row 10, column 状态: status '休假' is not recognised (状态): use 在读, 转出 or 离校",
        "row 11, column 班级: class '八年级3班' is in grade 8 but the grade column (年级) says 7",
        "row 12, column 学号: 2.02601E+06 is in scientific notation, so Excel has lost digits "
        "(学号); format the column as text and export again",
    ]
    assert [row.student_number for row in result.rows] == ["2026001"]
    assert not result.ok
    assert all(isinstance(e, RowError) for e in result.errors)


def test_empty_rows_are_skipped_and_an_empty_roster_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert messages(parse_roster(empty)) == ["row 1: the file is empty: no header row (文件为空)"]
    header_only = write_csv(tmp_path / "h.csv", [["学号", "姓名", "性别", "年级", "班级"], [], []])
    assert messages(parse_roster(header_only)) == [
        "row 2: the file has no student rows (没有学生数据)"
    ]


def test_files_that_are_not_rosters(tmp_path: Path) -> None:
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(RosterFileError, match=r"legacy \.xls"):
        parse_roster(xls)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04not really a zip")
    with pytest.raises(RosterFileError, match=r"not a readable \.xlsx"):
        parse_roster(fake)
    binary = tmp_path / "image.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(RosterFileError, match="neither UTF-8 nor GB18030"):
        parse_roster(binary)
    assert issubclass(RosterFileError, ValueError)


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("written", "grade"),
    [
        ("7", 7),
        ("07", 7),
        ("七年级", 7),
        ("7年级", 7),
        ("初一", 7),
        ("初中一年级", 7),
        ("初一年级", 7),
        ("初二", 8),
        ("初三", 9),
        ("高一", 10),
        ("高中一年级", 10),
        ("高二", 11),
        ("高三", 12),
        ("四年级", 4),
        ("小学四年级", 4),
        ("小一", 1),
        ("Grade 4", 4),
        ("G9", 9),
        ("１２", 12),
        ("十二年级", 12),
        ("十年级", 10),
        ("预初", 6),
        ("初中七年级", 7),
        ("一年级", 1),
    ],
)
def test_grade_mapping(written: str, grade: int) -> None:
    assert _values.parse_grade(written) == grade


@pytest.mark.parametrize("written", ["0", "13", "十三年级", "初四", "高中四年级", "大一", "2023级"])
def test_grades_refused(written: str) -> None:
    assert isinstance(_values.parse_grade(written), _values.Bad)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1班", ("1班", None)),
        ("3", ("3班", None)),
        ("01", ("1班", None)),
        ("七年级1班", ("1班", 7)),
        ("初一(3)班", ("3班", 7)),
        ("初一（3）班", ("3班", 7)),
        ("（2）班", ("2班", None)),
        ("一班", ("1班", None)),
        ("十二班", ("12班", None)),
        ("高二 5 班", ("5班", 11)),
        ("7-1", ("1班", 7)),
        ("class 4", ("4班", None)),
        ("实验班", ("实验班", None)),
        ("七年级实验班", ("实验班", 7)),
        ("701班", ("701班", None)),
    ],
)
def test_class_names(written: str, expected: tuple[str, int | None]) -> None:
    assert _values.parse_class(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("025-12345678", "02512345678"),
        ("(0512) 6512 3456", "051265123456"),
        ("0512-6512345", "05126512345"),
        ("010-12345678", "01012345678"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
    ],
)
def test_phones(written: object, expected: str) -> None:
    assert _values.parse_phone(written) == expected


@pytest.mark.parametrize(
    "written", ["1381234567", "138123456789", "12812345678", "12345678", "025-1234", "abc"]
)
def test_phones_refused(written: str) -> None:
    assert isinstance(_values.parse_phone(written), _values.Bad)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2013-05-02", dt.date(2013, 5, 2)),
        ("2013/5/2", dt.date(2013, 5, 2)),
        ("20130502", dt.date(2013, 5, 2)),
        ("2013.5.2", dt.date(2013, 5, 2)),
        ("2013年5月2日", dt.date(2013, 5, 2)),
        ("2013-05-02 00:00:00", dt.date(2013, 5, 2)),
        (dt.datetime(2013, 5, 2), dt.date(2013, 5, 2)),
        (20130502, dt.date(2013, 5, 2)),
    ],
)
def test_dates(written: object, expected: dt.date) -> None:
    assert _values.parse_date(written) == expected


@pytest.mark.parametrize("written", ["2013-13-01", "02/05/2013", "41396", "1850-01-01", "明天"])
def test_dates_refused(written: str) -> None:
    assert isinstance(_values.parse_date(written), _values.Bad)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("男", "male"),
        ("女", "female"),
        ("M", "male"),
        ("f", "female"),
        ("Male", "male"),
        ("FEMALE", "female"),
        ("男生", "male"),
        ("Ｆ", "female"),
    ],
)
def test_genders(written: str, expected: str) -> None:
    assert _values.parse_gender(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("是", True),
        ("否", False),
        ("yes", True),
        ("No", False),
        ("Y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        ("√", True),
        ("", False),
        ("TRUE", True),
    ],
)
def test_committee_yes_no(written: str, expected: bool) -> None:
    assert _values.parse_yes_no(written) is expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("在读", "active"),
        ("在校", "active"),
        ("", "active"),
        ("Active", "active"),
        ("转出", "transferred"),
        ("转学", "transferred"),
        ("transferred", "transferred"),
        ("离校", "left"),
        ("毕业", "left"),
        ("graduated", "left"),
        ("left", "left"),
    ],
)
def test_statuses(written: str, expected: str) -> None:
    assert _values.parse_status(written) == expected


def test_names_are_tidied() -> None:
    assert _values.parse_name("张 三") == "张三"
    assert _values.parse_name("张\u3000三") == "张三"
    assert _values.parse_name("  Li   Lei ") == "Li Lei"
    assert _values.parse_name("阿依古丽·买买提") == "阿依古丽·买买提"
    assert _values.parse_name("张\u200b三") == "张三"  # a zero-width space pasted from the web
    assert _values.parse_student_number("2026\u200b001") == "2026001"
    assert isinstance(_values.parse_name("长" * 101), _values.Bad)


# --------------------------------------------------------------------------- streaming


def test_iter_roster_streams_and_knows_its_columns_up_front(tmp_path: Path) -> None:
    rows = [
        ["学号", "姓名", "性别", "年级", "班级", "备注"],
        ["1", "张三", "男", "4", "1", ""],
        ["2", "李四", "?", "4", "1", ""],
    ]
    with iter_roster(write_csv(tmp_path / "r.csv", rows)) as stream:
        assert stream.columns["name"] == "姓名"
        assert stream.header_row == 1
        assert stream.warnings == ["column 备注 is not a roster field and is ignored (未识别的列)"]
        first = next(stream)
        assert isinstance(first, RosterRow) and first.name == "张三"
        second = next(stream)
        assert isinstance(second, RowError) and second.row == 3
        with pytest.raises(StopIteration):
            next(stream)


def test_iter_roster_closes_the_workbook(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [HEADER_ZH, *ROWS_ZH])
    stream = iter_roster(path)
    next(stream)
    stream.close()
    path.unlink()  # nothing holds the file open (matters on Windows; harmless here)


def test_twenty_thousand_rows_parse_without_errors(tmp_path: Path) -> None:
    def rows() -> Iterator[list[str]]:
        yield ["学号", "姓名", "性别", "出生日期", "年级", "班级", "监护人电话", "心理委员", "状态"]
        for i in range(20_000):
            grade = 4 + i % 9
            yield [
                f"S{i:07d}",
                f"学生{i}",
                "男" if i % 2 else "女",
                f"{2008 + i % 8}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                f"{grade}年级",
                f"{grade}年级{1 + i % 15}班",
                f"139{i:08d}",
                "是" if i % 20 < 2 else "否",
                "在读",
            ]

    path = write_csv(tmp_path / "big.csv", list(rows()), encoding="utf-8-sig")
    result = parse_roster(path)
    assert result.errors == ()
    assert len(result.rows) == 20_000
    assert len({row.student_number for row in result.rows}) == 20_000
    assert result.rows[-1].row == 20_001


NAME_CHARS = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) | st.characters(
    min_codepoint=0x20000, max_codepoint=0x2A6DF
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    students=st.lists(
        st.tuples(
            st.text(NAME_CHARS, min_size=1, max_size=6),
            st.sampled_from(["男", "女"]),
            st.integers(1, 12),
            st.integers(1, 30),
        ),
        min_size=1,
        max_size=15,
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    delimiter=st.sampled_from([",", "\t", ";"]),
)
def test_any_roster_round_trips_through_any_encoding_and_delimiter(
    students: list[tuple[str, str, int, int]], encoding: str, delimiter: str
) -> None:
    rows = [["学号", "姓名", "性别", "年级", "班级"]] + [
        [f"{i:04d}", name, gender, f"{grade}年级", f"{klass}班"]
        for i, (name, gender, grade, klass) in enumerate(students)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / "r.csv", rows, encoding=encoding, delimiter=delimiter)
        result = parse_roster(path)
    assert result.errors == ()
    assert [(r.name, r.gender, r.grade, r.class_name) for r in result.rows] == [
        (name, "male" if gender == "男" else "female", grade, f"{klass}班")
        for name, gender, grade, klass in students
    ]


# --------------------------------------------------------------------------- import plan


def as_existing(rows: Sequence[RosterRow]) -> dict[str, ExistingStudent]:
    """What the school holds after applying a roster (what the service layer would load)."""
    return {
        r.student_number: ExistingStudent(
            student_number=r.student_number,
            name=r.name,
            gender=r.gender,
            grade=r.grade,
            class_name=r.class_name,
            birth_date=r.birth_date,
            guardian_name=r.guardian_name,
            guardian_relation=r.guardian_relation,
            guardian_phone=r.guardian_phone,
            psychology_committee=bool(r.psychology_committee),
            status=r.status,
        )
        for r in rows
    }


HEADER_PLAN = ["学号", "姓名", "性别", "年级", "班级", "监护人电话", "心理委员", "状态"]


def test_second_year_reimport(tmp_path: Path) -> None:
    year1 = [
        HEADER_PLAN,
        ["2025001", "张三", "男", "七年级", "1班", "13812345678", "是", "在读"],
        ["2025002", "李四", "女", "七年级", "1班", "13812345679", "是", "在读"],
        ["2025003", "王五", "男", "七年级", "2班", "", "否", "在读"],
        ["2025004", "赵六", "女", "七年级", "2班", "", "否", "在读"],
        ["2025005", "钱七", "女", "七年级", "2班", "", "否", "在读"],
    ]
    year2 = [
        HEADER_PLAN,
        ["2025001", "张三", "男", "八年级", "1班", "13812345678", "是", "在读"],  # moved up
        ["2025002", "李四", "女", "八年级", "1班", "13812345679", "是", "在读"],  # moved up
        ["2025003", "王小五", "男", "八年级", "2班", "", "否", "在读"],  # renamed
        ["2025004", "赵六", "女", "八年级", "2班", "", "否", "转出"],  # transferred out
        ["2026101", "孙八", "男", "八年级", "2班", "", "否", "在读"],  # new
    ]  # 钱七 (2025005) is not in the file: marked as left, never deleted
    first = parse_roster(write_csv(tmp_path / "2025.csv", year1))
    assert first.ok
    initial = plan_import({}, first.rows)
    assert initial.counts == rosters.ImportCounts(
        create=5, update=0, unchanged=0, mark_left=0, skipped=0
    )
    second = parse_roster(write_csv(tmp_path / "2026.csv", year2))
    assert second.ok
    plan = plan_import(as_existing(first.rows), second.rows)
    assert plan.counts == rosters.ImportCounts(
        create=1, update=3, unchanged=0, mark_left=2, skipped=0
    )
    assert [r.student_number for r in plan.create] == ["2026101"]
    assert [(u.student_number, u.changed) for u in plan.update] == [
        ("2025001", ("grade",)),
        ("2025002", ("grade",)),
        ("2025003", ("name", "grade")),
    ]
    assert plan.mark_left == (
        rosters.StudentLeave("2025004", "transferred", "transferred", 5),
        rosters.StudentLeave("2025005", "left", "not_in_file", None),
    )
    # applying the same file again changes nothing
    after: dict[str, ExistingStudent] = as_existing(second.rows)
    after["2025005"] = msgspec.structs.replace(as_existing(first.rows)["2025005"], status="left")
    again = plan_import(after, second.rows)
    assert again.counts == rosters.ImportCounts(
        create=0, update=0, unchanged=5, mark_left=0, skipped=0
    )


def test_plan_never_clears_what_the_file_does_not_give() -> None:
    current = ExistingStudent(
        student_number="1",
        name="张三",
        gender="male",
        grade=7,
        class_name="1班",
        birth_date=dt.date(2013, 5, 2),
        guardian_name="张父",
        guardian_relation="父亲",
        guardian_phone="13812345678",
        psychology_committee=True,
    )
    row = RosterRow(
        row=2,
        student_number="1",
        name="张三",
        gender="male",
        grade=7,
        class_name="1班",
        class_raw="七年级1班",
    )
    plan = plan_import({"1": current}, [row])
    assert plan.unchanged == ("1",)
    changed_phone = RosterRow(
        row=2,
        student_number="1",
        name="张三",
        gender="male",
        grade=7,
        class_name="1班",
        class_raw="1班",
        guardian_phone="13900000000",
        psychology_committee=False,
    )
    update = plan_import({"1": current}, [changed_phone]).update[0]
    assert update.changed == ("guardian_phone", "psychology_committee")


def test_plan_reactivates_a_returning_student_and_skips_unknown_leavers() -> None:
    gone = ExistingStudent(
        student_number="1", name="张三", gender="male", grade=8, class_name="1班", status="left"
    )
    back = RosterRow(
        row=2,
        student_number="1",
        name="张三",
        gender="male",
        grade=8,
        class_name="1班",
        class_raw="1班",
    )
    stranger = RosterRow(
        row=3,
        student_number="9",
        name="李四",
        gender="female",
        grade=8,
        class_name="1班",
        class_raw="1班",
        status="transferred",
    )
    plan = plan_import({"1": gone}, [back, stranger])
    assert [(u.student_number, u.changed) for u in plan.update] == [("1", ("status",))]
    assert plan.skipped == (stranger,)
    assert plan.create == () and plan.mark_left == ()


def test_plan_refuses_inconsistent_input() -> None:
    row = RosterRow(
        row=2,
        student_number="1",
        name="张三",
        gender="male",
        grade=8,
        class_name="1班",
        class_raw="1班",
    )
    with pytest.raises(RosterPlanError, match="appears twice"):
        plan_import({}, [row, row])
    wrong_key = ExistingStudent(
        student_number="2", name="x", gender=None, grade=8, class_name="1班"
    )
    with pytest.raises(RosterPlanError, match="keyed"):
        plan_import({"1": wrong_key}, [row])
    assert issubclass(RosterPlanError, ValueError)


# --------------------------------------------------------------------------- checks


def _member(grade: int, klass: str, gender: str, committee: bool | None) -> RosterRow:
    return RosterRow(
        row=2,
        student_number=f"{grade}{klass}{gender}{committee}",
        name="x",
        gender="male" if gender == "m" else "female",
        grade=grade,
        class_name=klass,
        class_raw=klass,
        psychology_committee=committee,
    )


def test_committee_check() -> None:
    rows = [
        _member(7, "10班", "f", True),
        _member(7, "10班", "f", True),
        _member(7, "10班", "m", False),
        _member(7, "2班", "m", True),
        _member(7, "2班", "f", True),
        _member(3, "1班", "m", False),
        _member(4, "1班", "f", True),
    ]
    rows.append(
        RosterRow(
            row=9,
            student_number="gone",
            name="x",
            gender="male",
            grade=7,
            class_name="10班",
            class_raw="10班",
            psychology_committee=True,
            status="transferred",
        )
    )
    checks = committee_check(rows)
    assert [(c.grade, c.class_name, c.required, c.ok) for c in checks] == [
        (3, "1班", False, True),
        (4, "1班", True, False),
        (7, "2班", True, True),
        (7, "10班", True, False),
    ]
    two_girls = checks[3]
    assert (two_girls.students, two_girls.members, two_girls.boys, two_girls.girls) == (3, 2, 0, 2)
    assert two_girls.problems == ("needs at least one boy among the committee members (男生)",)
    assert checks[1].problems == (
        "needs at least 2 psychology committee members (心理委员), has 1",
        "needs at least one boy among the committee members (男生)",
    )


def test_committee_check_accepts_existing_students() -> None:
    students = [
        ExistingStudent(
            student_number="1",
            name="a",
            gender="male",
            grade=5,
            class_name="1班",
            psychology_committee=True,
        ),
        ExistingStudent(
            student_number="2",
            name="b",
            gender="female",
            grade=5,
            class_name="1班",
            psychology_committee=True,
        ),
    ]
    assert [c.ok for c in committee_check(students)] == [True]


def test_counsellor_ratio() -> None:
    check = counsellor_ratio(1_200, 2, 0)
    assert (check.required_part_time, check.missing_part_time, check.ok) == (3, 1, False)
    assert check.problems == (
        "1200 students need 3 part-time mental-health teachers (兼职心理健康教育教师, 1:500); "
        "2 in post, 1 missing",
    )
    assert counsellor_ratio(1_000, 2, 1).ok
    assert counsellor_ratio(1_001, 2, 1).missing_part_time == 1
    nobody = counsellor_ratio(300, 0, 0)
    assert nobody.missing_part_time == 1 and len(nobody.problems) == 2
    assert counsellor_ratio(0, 0, 0).ok
    with pytest.raises(RosterPlanError):
        counsellor_ratio(-1, 0, 0)


def test_public_api_is_pure() -> None:
    """The roster package never imports the web framework or the database layer."""
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in Path(rosters.__file__).parent.glob("*.py")
    )
    assert not re.search(r"^\s*(from|import)\s+(sqlalchemy|litestar)", source, re.M)
