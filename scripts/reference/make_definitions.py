"""Generate the shipped definitions added for issue 3 (instruments/definitions/*.json).

Item, option, title and instruction texts are copied verbatim from
``shared/reference/instrument-texts.md`` (next to the repository, as in CI) by parsing it, so no
text is retyped or translated; PHQ-2 and GAD-2 copy items 1-2 of the shipped PHQ-9 and GAD-7.
Scoring rules and sources come from ``shared/reference/instruments.md`` and the issue.

Run from the repository root::

    .venv/bin/python scripts/reference/make_definitions.py [--reference PATH] [--check]

``--check`` compares instead of writing and exits 1 when a file would change.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "instruments" / "definitions"
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference" / "instrument-texts.md"

PFIZER_LICENCE = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with "
    "an educational grant from Pfizer Inc. No permission required to reproduce, translate, "
    "display or distribute."
)
TEXTS_NOTE = (
    "Item texts are copied from shared/reference/instrument-texts.md, which infers the published "
    "wording from many reproductions; check against the publisher PDF before release."
)
NO_RULE = (
    "No missing-data rule was found in the developer's materials (instruments.md). Project rule "
    "(issue 3): when the manual says nothing, the form is unscorable if any item is missing; "
    "no proration."
)


# --------------------------------------------------------------------------- reference parsing


class Reference:
    """Sections of instrument-texts.md, with line-wrapped paragraphs kept as written."""

    def __init__(self, text: str) -> None:
        self.text = text

    def section(self, number: int) -> str:
        match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", self.text, re.MULTILINE | re.DOTALL)
        if match is None:
            raise SystemExit(f"section {number} not found in the reference")
        return match.group(0)

    @staticmethod
    def after(section: str, marker: str) -> str:
        at = section.find(marker)
        if at < 0:
            raise SystemExit(f"marker {marker!r} not found")
        return section[at + len(marker) :]

    @staticmethod
    def numbered(text: str, count: int) -> list[str]:
        """The first ``count`` lines ``N. text`` numbered 1..count, in order."""
        found: list[str] = []
        for line in text.splitlines():
            match = re.match(r"^(\d+)\. (.+)$", line)
            if match and int(match.group(1)) == len(found) + 1:
                found.append(match.group(2).strip())
                if len(found) == count:
                    return found
        raise SystemExit(f"found {len(found)} numbered items, expected {count}")

    @staticmethod
    def paragraph(text: str, marker: str) -> str:
        """The paragraph that starts right after ``marker``, line breaks joined by spaces."""
        body = Reference.after(text, marker)
        lines = []
        for line in body.splitlines():
            if not line.strip():
                break
            lines.append(line.strip())
        return " ".join(lines)


def sentence(text: str, start: str, end: str) -> str:
    """The substring of ``text`` from ``start`` to the first ``end`` after it.

    Line breaks (the markdown wraps long lines) are joined with single spaces first.
    """
    text = re.sub(r"\s*\n\s*", " ", text)
    at = text.find(start)
    if at < 0:
        raise SystemExit(f"{start!r} not found")
    stop = text.find(end, at)
    if stop < 0:
        raise SystemExit(f"{end!r} not found after {start!r}")
    return text[at : stop + len(end)]


# --------------------------------------------------------------------------- building blocks


def options(pairs: list[tuple[int, dict[str, str]]]) -> dict[str, Any]:
    values = [v for v, _ in pairs]
    return {
        "min": min(values),
        "max": max(values),
        "options": [{"value": v, "text": t} for v, t in pairs],
    }


def items(
    texts: list[dict[str, str]], option_set: str, codes: list[dict[str, str]] | None = None
) -> list[dict[str, Any]]:
    out = []
    for k, text in enumerate(texts, start=1):
        item: dict[str, Any] = {"id": f"item{k}", "text": text, "options": option_set}
        if codes is not None and codes[k - 1]:
            item["codes"] = codes[k - 1]
        out.append(item)
    return out


def ids(*numbers: int) -> list[str]:
    return [f"item{k}" for k in numbers]


def band(code: str, low: int, high: int, source: str) -> dict[str, Any]:
    return {"code": code, "min": low, "max": high, "source": source}


def scale(
    scale_id: str,
    numbers: list[int] | range,
    value_range: tuple[int, int],
    missing: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": scale_id,
        "items": ids(*numbers),
        "method": "sum",
        "range": list(value_range),
        "missing": missing,
    }
    out.update(extra)
    return out


def complete(source: str = NO_RULE) -> dict[str, Any]:
    return {"rule": "complete", "source": source}


# Who answers each generated form (issue 11), with its source. A campaign refuses a parent- or
# teacher-report form in a student battery.
RESPONDENTS: dict[str, tuple[str, str]] = {
    "phq2": (
        "self",
        "Self-report: items 1-2 of the self-administered PHQ-9 (Kroenke, Spitzer & Williams "
        "2003, Med Care 41:1284; instruments.md section 2).",
    ),
    "gad2": (
        "self",
        "Self-report: items 1-2 of the GAD-7, 'a brief self-report scale' (Spitzer et al. 2006; "
        "Kroenke et al. 2007; instruments.md section 2).",
    ),
    "ces-dc": (
        "self",
        "Self-report by the child: Weissman, Orvaschel & Padian 1980, 'Children's symptom and "
        "social functioning self-report scales'; the instructions address the child ('how much "
        "you have felt this way', instrument-texts.md section 8).",
    ),
    "scared": (
        "self",
        "The child version (instrument-texts.md section 9: 'SCARED - CHILD Version'); SCARED "
        "has child and parent forms (instruments.md section 2) and only the child form is "
        "shipped.",
    ),
    "psc17": (
        "parent",
        "PSC-17 parent report (instruments.md section 2: 'PSC-17 (parent report, ages 4-16)'); "
        "the MGH form asks the parent to describe 'your child' (instrument-texts.md section "
        "10). The youth self-report PSC-17-Y is not shipped.",
    ),
    "who5": (
        "self",
        "Self-report: the items are statements about the person answering ('I have felt ...', "
        "instrument-texts.md section 6).",
    ),
    "k6": (
        "self",
        "Self-administered: Harvard NCS / US NHIS K6 (instrument-texts.md section 7, version A).",
    ),
    "k10": (
        "self",
        "Self-administered: the K10 uses all ten items of the self-administered Harvard NCS "
        "form (instrument-texts.md section 7, version A); the items ask how often 'you' felt.",
    ),
}


def document(**fields: Any) -> dict[str, Any]:
    order = [
        "format", "id", "version", "title", "instructions", "languages", "licence", "citation",
        "min_age", "max_age", "age_source", "respondent", "respondent_source", "codes",
        "option_sets", "items", "scoring", "notes",
    ]  # fmt: skip
    respondent, respondent_source = RESPONDENTS[fields["id"]]
    fields = {
        "format": 1,
        "version": "1.0.0",
        "respondent": respondent,
        "respondent_source": respondent_source,
        **fields,
    }
    return {key: fields[key] for key in order if key in fields}


# --------------------------------------------------------------------------- PHQ-2 / GAD-2


def two_item(source_id: str) -> dict[str, Any]:
    """PHQ-2 / GAD-2: items 1-2 of the shipped PHQ-9 / GAD-7, texts and options copied."""
    parent = json.loads((DEFINITIONS / f"{source_id}.json").read_text(encoding="utf-8"))
    first_two = parent["items"][:2]
    option_set = first_two[0]["options"]
    if source_id == "phq9":
        new_id, title = "phq2", "PHQ-2"
        citation = (
            "Kroenke K, Spitzer RL, Williams JBW. The Patient Health Questionnaire-2: validity of "
            "a two-item depression screener. Med Care 2003;41(11):1284-1292."
        )
        cut_source = (
            "Kroenke K, Spitzer RL, Williams JBW. Med Care 2003;41(11):1284-1292: a PHQ-2 score "
            "of 3 or more screens positive (instruments.md section 2 [S])."
        )
        codes = {"loinc": "55757-9", "loinc_total": "55758-7"}
        zh_source = (
            "Items 1-2, options and instruction of the shipped Chinese (Simplified) PHQ-9 (Pfizer "
            "translation as widely reproduced; validated as the PHQ-9 by 卞崔冬 et al. 2009 and "
            "Wang W et al. 2014)."
        )
        age = (13, "As the PHQ-9: adult instrument, also used with adolescents 13-17.")
        extra_notes = [
            "LOINC: total 55758-7 [V]; panel 55757-9 is [S] (instruments.md).",
            "The PHQ-2 cut-off of 3 was not separately validated in Chinese adolescents in the "
            "sources here; the Chinese text is that of the validated PHQ-9.",
            "The zh-CN title is the instrument's name PHQ-2; no Chinese title was found and none "
            "is made up.",
        ]
    else:
        new_id, title = "gad2", "GAD-2"
        citation = (
            "Kroenke K, Spitzer RL, Williams JBW, Monahan PO, Löwe B. Anxiety disorders in primary "
            "care: prevalence, impairment, comorbidity, and detection. Ann Intern Med "
            "2007;146(5):317-325."
        )
        cut_source = (
            "Kroenke K et al. Ann Intern Med 2007;146(5):317-325: a GAD-2 score of 3 or more "
            "screens positive (instruments.md section 2 [S])."
        )
        codes = {}
        zh_source = (
            "Items 1-2, options and instruction of the shipped Chinese GAD-7 (validated by 何筱衍 "
            "et al. 2010, 上海精神医学 22(4):200-203; item text from copies)."
        )
        age = (13, "As the GAD-7: adult instrument; adolescent use reported. From 13.")
        extra_notes = [
            "No LOINC code for the GAD-2 panel was verified; the item codes are the GAD-7 ones.",
            "The zh-CN instruction is the PHQ-9 sentence that the Chinese GAD-7 appears to reuse "
            "[U]; option 2 is 超过一周 [S] (see gad7).",
            "The zh-CN title is the instrument's name GAD-2; no Chinese title was found and none "
            "is made up.",
        ]
    bands = [
        band("negative", 0, 2, cut_source),
        band("positive", 3, 6, cut_source),
    ]
    return document(
        id=new_id,
        title={"en": title, "zh-CN": title},
        instructions=parent["instructions"],
        languages={
            "en": {
                "status": "validated",
                "source": f"Items 1-2 of the shipped English {parent['title']['en']}; "
                + parent["languages"]["en"]["source"],
            },
            "zh-CN": {
                "status": "validated",
                "source": zh_source,
                "note": "Check against the phqscreeners.com Chinese (Simplified) PDF before "
                "release.",
            },
        },
        licence=PFIZER_LICENCE,
        citation=citation,
        min_age=age[0],
        max_age=120,
        age_source=age[1] + " 120 means no upper limit.",
        codes=codes,
        option_sets={"frequency": parent["option_sets"]["frequency"]}
        if isinstance(option_set, str)
        else {},
        items=[
            {key: value for key, value in item.items() if key in ("id", "text", "options", "codes")}
            for item in first_two
        ],
        scoring={
            "scored_items": ids(1, 2),
            "total": scale(
                "total",
                [1, 2],
                (0, 6),
                complete(),
                bands=bands,
                cutoff={"min": 3, "source": cut_source},
            ),
        },
        notes=[
            TEXTS_NOTE,
            f"The same two items as items 1-2 of {source_id}; same options and instruction.",
            *extra_notes,
        ],
    )


# --------------------------------------------------------------------------- CES-DC


def ces_dc(ref: Reference) -> dict[str, Any]:
    sec = ref.section(8)
    texts = ref.numbered(ref.after(sec, "**Items (EN) [V].**"), 20)
    instructions = sentence(
        sec, "Below is a list of the ways", "how much you have felt this way during the past week."
    )
    cut = (
        "Weissman, Orvaschel & Padian 1980 'used the cutoff score of 15'; Bright Futures: 'scores "
        "over 15 can be indicative' (instruments.md section 2). Project decision (issue 11, "
        "replacing issue 3's 'over 15'): the boundary is ambiguous, and for a screen that leads "
        "to a person seeing the student the doubt goes to the student: a total of 15 or more is "
        "positive, the cut-off score Weissman et al. used."
    )
    labels = ["Not At All", "A Little", "Some", "A Lot"]
    return document(
        id="ces-dc",
        title={"en": "Center for Epidemiological Studies Depression Scale for Children (CES-DC)"},
        instructions={"en": instructions},
        languages={
            "en": {
                "status": "validated",
                "source": "Weissman MM, Orvaschel H, Padian N. J Nerv Ment Dis "
                "1980;168(12):736-740; wording as reproduced in the Bright Futures toolkit "
                "(instrument-texts.md section 8).",
            }
        },
        licence="Usually described as public domain (NIMH-funded; Weissman, Orvaschel & Padian "
        "1980; reprinted in the Bright Futures toolkit). No rights-holder statement was retrieved "
        "[U]: confirm before release.",
        citation="Weissman MM, Orvaschel H, Padian N. Children's symptom and social functioning "
        "self-report scales: comparison of mothers' and children's reports. J Nerv Ment Dis "
        "1980;168(12):736-740.",
        min_age=6,
        max_age=17,
        age_source="CES-DC: ages 6-17, best for 12-18 (instruments.md section 2).",
        option_sets={"frequency": options([(v, {"en": label}) for v, label in enumerate(labels)])},
        items=items([{"en": t} for t in texts], "frequency"),
        scoring={
            "scored_items": ids(*range(1, 21)),
            "reverse_items": ids(4, 8, 12, 16),
            "total": scale(
                "total",
                range(1, 21),
                (0, 60),
                complete(),
                cutoff={"min": 15, "source": cut},
            ),
        },
        notes=[
            TEXTS_NOTE,
            "Items 4, 8, 12 and 16 are positively worded and reverse-keyed: they score 3 - answer "
            "(Bright Futures instructions). Conditions on these items see the raw answer.",
            "No severity bands are published; the result has a screening cut-off only (band is "
            "null, positive says whether the total is 15 or more).",
            "No validated Simplified Chinese text was found; the partial (items 1-7) translation "
            "of unknown origin is not shipped (instrument-texts.md section 8).",
        ],
    )


# --------------------------------------------------------------------------- SCARED


SCARED_SUBSCALES = [
    ("panic_somatic", [1, 6, 9, 12, 15, 18, 19, 22, 24, 27, 30, 34, 38], 7),
    ("generalized_anxiety", [5, 7, 14, 21, 23, 28, 33, 35, 37], 9),
    ("separation_anxiety", [4, 8, 13, 16, 20, 25, 29, 31], 5),
    ("social_anxiety", [3, 10, 26, 32, 39, 40, 41], 8),
    ("school_avoidance", [2, 11, 17, 36], 3),
]


def scared(ref: Reference) -> dict[str, Any]:
    sec = ref.section(9)
    en = ref.numbered(ref.after(sec, "**Items (EN) [V]**"), 41)
    zh_part = ref.after(sec, "**Chinese version B")
    zh = ref.numbered(zh_part, 41)
    directions = ref.paragraph(sec, "**Directions (EN) [V].** ")
    zh_instructions = sentence(zh_part, "请你根据最近3个月", "注意不要漏项。")
    sheet = (
        "Birmaher B et al. 1999 scoring sheet, as reproduced on the NIH FITBIR data-element page "
        "and in the GPSC toolkit (instruments.md section 2 [V])"
    )
    labels = [
        ("Not True or Hardly Ever True", "没有此问题"),
        ("Somewhat True or Sometimes True", "有时有"),
        ("Very True or Often True", "经常有"),
    ]
    subscales = [
        scale(
            sid, numbers, (0, 2 * len(numbers)), complete(),
            cutoff={"min": cut, "source": f"{sheet}: {sid.replace('_', ' ')} {cut} or more."},
        )
        for sid, numbers, cut in SCARED_SUBSCALES
    ]  # fmt: skip
    return document(
        id="scared",
        title={
            "en": "Screen for Child Anxiety Related Disorders (SCARED)",
            "zh-CN": "儿童焦虑性情绪障碍筛查表（SCARED）",
        },
        instructions={"en": directions, "zh-CN": zh_instructions},
        languages={
            "en": {
                "status": "validated",
                "source": "Birmaher B et al. SCARED child version, official form (Western "
                "Psychiatric Institute and Clinic, 1995), as transcribed in several agreeing "
                "copies (instrument-texts.md section 9 [V]).",
            },
            "zh-CN": {
                "status": "unvalidated",
                "source": "Chinese version B, probably the Changsha line (苏林雁/王凯; norms: "
                "王凯, 苏林雁 et al. 儿童焦虑性情绪障碍筛查表的中国城市常模, 2002): "
                "items 1-28 from "
                "https://www.360docs.net/doc/4113960610.html, items 29-41 from repository code "
                "(instrument-texts.md section 9 [S]).",
                "note": "Not yet checked against the 王凯/苏林雁 2002 paper; items 6, 21 and 30 "
                "drift from the English and may be in the validated version itself. Confirm "
                "before treating it as validated.",
            },
        },
        licence="Developed by Boris Birmaher, M.D., Suneeta Khetarpal, M.D., Marlane Cully, "
        "M.Ed., David Brent, M.D., and Sandra McKenzie, Ph.D., Western Psychiatric Institute and "
        "Clinic, University of Pittsburgh (October, 1995). Widely described as free to use; no "
        "permission text was retrieved [U]: confirm with UPMC / Pitt before release.",
        citation="Birmaher B, Brent DA, Chiappetta L, Bridge J, Monga S, Baugher M. Psychometric "
        "properties of the Screen for Child Anxiety Related Emotional Disorders (SCARED): a "
        "replication study. J Am Acad Child Adolesc Psychiatry 1999;38(10):1230-1236.",
        min_age=8,
        max_age=18,
        age_source="SCARED-41: ages 8-18 (instruments.md section 2).",
        option_sets={
            "truth": options([(v, {"en": e, "zh-CN": z}) for v, (e, z) in enumerate(labels)])
        },
        items=items([{"en": e, "zh-CN": z} for e, z in zip(en, zh, strict=True)], "truth"),
        scoring={
            "scored_items": ids(*range(1, 42)),
            "total": scale(
                "total",
                range(1, 42),
                (0, 82),
                complete(),
                cutoff={
                    "min": 25,
                    "source": f"{sheet}: a total of 25 or more may indicate an anxiety disorder "
                    "(over 30 is more specific).",
                },
            ),
            "subscales": subscales,
        },
        notes=[
            TEXTS_NOTE,
            "Item 20 is scored in Separation anxiety as on the scoring sheet (one copy of the "
            "form labels it PN).",
            "Chinese studies use a total cut-off of 23 (Changsha norms); the published 25 is "
            "kept. A 12-city study found poor fit for the 5-factor structure.",
            "No severity bands are published; total and subscales carry cut-offs only.",
            "No missing-data rule was found; any missing item makes the total (and the subscale "
            "holding it) unscorable.",
        ],
    )


# --------------------------------------------------------------------------- PSC-17


PSC_SUBSCALES = [
    ("internalizing", [2, 6, 9, 11, 15], 5),
    ("attention", [1, 3, 7, 13, 17], 7),
    ("externalizing", [4, 5, 8, 10, 12, 14, 16], 7),
]


def psc17(ref: Reference) -> dict[str, Any]:
    sec = ref.section(10)
    raw = ref.numbered(ref.after(sec, "**Items (EN) [V]**"), 17)
    texts = [re.sub(r" \([AIE]\)( \(.*\))?$", "", t) for t in raw]
    instructions = sentence(
        sec,
        "Emotional and physical health",
        "Please indicate which statement best describes your child.",
    )
    zero_fill = {
        "rule": "zero_fill",
        "max_missing": 3,
        "blanks_in": "form",
        "source": "PSC-17 scoring instructions (instruments.md section 2 [S]): blank items count "
        "as 0; four or more blanks on the form make it invalid (total and every subscale).",
    }
    gardner = "Gardner W et al. Ambulatory Child Health 1999;5:225-236 (instruments.md [V])"
    subscales = [
        scale(
            sid, numbers, (0, 2 * len(numbers)), zero_fill,
            cutoff={"min": cut, "source": f"{gardner}: {sid} {cut} or more."},
        )
        for sid, numbers, cut in PSC_SUBSCALES
    ]  # fmt: skip
    return document(
        id="psc17",
        title={"en": "Pediatric Symptom Checklist 17 (PSC-17)"},
        instructions={"en": instructions},
        languages={
            "en": {
                "status": "validated",
                "source": "Official MGH PSC-17 parent form, item order as on the form "
                "(instrument-texts.md section 10 [V]).",
            }
        },
        licence="© 1998, M. Jellinek & J.M. Murphy, Massachusetts General Hospital. 17-item "
        "version created by W. Gardner & K. Kelleher. MGH: 'In order to encourage the widest "
        "possible access to screening, the PSC can be downloaded and used free of charge.'",
        citation="Gardner W, Murphy M, Childs G, et al. The PSC-17: a brief pediatric symptom "
        "checklist with psychosocial problem subscales. A report from PROS and ASPN. Ambulatory "
        "Child Health 1999;5:225-236.",
        min_age=4,
        max_age=16,
        age_source="PSC-17 parent report, ages 4-16 (instruments.md section 2): the age of the "
        "child the parent reports on.",
        option_sets={
            "frequency": options(
                [(v, {"en": label}) for v, label in enumerate(["Never", "Sometimes", "Often"])]
            )
        },
        items=items([{"en": t} for t in texts], "frequency"),
        scoring={
            "scored_items": ids(*range(1, 18)),
            "total": scale(
                "total",
                range(1, 18),
                (0, 34),
                zero_fill,
                cutoff={"min": 15, "source": f"{gardner}: a total of 15 or more screens positive."},
            ),
            "subscales": subscales,
        },
        notes=[
            TEXTS_NOTE,
            "Parent-report form. The youth self-report PSC-17-Y is not shipped: its text is not "
            "in instrument-texts.md.",
            "Item 11 uses the wording 'Seems to be having less fun' (one copy has 'Seems to have "
            "less fun').",
            "No Chinese text was found (a validated teacher-version translation exists in a "
            "paper, text not available); English only.",
            "No severity bands are published; total and subscales carry cut-offs only.",
        ],
    )


# --------------------------------------------------------------------------- WHO-5


def who5(ref: Reference) -> dict[str, Any]:
    sec = ref.section(6)
    texts = ref.numbered(ref.after(sec, "**Items (EN) [V].**"), 5)
    instructions = sentence(sec, "Please indicate for each of the five", "over the last two weeks.")
    labels = [
        (5, "All of the time"), (4, "Most of the time"), (3, "More than half of the time"),
        (2, "Less than half of the time"), (1, "Some of the time"), (0, "At no time"),
    ]  # fmt: skip
    topp = "Topp CW et al. Psychother Psychosom 2015;84(3):167-176"
    poor = (
        f"{topp}; WHO-5 guidance: a raw score below 13 (percentage 50 or less) indicates poor "
        "well-being and is a reason to test for depression."
    )
    likely = f"{topp}: a raw score of 7 or less (percentage 28 or less) suggests likely depression."
    single = (
        "WHO 1998 guidance (instruments.md section 2 [S]): any single item scored 0 or 1 is also "
        "a reason to test for depression. Project decision: it makes the screen positive "
        "whatever the total (the band still follows the total); it is not a flag, because flags "
        "are reserved for safety items."
    )
    return document(
        id="who5",
        title={"en": "WHO-5 Well-Being Index"},
        instructions={"en": instructions},
        languages={
            "en": {
                "status": "validated",
                "source": "WHO-5 Well-Being Index (WHO 1998; Psychiatric Centre North Zealand), "
                "wording as reproduced in several agreeing copies (instrument-texts.md section 6 "
                "[V]).",
            }
        },
        licence="© World Health Organization, 1998: 'The WHO-5 questionnaire may be freely used "
        "by anyone free of charge.' The WHO 2024 publication (WHO/UCN/MSD/MHE/2024.01) is under "
        "CC BY-NC-SA 3.0 IGO: non-commercial use, adaptations shared alike [S]. Check against the "
        "project licence and any paid deployment before release; cite the source.",
        citation="Topp CW, Østergaard SD, Søndergaard S, Bech P. The WHO-5 Well-Being Index: a "
        "systematic review of the literature. Psychother Psychosom 2015;84(3):167-176. World "
        "Health Organization. WHO-5 Well-Being Index (1998).",
        min_age=9,
        max_age=120,
        age_source="Validated from about age 9 (Allgaier et al. 2012; instruments.md section 2). "
        "120 means no upper limit.",
        option_sets={"frequency": options([(v, {"en": label}) for v, label in labels])},
        items=items([{"en": t} for t in texts], "frequency"),
        scoring={
            "scored_items": ids(*range(1, 6)),
            "total": scale(
                "total",
                range(1, 6),
                (0, 25),
                complete(),
                bands=[
                    band("adequate", 13, 25, poor),
                    band("poor_wellbeing", 8, 12, poor),
                    band("likely_depression", 0, 7, likely),
                ],
            ),
            "positive": {
                "when": {
                    "op": "any",
                    "of": [
                        {"op": "score", "scale": "total", "max": 12},
                        {"op": "count", "items": ids(*range(1, 6)), "values": [0, 1], "min": 1},
                    ],
                },
                "source": f"{poor} {single}",
            },
        },
        notes=[
            TEXTS_NOTE,
            "Higher is better: bands are declared from adequate (13-25) down to likely "
            "depression (0-7); 'highest_band' means the most severe band, likely_depression.",
            "Positive = raw total 12 or less OR any single item 0 or 1 (WHO guidance). A student "
            "with a total of 13 or more and one item at 0 or 1 is band 'adequate' and positive.",
            "The percentage score is raw x 4 (0-100); it is not stored. A 10-point change in "
            "percentage is meaningful.",
            "No official Chinese translation was found; the app versions that circulate disagree "
            "and are not used (instrument-texts.md section 6). English only.",
        ],
    )


# --------------------------------------------------------------------------- K6 / K10


def kessler(ref: Reference) -> tuple[dict[str, Any], dict[str, Any]]:
    sec = ref.section(7)
    version_a = ref.after(sec, "**Version A")
    letters = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\s+([a-j])\. …(.+?)\?( \*)?$", version_a, re.MULTILINE)
    }
    if len(letters) != 10:
        raise SystemExit(f"K10 items: found {len(letters)}")
    lead_in = sentence(
        version_a, "The following questions ask about", "how often you had this feeling."
    )
    stem_us = sentence(version_a, "During the past 30 days, about how often", "feel…")
    version_b = ref.after(sec, "**Version B")
    stem_au = sentence(version_b, "In the past 4 weeks, about how often", "feel…")
    so_sad = re.search(r'item 9 reads "([^"]+)"', version_b)
    if so_sad is None:
        raise SystemExit("K10 Australian item 9 not found")
    k6_order = re.search(
        r"The K6 item order on the NHIS/PhenX form is: (.+?) \[V\]", sec, re.DOTALL
    )
    if k6_order is None:
        raise SystemExit("K6 order not found")
    k6_texts = [t.strip() for t in re.sub(r"\s+", " ", k6_order.group(1)).split("·")]
    if not all(t in letters.values() for t in k6_texts) or len(k6_texts) != 6:
        raise SystemExit(f"K6 items do not match the K10 list: {k6_texts}")
    # Australian form order: item 8 'that everything was an effort', item 9 'so sad ...'.
    k10_texts = [letters[c] for c in "abcdefg"] + [letters["i"], so_sad.group(1), letters["j"]]

    licence = (
        "Harvard NCS: 'Use of the K6 and K10 is free and does not require any formal permission "
        "or approval. We do ask that you please cite the below article and include the copyright "
        "when using these scales.' Copyright © Ronald C. Kessler, PhD. All rights reserved."
    )
    no_rule = (
        "No authoritative missing-data rule was found (instruments.md [U]). Project rule "
        "(issue 3): any missing item makes the form unscorable."
    )
    us_labels = [
        (4, "All of the time"), (3, "Most of the time"), (2, "Some of the time"),
        (1, "A little of the time"), (0, "None of the time"),
    ]  # fmt: skip
    au_labels = [
        (1, "None of the time"), (2, "A little of the time"), (3, "Some of the time"),
        (4, "Most of the time"), (5, "All of the time"),
    ]  # fmt: skip
    age = (
        "Adult instrument (Kessler 2002/2003, general-population adults). instruments.md gives no "
        "adolescent age range; lower min_age only with a source. 120 means no upper limit."
    )
    k6_cut = (
        "Kessler RC et al. Arch Gen Psychiatry 2003;60(2):184-189: a K6 total of 13 or more "
        "(0-4 scoring) indicates serious psychological distress (instruments.md [V])."
    )
    k6 = document(
        id="k6",
        title={"en": "K6"},
        instructions={"en": f"{lead_in}\n{stem_us}"},
        languages={
            "en": {
                "status": "validated",
                "source": "Harvard NCS / US NHIS K6, self-administered, past 30 days; item order "
                "of the NHIS/PhenX form (instrument-texts.md section 7, version A [V]).",
            }
        },
        licence=licence,
        citation="Kessler RC, Barker PR, Colpe LJ, et al. Screening for serious mental illness "
        "in the general population. Arch Gen Psychiatry 2003;60(2):184-189.",
        min_age=18,
        max_age=120,
        age_source=age,
        option_sets={"frequency": options([(v, {"en": t}) for v, t in us_labels])},
        items=items([{"en": t} for t in k6_texts], "frequency"),
        scoring={
            "scored_items": ids(*range(1, 7)),
            "coding": {
                "id": "us_0_4",
                "source": "Harvard NCS / NHIS scoring: All of the time 4, Most 3, Some 2, A "
                "little 1, None of the time 0; total 0-24 (instrument-texts.md section 7).",
            },
            "total": scale(
                "total",
                range(1, 7),
                (0, 24),
                complete(no_rule),
                bands=[
                    band("below_cutoff", 0, 12, k6_cut),
                    band("serious_distress", 13, 24, k6_cut),
                ],
                cutoff={"min": 13, "source": k6_cut},
            ),
        },
        notes=[
            TEXTS_NOTE,
            "The instruction is the published lead-in and, on its own line, the stem 'During the "
            "past 30 days, about how often did you feel…'; each item text completes the stem "
            "(the copies print it as '…nervous?').",
            "Coding: US 0-4 (us_0_4), stored in scoring.coding. Do not mix with the K10 "
            "Australian 1-5 coding.",
            "No Chinese text was found (NSW TMHC PDF or 周成超 2008 appendix needed); English "
            "only.",
        ],
    )
    abs_source = (
        "ABS 4817.0.55.001, after Andrews G, Slade T. Aust N Z J Public Health "
        "2001;25(6):494-497 (instruments.md [V]): K10 10-15 low, 16-21 moderate, 22-29 high, "
        "30-50 very high (Australian 1-5 scoring)."
    )
    k10 = document(
        id="k10",
        title={"en": "Kessler Psychological Distress Scale (K10)"},
        instructions={"en": stem_au},
        languages={
            "en": {
                "status": "validated",
                "source": "Australian K10 (past 4 weeks, 1-5 scoring; item 9 'so sad that nothing "
                "could cheer you up'), instrument-texts.md section 7, version B [V].",
            }
        },
        licence=licence,
        citation="Kessler RC, Andrews G, Colpe LJ, et al. Short screening scales to monitor "
        "population prevalences and trends in non-specific psychological distress. Psychol Med "
        "2002;32(6):959-976. Andrews G, Slade T. Interpreting scores on the Kessler Psychological "
        "Distress Scale (K10). Aust N Z J Public Health 2001;25(6):494-497.",
        min_age=18,
        max_age=120,
        age_source=age,
        option_sets={"frequency": options([(v, {"en": t}) for v, t in au_labels])},
        items=items([{"en": t} for t in k10_texts], "frequency"),
        scoring={
            "scored_items": ids(*range(1, 11)),
            "coding": {
                "id": "australian_1_5",
                "source": "Australian K10 scoring (ABS 4817.0.55.001): None of the time 1, A "
                "little 2, Some 3, Most 4, All of the time 5; total 10-50. The US coding is 0-4 "
                "(0-40); never mix them.",
            },
            "total": scale(
                "total",
                range(1, 11),
                (10, 50),
                complete(no_rule),
                bands=[
                    band("low", 10, 15, abs_source),
                    band("moderate", 16, 21, abs_source),
                    band("high", 22, 29, abs_source),
                    band("very_high", 30, 50, abs_source),
                ],
            ),
        },
        notes=[
            TEXTS_NOTE,
            "Each item text completes the stem 'In the past 4 weeks, about how often did you "
            "feel…'.",
            "Item order follows the Australian form: item 8 'that everything was an effort', "
            "item 9 'so sad that nothing could cheer you up' (the Harvard list in "
            "instrument-texts.md has 'so depressed that nothing could cheer you up' before "
            "'that everything was an effort') [U]: check against the ABS/NSW form.",
            "No published screening cut-off is given in instruments.md, so positive is null; "
            "the result is the band.",
            "No Chinese text was found (NSW TMHC 'Kessler 10 Chinese Simplified' PDF or 周成超 "
            "2008 appendix needed); English only.",
        ],
    )
    return k6, k10


# --------------------------------------------------------------------------- main


def build(reference: Path) -> dict[str, dict[str, Any]]:
    ref = Reference(reference.read_text(encoding="utf-8"))
    k6, k10 = kessler(ref)
    return {
        "phq2": two_item("phq9"),
        "gad2": two_item("gad7"),
        "ces-dc": ces_dc(ref),
        "scared": scared(ref),
        "psc17": psc17(ref),
        "who5": who5(ref),
        "k6": k6,
        "k10": k10,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    changed = []
    for name, doc in build(args.reference).items():
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        path = DEFINITIONS / f"{name}.json"
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                changed.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
    if changed:
        print(f"would change: {', '.join(changed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
