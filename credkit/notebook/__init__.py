"""Jupyter widgets for credkit: the import wizard and the export panel (the ``notebook`` extra)."""

# The core package never imports this one: ipywidgets and ipydatagrid are optional.
from credkit.export import ExportFilters
from credkit.notebook.export_panel import ExportPanel
from credkit.notebook.runbook import RunbookDirectory, connect_runbook
from credkit.notebook.wizard import ImportWizard

__all__ = ["ExportFilters", "ExportPanel", "ImportWizard", "RunbookDirectory", "connect_runbook"]
