from django.apps import AppConfig


class LeadImportsConfig(AppConfig):
    """CSV/XLSX import and export of leads (no models: ImportJob lives in leads)."""

    name = "leads.imports"
    label = "lead_imports"
    verbose_name = "Lead import and export"
