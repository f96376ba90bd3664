"""FHIR over the API and the command line (issue 15): a shipped instrument as a Questionnaire
(public), a stored response as a QuestionnaireResponse (the counsellor of the student's school
only, audited; the operator through ``runxin responses export``, audited as ``cli``), and the
``runxin instruments export/import/check`` round trip.

Real parts: the app in process on a manual clock, SQLite and PostgreSQL, the CLI's own code.
R4B's Questionnaire and QuestionnaireResponse are identical to R4's (see
tests/instruments/test_fhir.py), so ``fhir.resources.R4B`` validates R4 resources of both.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from page_support import api_submit, sql, uid
from svc_support import app_client, battery_answers, make_settings, runxin_here, seed

from instruments.fhir import ORDINAL_VALUE
from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
FHIR_JSON = "application/fhir+json"


def _login(http: httpx.Client, user: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": user, "password": "pw-test-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _ordinals(questionnaire: dict[str, Any]) -> dict[tuple[str, str], float]:
    out = {}
    for item in questionnaire["item"]:
        for option in item.get("answerOption", []):
            for ext in option.get("extension", []):
                if ext["url"] == ORDINAL_VALUE:
                    out[(item["linkId"], option["valueCoding"]["code"])] = ext["valueDecimal"]
    return out


def _score_of(resource: dict[str, Any], questionnaire: dict[str, Any]) -> float:
    ordinals = _ordinals(questionnaire)
    return sum(
        ordinals.get((item["linkId"], item["answer"][0]["valueCoding"]["code"]), 0)
        for item in resource["item"]
    )


@pytest.mark.sqlite_only
def test_questionnaire_is_public_valid_and_shipped_only(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        r = http.get("/api/v1/instruments/phq9/fhir")  # signed out: public
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(FHIR_JSON)
        resource = r.json()
        Questionnaire.model_validate(resource)
        assert resource["language"] == "zh-CN" and resource["code"][0]["code"] == "44249-1"
        en = http.get("/api/v1/instruments/gad7/fhir", params={"lang": "en"}).json()
        assert en["language"] == "en" and en["title"].startswith("Generalized Anxiety")
        missing = http.get("/api/v1/instruments/sdq/fhir")
        assert missing.status_code == 404 and "instrument_not_found" in missing.text
        bad = http.get("/api/v1/instruments/phq9/fhir", params={"lang": "fr"})
        assert bad.status_code == 400 and "lang" in bad.json()["detail"]
        assert http.get("/api/v1/instruments/PHQ9%00/fhir").status_code == 400


def _submitted(database_url: str, code: str, http: httpx.Client) -> dict[str, Any]:
    api_submit(http, code, battery_answers({"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}, gad7=2))
    rows = sql(
        database_url,
        "SELECT r.id, r.instrument_id, r.student_id, st.school_id, s.total, st.name "
        "FROM responses r JOIN scores s ON s.response_id = r.id "
        "JOIN students st ON st.id = r.student_id",
    )
    return {
        instrument: {"id": uid(rid), "student": uid(student), "school": uid(school),
                     "total": total, "name": name}
        for rid, instrument, student, school, total, name in rows
    }  # fmt: skip


def test_response_export_for_the_counsellor_scored_scoped_and_audited(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        stored = _submitted(database_url, seeded.access_codes[0], http)
        assert set(stored) == {"phq9", "gad7", "asq"}
        ((own_school,),) = sql(
            database_url,
            "SELECT code FROM schools WHERE id = :s",
            s=uuid.UUID(stored["phq9"]["school"]),
        )
        n = seeded.school_codes.index(own_school) + 1
        counsellor = _login(http, f"counsellor{n}")
        for instrument in ("phq9", "gad7"):
            row = stored[instrument]
            r = http.get(f"/api/v1/responses/{row['id']}/fhir", headers=counsellor)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith(FHIR_JSON)
            assert r.headers["cache-control"] == "no-store"
            resource = r.json()
            QuestionnaireResponse.model_validate(resource)
            assert resource["status"] == "completed" and resource["id"] == row["id"]
            assert resource["questionnaire"].endswith(f"/Questionnaire/{instrument}|1.0.0")
            assert "subject" not in resource and row["name"] not in r.text
            questionnaire = http.get(f"/api/v1/instruments/{instrument}/fhir").json()
            assert _score_of(resource, questionnaire) == row["total"]
        assert stored["gad7"]["total"] == 14  # seven items answered 2: the scores are real
        with_subject = http.get(
            f"/api/v1/responses/{stored['asq']['id']}/fhir",
            params={"subject": "true"},
            headers=counsellor,
        ).json()
        assert with_subject["subject"] == {"reference": f"Patient/{stored['asq']['student']}"}
        rows = sql(
            database_url,
            "SELECT actor_role, subject_ids, detail FROM audit_log "
            "WHERE action = 'response.fhir_export'",
        )
        assert len(rows) == 3
        details = [json.loads(d) if isinstance(d, str) else d for _, _, d in rows]
        assert {d["response_id"] for d in details} == {stored[i]["id"] for i in stored}
        assert {d["subject"] for d in details} == {0, 1}
        for role, subjects, _ in rows:
            ids = json.loads(subjects) if isinstance(subjects, str) else subjects
            assert role == "counsellor" and ids == [stored["asq"]["student"]]

        # Refusals: roles without the permission (403, audited as a denial), another school's
        # counsellor and a missing response (404, like a missing one).
        target = f"/api/v1/responses/{stored['phq9']['id']}/fhir"
        for user in (f"lead{n}", f"admin{n}", "district1", "auditor1"):
            r = http.get(target, headers=_login(http, user))
            assert r.status_code == 403 and "forbidden_role" in r.text, (user, r.text)
        other = _login(http, f"counsellor{3 - n}")
        assert http.get(target, headers=other).status_code == 404
        missing = http.get(f"/api/v1/responses/{uuid.uuid4()}/fhir", headers=counsellor)
        assert missing.status_code == 404 and "response_not_found" in missing.text
        assert http.get(target).status_code == 401
        denied = sql(
            database_url,
            "SELECT count(*) FROM audit_log WHERE action = 'access.denied' AND actor_role = :r",
            r="school_lead",
        )
        assert denied == [(1,)]
        # Nothing was exported on a refusal.
        assert sql(
            database_url, "SELECT count(*) FROM audit_log WHERE action = 'response.fhir_export'"
        ) == [(3,)]


@pytest.mark.sqlite_only
def test_cli_exports_a_response_audited_as_the_operator(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        stored = _submitted(database_url, seeded.access_codes[0], http)
        questionnaire = http.get("/api/v1/instruments/phq9/fhir").json()
    db = ("--database-url", database_url)
    done = runxin_here("responses", "export", stored["phq9"]["id"], "--format", "fhir", *db)
    assert done.returncode == 0, done.stderr
    resource = json.loads(done.stdout)
    QuestionnaireResponse.model_validate(resource)
    assert _score_of(resource, questionnaire) == stored["phq9"]["total"]
    rows = sql(
        database_url,
        "SELECT actor_id, actor_role FROM audit_log WHERE action = 'response.fhir_export'",
    )
    assert rows == [(None, "cli")]
    missing = runxin_here("responses", "export", str(uuid.uuid4()), "--format", "fhir", *db)
    assert missing.returncode == 1 and missing.stderr.strip() == "runxin: No such response"
    bad = runxin_here("responses", "export", "not-an-id", "--format", "fhir", *db)
    assert bad.returncode == 1 and "is not a response id" in bad.stderr


@pytest.mark.sqlite_only
def test_cli_export_import_check_round_trip(database_url: str, tmp_path: Path) -> None:
    db = ("--database-url", database_url)
    out = tmp_path / "ces-dc.fhir.json"
    done = runxin_here(
        "instruments", "export", "ces-dc", "--format", "fhir", "--out", str(out), *db
    )
    assert done.returncode == 0, done.stderr
    Questionnaire.model_validate_json(out.read_text(encoding="utf-8"))
    printed = runxin_here("instruments", "export", "phq9", "--format", "fhir", "--lang", "en", *db)
    assert json.loads(printed.stdout)["language"] == "en"
    unknown = runxin_here("instruments", "export", "sdq", "--format", "fhir", *db)
    assert unknown.returncode == 1 and "unknown instrument" in unknown.stderr

    draft = tmp_path / "draft.json"
    done = runxin_here("instruments", "import", str(out), "--out", str(draft))
    assert done.returncode == 0, done.stderr
    document = json.loads(draft.read_text(encoding="utf-8"))
    assert document["scoring"]["reverse_items"] == ["item4", "item8", "item12", "item16"]
    checked = runxin_here("instruments", "check", str(draft))
    assert checked.returncode == 1
    lines = checked.stderr.strip().splitlines()
    assert lines[0].startswith(f"{draft}: $.version: '1.0.0-draft'")
    assert lines[1].startswith(f"{draft}: $.notes[0]: DRAFT: imported from FHIR")
    assert lines[-1] == f"runxin: {draft}: 2 problem(s)"

    # Finished by hand: the version set and the notes removed -> a valid definition.
    document.update(version="1.0.0", notes=[])
    draft.write_text(json.dumps(document), encoding="utf-8")
    assert runxin_here("instruments", "check", str(draft)).returncode == 0
    shipped = Path(__file__).resolve().parents[2] / "instruments" / "definitions" / "gad7.json"
    assert runxin_here("instruments", "check", str(shipped)).returncode == 0

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resourceType": "Questionnaire", "id": "b", "item": [
        {"linkId": "a", "type": "boolean"}]}), encoding="utf-8")  # fmt: skip
    failed = runxin_here("instruments", "import", str(bad), "--out", str(tmp_path / "no.json"))
    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        f"runxin: {bad}: Questionnaire.item[0].type: 'boolean' cannot be mapped: Runxin items "
        "are choices with numeric values"
    )
    assert not (tmp_path / "no.json").exists()
