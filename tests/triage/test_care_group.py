"""Care-group roles: what each sees of a case, and a well-formed care group."""

from __future__ import annotations

import pytest

from triage import (
    CARE_ROLES,
    CASE_PARTS,
    VISIBILITY,
    CareGroupError,
    CareMember,
    can_see,
    check_care_group,
    check_phone,
    visibility,
)


def test_matrix_covers_every_role_and_part() -> None:
    assert set(VISIBILITY) == set(CARE_ROLES)
    for role in CARE_ROLES:
        assert set(VISIBILITY[role]) == set(CASE_PARTS)
        assert set(VISIBILITY[role].values()) <= {"all", "own", "none"}


@pytest.mark.parametrize("role", CARE_ROLES)
def test_only_the_counsellor_sees_answers_and_scores(role: str) -> None:
    for part in ("answers", "scores", "reasons"):
        assert can_see(role, part, own=True) == (role == "counsellor")  # type: ignore[arg-type]


def test_head_teacher_never_sees_answers_or_scores() -> None:
    assert not can_see("head_teacher", "answers")
    assert not can_see("head_teacher", "scores")
    assert not can_see("head_teacher", "answers", own=True)
    assert can_see("head_teacher", "plan")
    assert can_see("head_teacher", "talk_notes")
    assert can_see("head_teacher", "contact_details")


def test_peer_supporter_sees_only_their_own_tasks() -> None:
    seen = {part for part in CASE_PARTS if can_see("peer_supporter", part, own=True)}
    assert seen == {"tasks"}
    assert not can_see("peer_supporter", "tasks")
    assert visibility("peer_supporter", "tasks") == "own"


def test_guardians_see_nothing_inside_the_system() -> None:
    assert not any(can_see("guardian", part, own=True) for part in CASE_PARTS)


def test_counsellor_sees_everything_and_escalation_roles_see_what_they_act_on() -> None:
    assert all(can_see("counsellor", part) for part in CASE_PARTS)
    assert can_see("school_lead", "tasks") and can_see("school_lead", "contact_details")
    assert {p for p in CASE_PARTS if can_see("district_officer", p)} == {"tasks"}
    assert can_see("teacher", "plan") and not can_see("teacher", "tasks")
    assert can_see("teacher", "tasks", own=True)


def test_unknown_role_or_part() -> None:
    with pytest.raises(CareGroupError, match="unknown care role 'parent'"):
        can_see("parent", "tasks")  # type: ignore[arg-type]
    with pytest.raises(CareGroupError, match="unknown case part 'diary'"):
        can_see("counsellor", "diary")  # type: ignore[arg-type]


GROUP = (
    CareMember(role="counsellor", person_id="c1", name="王老师"),
    CareMember(role="head_teacher", person_id="h1", name="李老师"),
    CareMember(role="teacher", person_id="t1", name="赵老师"),
    CareMember(
        role="guardian", person_id="g1", name="陈女士", relation="母亲", phone="138 0000 0000"
    ),
    CareMember(role="peer_supporter", person_id="s9", name="小周"),
)


def test_a_complete_care_group_passes() -> None:
    assert check_care_group(GROUP) == GROUP
    assert check_care_group(GROUP[:4]) == GROUP[:4]  # the peer supporter is optional


@pytest.mark.parametrize(
    ("members", "words"),
    [
        (GROUP[1:], "at least one counsellor"),
        ((GROUP[0], *GROUP[2:]), "exactly one head_teacher, got 0"),
        (GROUP[:3], "at least one guardian"),
        ((*GROUP, GROUP[4]), "already a peer_supporter"),
        (
            (*GROUP, CareMember(role="school_lead", person_id="x", name="x")),
            "not a care-group role",
        ),
        (
            (*GROUP[:3], CareMember(role="guardian", person_id="g", name="陈女士")),
            "members[3].relation is required",
        ),
        (
            (
                *GROUP[:3],
                CareMember(
                    role="guardian", person_id="g", name="x", relation="父亲", phone="call me"
                ),
            ),
            "members[3].phone is not a phone number",
        ),
    ],
)
def test_malformed_care_groups(members: tuple[CareMember, ...], words: str) -> None:
    with pytest.raises(CareGroupError, match=words.replace("[", r"\[").replace("]", r"\]")):
        check_care_group(members)


def test_phone_numbers() -> None:
    for good in ("110", "12356", "+86 138-0000-0000", " 025 8371 2977 "):
        assert check_phone(good) == good.strip()
    for bad in ("12", "phone", "+", "1-", "1" * 21):
        with pytest.raises(ValueError, match="not a phone number"):
            check_phone(bad)
