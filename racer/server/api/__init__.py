"""The JSON API under ``/api`` (its schema: ``/openapi.json``, its docs: ``/docs``)."""
