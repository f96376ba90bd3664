"""HTTP API: thin handlers over :mod:`survey_service.services`."""
