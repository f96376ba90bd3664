"""Page text: campaign_detail (issue 13). Merged into ``survey_service.pages.i18n``."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {"zh-CN": {}, "en": {}}
LABELS: dict[str, dict[str, tuple[str, str]]] = {}
