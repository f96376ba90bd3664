"""Help lines shown on every student-facing reply (DESIGN.md, china-policy.md)."""

from __future__ import annotations

from survey_service.db import School
from survey_service.screening.schemas import HelpContact


def help_contacts(school: School | None) -> list[HelpContact]:
    """National lines first, then the city line and the school's counselling room."""
    contacts = [
        HelpContact(
            name={"zh-CN": "全国心理援助热线", "en": "National psychological assistance hotline"},
            contact="12356",
        ),
        HelpContact(name={"zh-CN": "青少年服务台", "en": "Youth helpline"}, contact="12355"),
        HelpContact(
            name={"zh-CN": "紧急情况请拨打 110 或 120", "en": "In an emergency call 110 or 120"},
            contact="110 / 120",
        ),
    ]
    if school is not None and school.city_help_line:
        contacts.append(
            HelpContact(
                name={"zh-CN": "本市心理援助热线", "en": "City mental-health line"},
                contact=school.city_help_line,
            )
        )
    if school is not None and school.counselling_room:
        contacts.append(
            HelpContact(
                name={"zh-CN": "学校心理辅导室", "en": "School counselling room"},
                contact=school.counselling_room,
            )
        )
    return contacts
